"""Secure by default: security headers on every kind of response, nothing a curator
types can run script for a reader, the admin's login throttle and staff-only
access, and clear 4xx answers to bad or oversized requests.

The settings themselves (check --deploy, required variables, ADMIN_PATH) are
tested in tests/test_settings.py."""

import importlib.util
import re
from html.parser import HTMLParser
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.http import QueryDict
from django.test import Client, RequestFactory, override_settings
from django.urls import include, path, reverse

from briefs.models import Brief, BriefSection, FeaturedPractice
from config import security
from config import urls as site_urls
from config.security import MAX_QUERY_STRING_BYTES, PERMISSIONS_POLICY
from practices.listing import list_practices
from practices.models import PracticeSource, Project
from practices.templatetags.practices_tags import markdown
from tests.factories import (
    make_brief,
    make_country,
    make_instrument,
    make_practice,
    make_project,
    make_theme,
)
from tests.test_site import public_pages

pytestmark = pytest.mark.django_db

ADMIN_LOGIN = "/admin/login/"


# --- a test URLconf: the site plus a view that fails, for the 500 page ----------------


def broken_view(request):
    raise RuntimeError("A bug, for the 500 page test.")


urlpatterns = [path("broken/", broken_view), path("", include(site_urls))]
handler500 = getattr(site_urls, "handler500", "django.views.defaults.server_error")


# --- helpers --------------------------------------------------------------------------


def assert_security_headers(response, what):
    """The headers every response carries (the static-file ones are checked apart)."""
    csp = response.get("Content-Security-Policy", "")
    assert csp, f"{what}: no Content-Security-Policy"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, (what, csp)
    assert "default-src 'self'" in csp, (what, csp)
    assert "object-src 'none'" in csp, (what, csp)
    assert "frame-ancestors 'none'" in csp, (what, csp)
    assert "base-uri 'self'" in csp, (what, csp)
    assert response["X-Content-Type-Options"] == "nosniff", what
    assert response["Referrer-Policy"] == "same-origin", what
    assert response["Cross-Origin-Opener-Policy"] == "same-origin", what
    assert response["X-Frame-Options"] == "DENY", what
    assert response["Permissions-Policy"] == PERMISSIONS_POLICY, what


URL_ATTRIBUTES = {
    "href",
    "src",
    "srcset",
    "action",
    "formaction",
    "data",
    "poster",
    "background",
    "xlink:href",
    "ping",
    "cite",
}
EXECUTABLE_ELEMENTS = {
    "script",
    "iframe",
    "frame",
    "frameset",
    "object",
    "embed",
    "applet",
    "base",
    "style",
}
DANGEROUS_SCHEMES = ("javascript:", "vbscript:", "data:")
JSON_LD = "application/ld+json"
ADDRESS_ONLY_RELS = {"canonical", "alternate"}  # name an address; load nothing


class ExecutableContent(HTMLParser):
    """Everything in a page that could run script or restyle it: script-capable
    elements, event-handler and style attributes, srcdoc, meta refresh, external
    stylesheets and URLs with a javascript:/vbscript:/data: scheme (after the
    entity decoding and whitespace a browser ignores)."""

    def __init__(self, allow_nonced_scripts=False):
        super().__init__(convert_charrefs=True)
        self.allow_nonced_scripts = allow_nonced_scripts
        self.found = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        where = f"<{tag} {attrs}>"
        if tag == "script" and attributes.get("type") == JSON_LD:
            pass  # a data block, never run: schema.org JSON-LD (opendata_tags)
        elif tag == "script" and self.allow_nonced_scripts:
            if not attributes.get("nonce") or not attributes.get("src"):
                self.found.append(f"a script without a nonce or src: {where}")
        elif tag == "script" and is_static(attributes.get("src")):
            pass  # one of this site's static files (script-src 'self'), never inline
        elif tag in EXECUTABLE_ELEMENTS:
            self.found.append(f"a <{tag}> element: {where}")
        rels = set((attributes.get("rel") or "").lower().split())
        if (
            tag == "link"
            and (not rels or rels - ADDRESS_ONLY_RELS)
            and not (attributes.get("href") or "").startswith(settings.STATIC_URL)
        ):
            self.found.append(f"a link to another origin: {where}")
        if tag == "meta" and "http-equiv" in attributes:
            self.found.append(f"a meta http-equiv: {where}")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"an event handler attribute: {where}")
            elif name in ("style", "srcdoc"):
                self.found.append(f"a {name} attribute: {where}")
            elif name in URL_ATTRIBUTES and value:
                compact = re.sub(r"[\x00-\x20]", "", value).lower()
                if compact.startswith(DANGEROUS_SCHEMES):
                    self.found.append(f"a {compact.split(':')[0]}: URL: {where}")

    handle_startendtag = handle_starttag


def is_static(url):
    """A URL of this site's static files (static/, collected), nowhere else."""
    return bool(url) and url.startswith(settings.STATIC_URL) and ".." not in url


def executable_content(html, allow_nonced_scripts=False):
    parser = ExecutableContent(allow_nonced_scripts)
    parser.feed(html)
    parser.close()
    return parser.found


def test_the_scanner_finds_what_it_looks_for():
    """The checks below are only as good as this scanner: it must see each trick."""
    page = (
        '<p onclick="x()">a</p><a href=" jav&#x09;ascript:alert(1)">b</a>'
        '<img src="data:image/svg+xml,x"><script>alert(1)</script>'
        '<p style="color:red">c</p><iframe srcdoc="x"></iframe>'
        '<link rel="stylesheet" href="https://evil.example/x.css">'
        '<meta http-equiv="refresh" content="0;url=/">'
        '<link rel="alternate stylesheet" href="https://evil.example/y.css">'
        '<script type="text/javascript">alert(2)</script>'
        '<script src="https://evil.example/z.js"></script>'
        '<script src="/static/../media/w.js"></script>'
    )
    found = "\n".join(executable_content(page))
    for trick in (
        "event handler",
        "a javascript: URL",
        "a data: URL",
        "<script>",
        "style attribute",
        "<iframe>",
        "srcdoc",
        "another origin",
        "http-equiv",
    ):
        assert trick in found, trick
    assert "alternate stylesheet" in found and "text/javascript" in found
    assert "evil.example/z.js" in found and "media/w.js" in found
    assert not executable_content(
        '<link rel="stylesheet" href="/static/css/site.css"><a href="/x">ok</a>'
        '<link rel="canonical" href="https://atlas.example.org/">'
        '<link rel="alternate" type="application/atom+xml" href="/practices/feed/">'
        '<script type="application/ld+json">{"name": "\\u003C/script\\u003E"}</script>'
        '<script src="/static/js/filters.js" defer></script>'
    )


# --- headers --------------------------------------------------------------------------


def test_headers_on_every_public_page_type(client, catalogue):
    for url in public_pages():
        assert_security_headers(client.get(url), url)


def test_headers_on_error_pages(client, db):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert_security_headers(response, "404")

    response = client.get("/practices/?country=nowhere")
    assert response.status_code == 400
    assert_security_headers(response, "400 from the list page")


@override_settings(ROOT_URLCONF=__name__)
def test_headers_on_the_500_page(client, db):
    client.raise_request_exception = False
    response = client.get("/broken/")
    assert response.status_code == 500
    assert_security_headers(response, "500")
    assert not executable_content(response.content.decode())


def test_headers_on_the_admin_login_page(client, db):
    response = client.get(ADMIN_LOGIN)
    assert response.status_code == 200
    assert_security_headers(response, "admin login")


@override_settings(WHITENOISE_USE_FINDERS=True)
def test_static_files_are_served_with_nosniff(client):
    """whitenoise answers static files before the other middleware runs, so they
    carry SecurityMiddleware's headers (nosniff above all) and no CSP, which a
    stylesheet does not need."""
    response = client.get(settings.STATIC_URL + "css/site.css")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/css")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_permissions_policy_denies_powerful_features(client, db):
    policy = client.get("/accessibility/")["Permissions-Policy"]
    directives = dict(d.split("=") for d in policy.split(", "))
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert directives[feature] == "()", feature
    assert directives["browsing-topics"] == "()"
    assert set(directives.values()) == {"()"}


def test_csp_nonce_is_fresh_per_request_and_on_every_script(client, db):
    nonces = []
    for _ in range(2):
        response = client.get(ADMIN_LOGIN)
        match = re.search(
            r"script-src 'self' 'nonce-([^']+)'", response["Content-Security-Policy"]
        )
        assert match, response["Content-Security-Policy"]
        nonce = match.group(1)
        scripts = re.findall(r"<script\b[^>]*>", response.text)
        assert scripts, "the admin login page loads scripts"
        for tag in scripts:
            assert f'nonce="{nonce}"' in tag, tag
        nonces.append(nonce)
    assert nonces[0] != nonces[1]
    assert len(nonces[0]) >= 16


def test_public_pages_have_no_inline_script_or_style(client, catalogue):
    """No inline script and no style attributes (the CSP forbids both): a script
    is JSON-LD data or one of the site's static files, with nothing inline and
    no nonce (which would make the page personal, so uncacheable)."""
    practice_slugs = ["export-consortia", "go4export-interactive-development"]
    extra = [
        "/practices/compare/?" + urlencode([("p", s) for s in practice_slugs]),
        "/accessibility/",
        "/no/such/page/",
        "/practices/?country=nowhere",  # the 400 page
    ]
    for url in public_pages() + extra:
        text = client.get(url).content.decode()
        for attributes, body in re.findall(
            r"<script\b([^>]*)>(.*?)</script>", text, re.S
        ):
            src = re.fullmatch(r' src="([^"]+)" defer', attributes)
            static = src and is_static(src[1]) and not body.strip()
            assert attributes == f' type="{JSON_LD}"' or static, (url, attributes)
        assert not executable_content(text), (url, executable_content(text))

    # The feedback form with its errors, and the messages it shows.
    response = client.post(reverse("accessibility:feedback"), {"description": ""})
    assert response.status_code == 400
    assert not executable_content(response.content.decode())


def test_admin_pages_load_scripts_only_with_the_nonce(admin_client, catalogue):
    practice = make_practice()
    for url in [
        reverse("admin:index"),
        reverse("admin:practices_practice_changelist"),
        reverse("admin:practices_practice_change", args=[practice.pk]),
        reverse("admin:briefs_brief_add"),
        reverse("admin:axes_accessattempt_changelist"),
    ]:
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert_security_headers(response, url)
        found = executable_content(response.content.decode(), allow_nonced_scripts=True)
        assert not found, (url, found)


# --- HTTPS (the real settings module, run with HTTPS=true) ----------------------------


def settings_module(monkeypatch, **environ):
    """config/settings.py executed afresh with these environment variables."""
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location(
        "production_settings", settings.BASE_DIR / "config" / "settings.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def https_settings(monkeypatch):
    """The HTTPS-related settings of the real module with HTTPS=true, in force."""
    module = settings_module(monkeypatch, HTTPS="true")
    names = [
        name
        for name in dir(module)
        if name.startswith(("SECURE_", "SESSION_COOKIE_", "CSRF_COOKIE_"))
    ]
    with override_settings(**{name: getattr(module, name) for name in names}):
        yield module


HTTPS_HEADERS = {"x-forwarded-proto": "https"}


def test_https_sends_hsts_and_redirects_plain_http(client, db, https_settings):
    response = client.get("/accessibility/", headers=HTTPS_HEADERS)
    assert response.status_code == 200
    assert (
        response["Strict-Transport-Security"]
        == "max-age=31536000; includeSubDomains; preload"
    )
    assert_security_headers(response, "over HTTPS")

    response = client.get("/accessibility/")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/accessibility/"


def test_https_leaves_the_health_check_on_plain_http(client, db, https_settings):
    """A load balancer probes /healthz over plain HTTP: no redirect, no HSTS."""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert "Location" not in response
    assert "Strict-Transport-Security" not in response


def test_https_cookies_are_secure_and_httponly(client, catalogue, https_settings):
    response = client.get(ADMIN_LOGIN, headers=HTTPS_HEADERS)
    csrf = response.cookies[settings.CSRF_COOKIE_NAME]
    assert csrf["secure"] and csrf["httponly"]
    assert csrf["samesite"] == "Lax"

    response = client.post(
        reverse("practices:compare-add"),
        {"slug": "export-consortia"},
        headers=HTTPS_HEADERS,
    )
    assert response.status_code == 302
    session = response.cookies[settings.SESSION_COOKIE_NAME]
    assert session["secure"] and session["httponly"]
    assert session["samesite"] == "Lax"


def test_without_https_cookies_stay_usable_over_http(client, catalogue):
    """`make run` serves plain HTTP on 127.0.0.1: the cookies must work there."""
    response = client.post(
        reverse("practices:compare-add"), {"slug": "export-consortia"}
    )
    assert response.status_code == 302
    session = response.cookies[settings.SESSION_COOKIE_NAME]
    assert not session["secure"] and session["httponly"]
    assert "Strict-Transport-Security" not in response


# --- rich text: nothing a curator types runs script for a reader ----------------------

XSS_PAYLOADS = {
    "script": "<script>alert(1)</script>",
    "img-onerror": '<img src=x onerror="alert(1)">',
    "a-javascript": '<a href="javascript:alert(1)">click</a>',
    "a-javascript-entity": '<a href="&#106;avascript:alert(1)">click</a>',
    "a-javascript-tab": '<a href="jav&#x09;ascript:alert(1)">click</a>',
    "a-vbscript": '<a href="vbscript:msgbox(1)">click</a>',
    "a-onclick": '<a href="https://ok.example/" onclick="alert(1)">click</a>',
    "md-javascript": "[click](javascript:alert(1))",
    "md-javascript-case": "[click](JaVaScRiPt:alert(1))",
    "md-javascript-reference": "[click][evil]\n\n[evil]: javascript:alert(1)",
    "md-autolink": "<javascript:alert(1)>",
    "md-data-url": "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg)",
    "md-image-data": "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "md-image-javascript": "![x](javascript:alert(1))",
    "md-title-breakout": '[click](https://ok.example/ "t" onmouseover="alert(1)")',
    "iframe": '<iframe src="https://evil.example/"></iframe>',
    "iframe-srcdoc": '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    "svg-onload": "<svg onload=alert(1)>",
    "svg-script": "<svg><script>alert(1)</script></svg>",
    "style-attribute": '<p style="background:url(javascript:alert(1))">styled</p>',
    "style-element": "<style>body { display: none }</style>",
    "object": '<object data="javascript:alert(1)"></object>',
    "embed": '<embed src="https://evil.example/x.swf">',
    "form": '<form action="javascript:alert(1)"><button formaction="javascript:'
    'alert(1)">go</button></form>',
    "meta-refresh": '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    "base": '<base href="https://evil.example/">',
    "stylesheet": '<link rel="stylesheet" href="https://evil.example/x.css">',
    "details-ontoggle": "<details open ontoggle=alert(1)>x</details>",
    "noscript-mxss": '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "math-mxss": "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "split-script": "<<script>script>alert(1)<</script>/script>",
    "raw-html-block": '<div onmouseover="alert(1)">\n\n**bold**\n\n</div>',
}
RICH_PRACTICE_FIELDS = ["description", "resources", "evidence", "transfer"]


@pytest.mark.parametrize("payload", XSS_PAYLOADS.values(), ids=XSS_PAYLOADS.keys())
def test_rich_text_fields_never_carry_script_to_a_page(client, db, payload):
    """The payload in every Markdown field that reaches a page: the practice's four
    narrative sections (practice page, comparison) and a brief's section body. A
    marker paragraph before it shows that each field did render."""
    practices = [
        make_practice(
            **{
                field: f"{field}-marker-{n}\n\n{payload}"
                for field in RICH_PRACTICE_FIELDS
            }
        )
        for n in (1, 2)
    ]
    brief = make_brief(practices=practices)
    BriefSection.objects.create(
        brief=brief,
        heading="Curated",
        anchor="curated",
        body=f"brief-marker\n\n{payload}",
    )
    pages = {
        practices[0].get_absolute_url(): [
            f"{field}-marker-1" for field in RICH_PRACTICE_FIELDS
        ],
        reverse("practices:compare")
        + "?"
        + urlencode([("p", p.slug) for p in practices]): [
            f"{field}-marker-{n}" for field in ("evidence", "transfer") for n in (1, 2)
        ],
        brief.get_absolute_url(): ["brief-marker"],
    }
    for url, markers in pages.items():
        response = client.get(url)
        assert response.status_code == 200, url
        text = response.content.decode()
        for marker in markers:
            assert marker in text, (url, marker)
        found = executable_content(text)
        assert not found, (url, found)


def test_markdown_still_renders_safe_formatting_and_links(client, db):
    practice = make_practice(
        description="**Bold**, *em*, [a source](https://example.org/report), "
        "[the list](/practices/) and [write](mailto:team@example.org).\n\n"
        "- one\n- two"
    )
    text = client.get(practice.get_absolute_url()).content.decode()
    assert "<strong>Bold</strong>" in text and "<em>em</em>" in text
    assert '<a href="https://example.org/report" rel="noopener noreferrer">' in text
    assert '<a href="/practices/" rel="noopener noreferrer">' in text
    assert '<a href="mailto:team@example.org" rel="noopener noreferrer">' in text
    assert "<li>one</li>" in text


@pytest.mark.parametrize(
    "link",
    [
        "[docs](//evil.example/x)",
        "[docs](/\\evil.example/x)",
        '<a href="\\\\evil.example/x">docs</a>',
        '<a href=" //evil.example/x">docs</a>',
        '<a href="/&#9;/evil.example/x">docs</a>',
    ],
)
def test_a_protocol_relative_link_is_an_external_link(link):
    """Not passed as a relative link: it leads to another host."""
    html = markdown(link)
    assert '<a href="https://evil.example/x" rel="noopener noreferrer">docs</a>' in html
    # Relative links stay as they are.
    assert 'href="/practices/?q=a"' in markdown("[list](/practices/?q=a)")
    assert 'href="#sources"' in markdown("[sources](#sources)")


def test_a_dropped_link_keeps_its_text_but_not_its_target(client, db):
    practice = make_practice(description="[click here](javascript:alert(1))")
    text = client.get(practice.get_absolute_url()).content.decode()
    assert '<a rel="noopener noreferrer">click here</a>' in text
    assert "javascript:" not in text


PLAIN_PAYLOAD = '"><script>alert(1)</script><img src=x onerror=alert(1)>'
ESCAPED_PAYLOAD = (
    "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"
)


def test_plain_text_fields_are_escaped_everywhere(client, db):
    """Every plain-text field a curator fills in, on every page that shows it."""
    theme = make_theme(name=f"Theme {PLAIN_PAYLOAD}", description=PLAIN_PAYLOAD)
    instrument = make_instrument(
        name=f"Instrument {PLAIN_PAYLOAD}", description=PLAIN_PAYLOAD
    )
    country = make_country(code="IT", name=f"Italy {PLAIN_PAYLOAD}")
    # acronym: at most 50 characters
    project = make_project(acronym="<img src=x onerror=alert(1)>", name=PLAIN_PAYLOAD)
    fields = {
        name: f"{name} searchword {PLAIN_PAYLOAD}"
        for name in (
            "title",
            "summary",
            "institution",
            "city",
            "budget",
            "beneficiaries",
            "attribution",
        )
    }
    practices = [
        make_practice(
            countries=[country],
            themes=[theme],
            instruments=[instrument],
            project=project,
            **{**fields, "title": f"{fields['title']} {n}"},
        )
        for n in (1, 2)
    ]
    PracticeSource.objects.create(
        practice=practices[0], url="https://example.org/s", title=PLAIN_PAYLOAD
    )
    brief = make_brief(
        title=f"Brief {PLAIN_PAYLOAD}",
        standfirst=PLAIN_PAYLOAD,
        attribution=PLAIN_PAYLOAD,
        practices=practices,
    )
    BriefSection.objects.filter(brief=brief).update(heading=PLAIN_PAYLOAD)
    FeaturedPractice.objects.filter(brief=brief).update(note=PLAIN_PAYLOAD)
    compare = "?" + urlencode([("p", p.slug) for p in practices])
    urls = [
        "/",
        "/practices/",
        "/practices/?q=searchword",
        practices[0].get_absolute_url(),
        reverse("practices:compare") + compare,
        "/briefs/",
        brief.get_absolute_url(),
        "/countries/",
        country.get_absolute_url(),
        "/themes/",
        theme.get_absolute_url(),
        "/instruments/",
        instrument.get_absolute_url(),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        text = response.content.decode()
        assert "<script>alert(1)" not in text, url
        assert ESCAPED_PAYLOAD in text, url  # shown, as text
        assert not executable_content(text), (url, executable_content(text))


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/practices/", {"q": PLAIN_PAYLOAD}),
        ("/practices/", {"country": PLAIN_PAYLOAD}),
        ("/practices/", {"sort": PLAIN_PAYLOAD, "per_page": PLAIN_PAYLOAD}),
        ("/practices/compare/", {"p": PLAIN_PAYLOAD}),
        ("/accessibility/", {"page": "/" + PLAIN_PAYLOAD}),
        ("/practices/" + PLAIN_PAYLOAD + "/", {}),
    ],
)
def test_query_values_are_never_reflected_as_markup(client, catalogue, path, params):
    response = client.get(path, params)
    assert response.status_code in (200, 400, 404)
    text = response.content.decode()
    assert "<script>alert(1)" not in text
    assert not executable_content(text), executable_content(text)


@pytest.mark.parametrize(
    ("model", "field"),
    [(PracticeSource, "url"), (Project, "url"), (Brief, "source_url")],
)
@pytest.mark.parametrize(
    "value",
    ["javascript:alert(1)", "data:text/html,<script>alert(1)</script>", "//evil"],
)
def test_link_fields_accept_only_web_addresses(model, field, value):
    """Addresses shown as links (sources, project sites, original briefs) go
    through the admin's URL validation, which knows only http(s) and ftp(s)."""
    form_field = model._meta.get_field(field).formfield()
    with pytest.raises(ValidationError):
        form_field.clean(value)
    assert form_field.clean("https://example.org/report") == (
        "https://example.org/report"
    )


# --- admin: login throttling, staff only, passwords -----------------------------------

PASSWORD = "river atlas curation 2026"


@pytest.fixture
def curator(django_user_model):
    return django_user_model.objects.create_user(
        username="curator", password=PASSWORD, is_staff=True
    )


def sign_in(client, username, password, ip="198.51.100.10", forwarded_for=None):
    return client.post(
        ADMIN_LOGIN,
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=ip,
        headers={"x-forwarded-for": forwarded_for} if forwarded_for else None,
    )


def lock_out(client, username="curator", ip="198.51.100.10", forwarded_for=None):
    """Fail AXES_FAILURE_LIMIT times; the last failure answers the lockout page."""
    for attempt in range(1, settings.AXES_FAILURE_LIMIT + 1):
        response = sign_in(client, username, "wrong password", ip, forwarded_for)
        expected = 429 if attempt == settings.AXES_FAILURE_LIMIT else 200
        assert response.status_code == expected, attempt
    return response


def test_lockout_after_repeated_failures_is_a_clear_429_page(client, curator):
    assert settings.AXES_FAILURE_LIMIT == 5
    response = lock_out(client)
    assert response.status_code == 429
    text = response.content.decode()
    assert "<h1>Too many failed sign-in attempts</h1>" in text
    assert "after 5 failed attempts" in text
    assert "Try again in 15 minutes" in text
    assert_security_headers(response, "lockout page")
    assert not executable_content(text)


def test_correct_password_is_refused_while_locked_out(client, curator):
    lock_out(client)
    response = sign_in(client, "curator", PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302  # still the login page


def test_lockout_touches_only_that_username_from_that_address(
    client, curator, django_user_model
):
    django_user_model.objects.create_user(
        username="editor", password=PASSWORD, is_staff=True
    )
    lock_out(client)
    # The same person from another address, and another curator from the same one.
    assert sign_in(Client(), "curator", PASSWORD, ip="203.0.113.5").status_code == 302
    assert sign_in(Client(), "editor", PASSWORD).status_code == 302
    # Which does not lift the first one's lock.
    assert sign_in(Client(), "curator", PASSWORD).status_code == 429


def test_failures_under_many_usernames_lock_the_address_out(client, curator):
    """A spray of guesses across usernames from one address is stopped, though no
    username reaches its own limit; until then the address's curators sign in."""
    limit = settings.LOGIN_ADDRESS_FAILURE_LIMIT
    assert limit == 20
    for n in range(1, limit):
        assert sign_in(Client(), f"guess{n}", "wrong password").status_code == 200, n
    assert sign_in(Client(), "curator", PASSWORD).status_code == 302
    response = sign_in(client, f"guess{limit}", "wrong password")
    assert response.status_code == 429
    assert "signing in under any name after many failed attempts" in response.text
    assert sign_in(Client(), "curator", PASSWORD).status_code == 429
    assert sign_in(Client(), "curator", PASSWORD, ip="203.0.113.5").status_code == 302


def test_axes_reset_lifts_the_lock(client, curator):
    lock_out(client)
    call_command("axes_reset", verbosity=0)
    response = sign_in(client, "curator", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_a_successful_sign_in_clears_earlier_failures(client, curator):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "curator", "wrong password").status_code == 200
    assert sign_in(client, "curator", PASSWORD).status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "curator", "wrong password").status_code == 200


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_a_proxy_failures_count_against_the_forwarded_client(client, curator):
    proxy = "10.0.0.2"
    lock_out(client, ip=proxy, forwarded_for="192.0.2.1")
    # The same curator from another address behind the same proxy is not locked
    # out (behind the proxy, REMOTE_ADDR alone would lock out everyone)...
    other = sign_in(Client(), "curator", PASSWORD, proxy, "192.0.2.2")
    assert other.status_code == 302
    # ...and the locked-out client cannot escape by forging an earlier hop.
    forged = sign_in(Client(), "curator", PASSWORD, proxy, "203.0.113.9, 192.0.2.1")
    assert forged.status_code == 429


@pytest.mark.parametrize(
    ("count", "forwarded", "expected"),
    [
        (0, "192.0.2.1", "10.0.0.2"),  # no proxy trusted: the header is ignored
        (1, "192.0.2.1", "192.0.2.1"),
        (1, "203.0.113.99, 192.0.2.1", "192.0.2.1"),
        (2, "192.0.2.1, 10.0.0.1", "192.0.2.1"),
        (2, "192.0.2.1", "10.0.0.2"),  # shorter than promised: not trusted
        (1, "", "10.0.0.2"),
    ],
)
def test_client_ip(count, forwarded, expected):
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2")
    if forwarded:
        request.META["HTTP_X_FORWARDED_FOR"] = forwarded
    with override_settings(TRUSTED_PROXY_COUNT=count):
        assert security.client_ip(request) == expected


def test_non_staff_users_cannot_use_the_admin(client, django_user_model):
    reader = django_user_model.objects.create_user(username="reader", password=PASSWORD)
    response = sign_in(client, "reader", PASSWORD)
    assert response.status_code == 200
    assert "correct username and password for a staff account" in response.text
    assert "_auth_user_id" not in client.session

    client.force_login(reader)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(ADMIN_LOGIN)
    assert client.get(reverse("admin:practices_practice_changelist")).status_code == 302


def test_staff_can_sign_in(client, curator):
    assert sign_in(client, "curator", PASSWORD).status_code == 302
    assert client.get("/admin/").status_code == 200


@pytest.mark.parametrize(
    "next_url", ["https://evil.example/", "//evil.example/", "/\\evil.example/", ""]
)
def test_sign_in_with_an_unsafe_or_no_next_lands_on_the_admin_index(
    client, curator, next_url
):
    response = client.post(
        ADMIN_LOGIN, {"username": "curator", "password": PASSWORD, "next": next_url}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")


def test_footer_sign_in_link_follows_the_admin_path(client, db):
    text = client.get("/accessibility/").text
    assert f'<a href="{reverse("admin:index")}">Curators\' sign-in</a>' in text


def test_password_validators_are_all_on():
    names = [v["NAME"].rsplit(".", 1)[1] for v in settings.AUTH_PASSWORD_VALIDATORS]
    assert names == [
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    ]
    for weak in ("short-pw-11", "password1234", "12345678901234"):
        with pytest.raises(ValidationError):
            validate_password(weak)
    validate_password(PASSWORD)


# --- bad input: a clear 4xx, never a 500 ----------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "evil.example",  # well formed, not in ALLOWED_HOSTS
        "exa mple.org",
        "example.org:port",
        "[::1",
        "example.org/path",
    ],
)
def test_bad_host_header_is_a_400(client, db, host):
    response = client.get("/practices/", headers={"host": host})
    assert response.status_code == 400
    assert "Bad request" in response.text
    assert_security_headers(response, f"Host {host}")


def longest_list_query_string():
    """Every option of the list's facets ticked (of the ~1,800 valid regions, those
    the facet shows: with practices), the longest search (in a non-Latin script,
    each character percent-encoded to 9 bytes), sort and page size."""
    facets = list_practices(QueryDict()).facets(QueryDict())
    pairs = [(facet.name, option.value) for facet in facets for option in facet.options]
    assert sum(1 for name, _ in pairs if name == "country") >= 28
    pairs += [("q", "語" * 200), ("sort", "title"), ("per_page", "100")]
    return urlencode(pairs)


def test_longest_list_address_the_page_can_produce_is_accepted(client, catalogue):
    """Under the limit (through gunicorn too: tests/test_gunicorn.py); gunicorn
    caps a request line near 8 KB, so the limit cannot grow much. 1.8 KB of the
    6.4 KB today is the longest search and 2.9 KB the 246 regions in the facet;
    all 334 NUTS 1 and 2 units of the EU27 would make it 3.9 KB."""
    query_string = longest_list_query_string()
    assert len(query_string) < MAX_QUERY_STRING_BYTES, len(query_string)
    response = client.get("/practices/?" + query_string)
    assert response.status_code == 200


def test_oversized_query_string_is_a_414(client, db):
    response = client.get("/practices/?q=" + "a" * MAX_QUERY_STRING_BYTES)
    assert response.status_code == 414
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert "too long" in response.text and len(response.content) < 300
    assert_security_headers(response, "414")
    # A query string of exactly the limit is still served.
    at_limit = "/practices/?q=" + "a" * (MAX_QUERY_STRING_BYTES - 2)
    assert client.get(at_limit).status_code != 414


@pytest.mark.parametrize(
    "url", ["/practices/", "/practices/compare/", "/accessibility/"]
)
def test_too_many_query_fields_is_a_400(client, db, url):
    """Pages that read the query string (a page that ignores it, like the home
    page, never parses it and answers as usual)."""
    query_string = "&".join(["c=1"] * (settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    assert len(query_string) < MAX_QUERY_STRING_BYTES  # not caught as a 414 first
    response = client.get(f"{url}?{query_string}")
    assert response.status_code == 400, url
    assert_security_headers(response, "400, too many fields")


def test_too_many_posted_fields_is_a_400(client, db):
    body = "&".join(["slug=x"] * (settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    response = client.post(
        reverse("practices:compare-add"),
        body,
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400


THREE_MB = 3 * 1024 * 1024


@pytest.mark.parametrize(
    "url_name", ["accessibility:feedback", "practices:compare-add", "admin:login"]
)
def test_oversized_post_is_a_413(client, db, url_name):
    assert THREE_MB > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    url = reverse(url_name)
    urlencoded = client.post(
        url,
        "description=" + "a" * THREE_MB,
        content_type="application/x-www-form-urlencoded",
    )
    multipart = client.post(url, {"description": "a" * THREE_MB, "slug": "x"})
    for response in (urlencoded, multipart):
        assert response.status_code == 413
        assert "too large" in response.text and len(response.content) < 300
        assert_security_headers(response, "413")


def test_an_import_too_large_is_read_to_its_end_before_the_answer(settings):
    """So that a browser still sending the file sees the page, not a reset (gunicorn
    closes the connection after the answer, dropping what was not read)."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE, settings.IMPORT_MAX_FILE_SIZE = 1000, 2000
    url = reverse("admin:practices_practice_import")
    request = RequestFactory().post(url, "x" * 5000, content_type="text/csv")
    assert security.oversized(request).status_code == 413
    assert request.read() == b""


def test_a_large_but_allowed_post_reaches_the_form(client, db):
    """Under the body limit the form answers for itself (here: too long a text)."""
    response = client.post(
        reverse("accessibility:feedback"), {"description": "a" * 100_000}
    )
    assert response.status_code == 400
    assert "Keep the description to 2000 characters or fewer" in response.text
