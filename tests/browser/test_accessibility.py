"""axe-core (WCAG 2.0/2.1 A and AA, plus best practice) and reflow on every page
type, at a phone width and a desktop width, with the real catalogue content.

A new page type is one row in PAGES."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.utils import timezone
from pytest_playwright_axe.axe import MIN_AXE_PATH

from briefing import shortlist
from briefs.models import Brief
from practices.models import Practice, Status

PHONE, DESKTOP = 320, 1280  # 320 CSS px is WCAG 1.4.10's reflow width
WIDTHS = [PHONE, DESKTOP]

# id (also the screenshot's name), path, expected HTTP status
PAGES = [
    ("home", "/", 200),
    ("practice-list", "/practices/?country=IT&theme=cooperation-between-smes", 200),
    ("search", "/practices/?q=export", 200),
    ("practice", "/practices/go4export-interactive-development/", 200),
    # One that illustrates recommendations of the brief (issue 21 #3).
    ("practice-illustrating", "/practices/passport-abroad/", 200),
    ("brief", "/briefs/internationalisation-of-smes/", 200),
    ("brief-list", "/briefs/", 200),
    (
        "compare",
        "/practices/compare/?p=export-consortia&p=go4export-interactive-development"
        "&p=kent-international-business",
        200,
    ),
    ("country", "/countries/it/", 200),
    ("country-empty", "/countries/no/", 200),
    ("country-list", "/countries/", 200),
    ("region", "/regions/ITH5/", 200),
    ("region-empty", "/regions/ES63/", 200),
    ("region-nuts-3", "/regions/DE929/", 200),
    ("peers-method", "/regions/how-peers-are-found/", 200),
    ("practice-fit", "/practices/export-consortia/?fit=DE92", 200),
    ("practice-fit-unknown", "/practices/export-consortia/?fit=Atlantis", 400),
    ("list-like", "/practices/?like=ITH5", 200),
    ("theme", "/themes/cooperation-between-smes/", 200),
    ("theme-list", "/themes/", 200),
    ("instrument", "/instruments/voucher/", 200),
    ("instrument-list", "/instruments/", 200),
    ("not-found", "/practices/no-such-practice/", 404),
    ("accessibility", "/accessibility/", 200),
    ("data", "/data/", 200),
    ("evidence", "/evidence/", 200),
    # A practice with a grade, outcome figures and a derived cost per firm.
    ("graded-practice", "/practices/consolidation-plan-in-international-markets/", 200),
    ("follow", "/follow/?country=IT&q=export", 200),
    ("briefing-pack", "/briefing/?country=IT&theme=cooperation-between-smes", 200),
    ("shortlist-empty", "/shortlist/", 200),
    ("shortlist", "/shortlist/", 200),
    ("practice-list-empty-region", "/practices/?region=ES64", 200),
    # An empty search with a filter: its ways out (practices.ways_out).
    ("practice-list-ways-out", "/practices/?q=quantum+voucher&level=local", 200),
    # Pages for records in other states (set up by PREPARE below).
    ("archived-practice", "/practices/the-wakefield-first-bondholder-scheme/", 200),
    ("preview", "/practices/xport-accelerator/preview/", 200),
    ("brief-preview", "/briefs/internationalisation-of-smes/preview/", 200),
]


def archive_practice(page, site, change):
    practice = Practice.objects.get(slug="the-wakefield-first-bondholder-scheme")
    change(practice, status=Status.ARCHIVED)


def sign_in_as_curator(page, site):
    """A staff account that may view practices and briefs, signed in through the
    session cookie (the admin login form is not what is tested here)."""
    user = User.objects.get_or_create(username="curator", is_staff=True)[0]
    user.user_permissions.set(
        Permission.objects.filter(codename__in=["view_practice", "view_brief"])
    )
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": site}]
    )


def preview_overdue_draft(page, site, change):
    """A practice taken back to draft, past its review date: the preview banner,
    the "review overdue" badge and "last verified" all on one page."""
    today = timezone.localdate()
    change(
        Practice.objects.get(slug="xport-accelerator"),
        status=Status.DRAFT,
        last_verified_on=today - timedelta(days=400),
        review_by=today - timedelta(days=30),
    )
    sign_in_as_curator(page, site)


def preview_brief(page, site, change):
    brief = Brief.objects.get(slug="internationalisation-of-smes")
    change(brief, status=Status.ARCHIVED)  # the archived notice inside the preview
    sign_in_as_curator(page, site)


def fill_shortlist(page, site, change):
    items = [
        shortlist.Item("export-consortia", "Ask about the staff it needs"),
        shortlist.Item("kent-international-business"),
    ]
    page.context.add_cookies(
        [{"name": shortlist.COOKIE, "value": shortlist.dumps(items), "url": site}]
    )


# page id: (set-up, text the page then shows, so the state is known to be in place)
PREPARE = {
    "shortlist": (fill_shortlist, "Ask about the staff it needs"),
    "archived-practice": (archive_practice, "This practice is archived."),
    "preview": (preview_overdue_draft, "Review overdue"),
    "brief-preview": (preview_brief, "This brief is archived."),
}

AXE_OPTIONS = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"],
    },
    "resultTypes": ["violations"],
}

# The innermost elements that stick out past the viewport (by their box or by
# their content, e.g. a long word) outside any scrolling container: what makes
# the page scroll sideways at 320 px (WCAG 1.4.10 Reflow).
OVERFLOWING_JS = """() => {
  const width = window.innerWidth;
  // Clipped by a scrolling ancestor? An absolutely positioned element escapes
  // every scroller up to its containing block (its nearest positioned ancestor).
  const inScroller = (el) => {
    let position = getComputedStyle(el).position;
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      if (position === "fixed") return false;
      const style = getComputedStyle(p);
      const positioned = style.position !== "static";
      if (style.overflowX !== "visible" && (position !== "absolute" || positioned)) {
        return true;
      }
      if (positioned) position = style.position;
    }
    return false;
  };
  const right = (el) => {
    const box = el.getBoundingClientRect();
    const spill = getComputedStyle(el).overflowX === "visible"
      ? Math.max(0, el.scrollWidth - el.clientWidth) : 0;
    return box.right + spill;
  };
  const wide = [...document.body.querySelectorAll("*")]
    .filter((el) => right(el) > width + 0.5 && !inScroller(el));
  const describe = (el) => el.tagName.toLowerCase()
    + (el.id ? "#" + el.id : "")
    + (el.classList.length ? "." + [...el.classList].join(".") : "")
    + ` (to ${Math.round(right(el))} px: "${el.textContent.trim().slice(0, 40)}")`;
  return wide.filter((el) => !wide.some((other) => other !== el && el.contains(other)))
    .slice(0, 10).map(describe);
}"""


def describe_violations(violations):
    """One readable line per violation and per offending element, for CI logs."""
    lines = []
    for violation in violations:
        lines.append(
            f"  [{violation['impact']}] {violation['id']}: {violation['help']} "
            f"({violation['helpUrl']})"
        )
        for node in violation["nodes"][:10]:
            target = " ".join(str(part) for part in node["target"])
            lines.append(f"      {target}")
        if len(violation["nodes"]) > 10:
            lines.append(f"      … and {len(violation['nodes']) - 10} more")
    return "\n".join(lines)


# axe-core as bundled by pytest-playwright-axe. Its Axe.run() injects it the
# same way (frame.evaluate), but then merges per-frame results in a new browser
# context on every scan, which made these tests 3 to 6 times slower; our pages
# have no iframes, so axe.run() in the page gives the same results directly.
AXE_SOURCE = MIN_AXE_PATH.read_text(encoding="utf-8")


def run_axe(page):
    """axe-core's results for the page as it is now laid out."""
    # page.evaluate, not add_script_tag: the page's nonce-based
    # Content-Security-Policy blocks a <script> it did not issue a nonce for.
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE_SOURCE)
    return page.evaluate("(options) => axe.run(document, options)", AXE_OPTIONS)


@pytest.fixture(scope="session")
def screenshot_dir(pytestconfig):
    return Path(pytestconfig.getoption("--output")) / "screenshots"


@pytest.mark.parametrize(
    ("name", "path", "status"), PAGES, ids=[name for name, _, _ in PAGES]
)
def test_page_is_accessible(page, site, change, screenshot_dir, name, path, status):
    if name in PREPARE:
        PREPARE[name][0](page, site, change)
    page.set_viewport_size({"width": WIDTHS[0], "height": 900})
    response = page.goto(site + path)
    assert response.status == status, f"{path} answered {response.status}"
    if name in PREPARE:
        assert PREPARE[name][1] in page.content()
    problems = []
    for width in WIDTHS:
        # A server-rendered page: resizing re-applies the media queries, so one
        # load serves both widths.
        page.set_viewport_size({"width": width, "height": 900})
        found = []
        results = run_axe(page)
        if results["violations"]:
            found.append(
                f"axe-core found {len(results['violations'])} violation(s):\n"
                + describe_violations(results["violations"])
            )
        if width == PHONE:
            scroll_width = page.evaluate("document.documentElement.scrollWidth")
            if scroll_width > width:
                found.append(
                    f"  the page scrolls sideways (scrollWidth {scroll_width} px); "
                    "too wide: " + "; ".join(page.evaluate(OVERFLOWING_JS))
                )
        if found:
            shot = screenshot_dir / f"{name}-{width}.png"
            shot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=shot, full_page=True)
            problems.append(
                f"{path} at {width} px (screenshot: {shot}):\n" + "\n".join(found)
            )
    assert not problems, "\n\n".join(problems)
