import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse

from accessibility.forms import HONEYPOT_FIELD
from accessibility.models import DESCRIPTION_MAX_LENGTH, Feedback
from tests.accessibility.conftest import MORNING
from tests.test_security import assert_security_headers, executable_content
from tests.test_site import public_pages

pytestmark = pytest.mark.django_db

STATEMENT = reverse("accessibility:statement")
FEEDBACK = reverse("accessibility:feedback")

# The sections the model statement of Implementing Decision (EU) 2018/1523 requires.
MODEL_SECTIONS = [
    "Compliance status",
    "Non-accessible content",
    "Preparation of this accessibility statement",
    "Feedback and contact information",
    "Enforcement procedure",
]


class Page(HTMLParser):
    """Headings, form controls and labels of a page, for structural checks."""

    def __init__(self, html):
        super().__init__()
        self.headings, self.controls, self.label_for = [], [], set()
        self._heading = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if re.fullmatch(r"h[1-6]", tag):
            self._heading = [int(tag[1]), ""]
        elif tag == "label" and attrs.get("for"):
            self.label_for.add(attrs["for"])
        elif tag in ("input", "textarea", "select") and attrs.get("type") not in (
            "hidden",
            "submit",
        ):
            self.controls.append(attrs)

    def handle_data(self, data):
        if self._heading:
            self._heading[1] += data

    def handle_endtag(self, tag):
        if self._heading and tag == f"h{self._heading[0]}":
            self.headings.append((self._heading[0], " ".join(self._heading[1].split())))
            self._heading = None


def valid_report(**overrides):
    data = {
        "page_url": "/practices/compare/",
        "description": "The comparison table is cut off at 200% zoom.",
        "name": "Ana",
        "email": "ana@example.org",
        HONEYPOT_FIELD: "",
    }
    return {**data, **overrides}


def test_statement_has_the_model_sections_in_order(client):
    response = client.get(STATEMENT)
    assert response.status_code == 200
    assert response.templates[0].name == "accessibility/statement.html"
    h2s = [text for level, text in Page(response.text).headings if level == 2]
    assert [h for h in h2s if h in MODEL_SECTIONS] == MODEL_SECTIONS


def test_statement_says_what_it_covers_and_how_compliant_it_is(client):
    text = client.get(STATEMENT).text
    assert "is committed to making this website accessible" in text
    assert "Django admin" in text and "has not yet been assessed" in text
    assert "<strong>partially compliant</strong>" in text
    assert "WCAG) 2.1</a> at level AA" in text
    assert "Source documents on other websites" in text
    assert "map of Europe" in text
    assert '<time datetime="2026-11-26">26 November 2026</time>' in text
    assert "axe-core" in text and "320 CSS pixels" in text


def test_statement_has_one_h1_and_no_skipped_heading_levels(client):
    headings = Page(client.get(STATEMENT).text).headings
    levels = [level for level, _ in headings]
    assert levels.count(1) == 1 and levels[0] == 1
    assert all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False)), headings


def test_every_form_control_has_a_label(client):
    page = Page(client.get(STATEMENT).text)
    ids = [control.get("id") for control in page.controls]
    assert "id_description" in ids and "id_email" in ids
    assert all(id_ and id_ in page.label_for for id_ in ids), ids


def test_statement_has_breadcrumbs(client):
    text = client.get(STATEMENT).text
    assert 'aria-label="Breadcrumb"' in text
    assert '<li aria-current="page">Accessibility statement</li>' in text


def test_every_page_links_the_statement_from_its_footer(client, catalogue):
    for url in [*public_pages(), STATEMENT]:
        text = client.get(url).text
        footer = text[text.index('<footer class="site-footer">') :]
        assert f'<a href="{STATEMENT}">Accessibility statement</a>' in footer, url


def test_footer_feedback_link_names_the_page(client, catalogue):
    text = client.get("/briefs/").text
    assert f'href="{STATEMENT}?page=/briefs/#feedback"' in text
    response = client.get(STATEMENT, {"page": "/briefs/"})
    assert response.context["form"]["page_url"].value() == "/briefs/"


@pytest.mark.parametrize("page", ["https://evil.example/", "//evil.example/", "x"])
def test_only_local_pages_are_prefilled(client, page):
    response = client.get(STATEMENT, {"page": page})
    assert response.context["form"]["page_url"].value() == ""


def test_valid_report_is_saved_and_redirects_with_a_message(client):
    response = client.post(FEEDBACK, valid_report(), follow=True)
    assert response.redirect_chain == [(STATEMENT, 302)]
    feedback = Feedback.objects.get()
    assert feedback.page_url == "/practices/compare/"
    assert feedback.description == "The comparison table is cut off at 200% zoom."
    assert (feedback.name, feedback.email) == ("Ana", "ana@example.org")
    assert not feedback.is_handled
    assert "your report has been sent" in response.text


def test_only_the_description_is_required(client):
    response = client.post(FEEDBACK, {"description": "Captions missing"})
    assert response.status_code == 302
    assert Feedback.objects.get().email == ""


@pytest.mark.parametrize(
    ("overrides", "field", "error"),
    [
        ({"description": "   "}, "description", "Describe the problem you met."),
        (
            {"description": "x" * (DESCRIPTION_MAX_LENGTH + 1)},
            "description",
            "Keep the description to 2000 characters or fewer (it has 2001).",
        ),
        ({"email": "not-an-email"}, "email", "Enter an email address such as"),
        ({"page_url": "/" * 501}, "page_url", "Keep the page address to 500"),
    ],
)
def test_invalid_report_is_a_400_with_errors_tied_to_the_field(
    client, overrides, field, error
):
    response = client.post(FEEDBACK, valid_report(**overrides))
    assert response.status_code == 400
    assert not Feedback.objects.exists()
    text = response.text
    assert "Your report was not sent" in text  # the messages include
    assert "There is a problem with your report" in text  # the error summary
    assert f'<a href="#id_{field}">{error}' in text
    assert f'<ul class="errorlist" id="id_{field}_error"><li>{error}' in text
    control = re.search(rf'<(?:input|textarea)[^>]*id="id_{field}"[^>]*>', text)[0]
    assert 'aria-invalid="true"' in control
    assert f"id_{field}_error" in re.search(r'aria-describedby="([^"]*)"', control)[1]


def test_invalid_report_keeps_what_was_typed(client):
    response = client.post(FEEDBACK, valid_report(email="nope"))
    assert "The comparison table is cut off at 200% zoom." in response.text


def test_honeypot_rejects_the_report(client):
    response = client.post(FEEDBACK, valid_report(**{HONEYPOT_FIELD: "http://spam"}))
    assert response.status_code == 400
    assert not Feedback.objects.exists()
    assert "a field that must stay empty was filled in" in response.text
    assert "http://spam" not in response.text  # a person can simply send it again


def test_honeypot_is_hidden_from_people_and_assistive_technology(client):
    text = client.get(STATEMENT).text
    wrapper = re.search(
        rf'<div class="field" hidden>\s*<label for="id_{HONEYPOT_FIELD}">', text
    )
    assert wrapper


def test_feedback_needs_a_csrf_token():
    response = Client(enforce_csrf_checks=True).post(FEEDBACK, valid_report())
    assert response.status_code == 403
    assert not Feedback.objects.exists()


def test_statement_form_carries_a_csrf_token(client):
    assert 'name="csrfmiddlewaretoken"' in client.get(STATEMENT).text


def test_get_on_the_feedback_address_leads_to_the_form(client):
    response = client.get(FEEDBACK)
    assert response.status_code == 302
    assert response["Location"] == f"{STATEMENT}#feedback"


def test_contact_email_is_shown_only_when_set(client, settings):
    settings.ACCESSIBILITY_CONTACT_EMAIL = ""
    assert "mailto:" not in client.get(STATEMENT).text
    settings.ACCESSIBILITY_CONTACT_EMAIL = "access@atlas.example"
    text = client.get(STATEMENT).text
    assert '<a href="mailto:access@atlas.example">access@atlas.example</a>' in text


def test_enforcement_falls_back_to_the_commission_list(client, settings):
    settings.ACCESSIBILITY_ENFORCEMENT_BODY_NAME = ""
    text = client.get(STATEMENT).text
    assert "member state where the operator of this website is established" in text
    assert (
        'href="https://digital-strategy.ec.europa.eu/en/policies/'
        'web-accessibility-monitoring"' in text
    )


def test_enforcement_body_comes_from_the_settings(client, settings):
    settings.ACCESSIBILITY_ENFORCEMENT_BODY_NAME = "National Accessibility Authority"
    settings.ACCESSIBILITY_ENFORCEMENT_BODY_URL = "https://authority.example/"
    text = client.get(STATEMENT).text
    assert (
        '<a href="https://authority.example/">National Accessibility Authority</a>'
        in text
    )
    assert "member state where the operator of this website is established" not in text


# --- Limits: per address and hour, for everyone per day (issue 19, finding 3) ---


def send(client, ip, **overrides):
    return client.post(FEEDBACK, valid_report(**overrides), REMOTE_ADDR=ip)


def test_a_flood_from_one_address_stores_at_most_the_hourly_limit(
    client, settings, clock
):
    clock(MORNING)
    limit = settings.FEEDBACK_CLIENT_HOURLY_LIMIT = 10  # the default
    statuses = [send(client, "203.0.113.7").status_code for _ in range(limit + 30)]
    assert statuses == [302] * limit + [429] * 30
    assert Feedback.objects.count() == limit

    refused = send(client, "203.0.113.7", description="Zoom <b>breaks</b> the map")
    assert refused.status_code == 429
    assert refused["Retry-After"] == "900"  # seconds to the next clock hour
    text = refused.text
    assert f"Your address has sent {limit} reports within this hour" in text
    assert "send your report again in 15 minutes" in text
    assert ">\nZoom &lt;b&gt;breaks&lt;/b&gt; the map</textarea>" in text  # to copy
    assert Feedback.objects.count() == limit
    assert_security_headers(refused, "feedback 429")
    assert not executable_content(text)

    assert send(client, "203.0.113.8").status_code == 302  # another address
    clock(MORNING + timedelta(minutes=15))  # the next hour
    assert send(client, "203.0.113.7").status_code == 302


def test_the_limit_counts_the_address_the_login_throttle_uses(client, settings):
    """Behind TRUSTED_PROXY_COUNT proxies, the client's own X-Forwarded-For entry
    (config.security.client_ip), not the proxy's address nor what the client made
    up further left."""
    settings.TRUSTED_PROXY_COUNT = 1
    settings.FEEDBACK_CLIENT_HOURLY_LIMIT = 1

    def via_proxy(forwarded_for):
        headers = {"x-forwarded-for": forwarded_for}
        return client.post(
            FEEDBACK, valid_report(), REMOTE_ADDR="10.0.0.1", headers=headers
        )

    assert via_proxy("198.51.100.1").status_code == 302
    assert via_proxy("198.51.100.2").status_code == 302
    assert via_proxy("made-up, 198.51.100.1").status_code == 429
    assert Feedback.objects.count() == 2


def test_invalid_reports_do_not_count_against_the_limit(client, settings):
    settings.FEEDBACK_CLIENT_HOURLY_LIMIT = 1
    for _ in range(3):
        assert send(client, "203.0.113.7", description="").status_code == 400
    assert send(client, "203.0.113.7").status_code == 302


@pytest.mark.parametrize("counted", [None, ValueError])
def test_the_form_stays_open_when_the_cache_cannot_count(
    client, settings, monkeypatch, counted
):
    """A Redis outage (django-redis answers None) or a count evicted from the cache
    lets reports through; the daily cap still holds."""
    settings.FEEDBACK_CLIENT_HOURLY_LIMIT = 1

    def incr(*args, **kwargs):
        if counted is ValueError:
            raise ValueError("evicted")
        return counted

    monkeypatch.setattr("config.rate_limits.cache.incr", incr)
    assert [send(client, "203.0.113.7").status_code for _ in range(3)] == [302] * 3


def test_many_addresses_together_never_exceed_the_daily_cap(client, settings, clock):
    settings.FEEDBACK_DAILY_CAP = 5
    clock(MORNING - timedelta(days=1))  # yesterday's reports do not count today
    for n in range(5):
        assert send(client, f"198.51.100.{n}").status_code == 302

    clock(MORNING)
    statuses = [send(client, f"203.0.113.{n}").status_code for n in range(12)]
    assert statuses == [302] * 5 + [429] * 7
    today = Feedback.objects.filter(created_at__date=MORNING.date())
    assert today.count() == 5

    refused = send(client, "192.0.2.1")
    assert refused.status_code == 429
    assert refused["Retry-After"] == str(13 * 3600 + 15 * 60)  # to midnight
    assert "has received 5 reports today" in refused.text
    assert "send your report again tomorrow" in refused.text

    clock(MORNING + timedelta(hours=13, minutes=15))  # midnight
    assert send(client, "192.0.2.1").status_code == 302
    assert Feedback.objects.count() == 11


def test_the_refusal_page_is_one_clear_accessible_page(client, settings):
    settings.FEEDBACK_CLIENT_HOURLY_LIMIT = 1
    settings.ACCESSIBILITY_CONTACT_EMAIL = "access@atlas.example"
    send(client, "203.0.113.7")
    response = send(client, "203.0.113.7")
    assert response.status_code == 429
    assert response.templates[0].name == "accessibility/feedback_refused.html"
    text = response.text
    assert "<title>Report not sent · Practice Atlas</title>" in text
    headings = Page(text).headings
    assert headings[0] == (1, "Your report was not sent")
    assert [level for level, _ in headings].count(1) == 1
    assert 'aria-label="Breadcrumb"' in text
    assert f'<li><a href="{STATEMENT}">Accessibility statement</a></li>' in text
    assert "Your address has sent 1 report within this hour" in text
    assert '<a href="mailto:access@atlas.example">' in text
    assert f'<a href="{STATEMENT}#feedback">Back to the feedback form</a>' in text
