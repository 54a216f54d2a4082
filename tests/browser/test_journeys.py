"""The five journeys of issue 20, walked as people walk them: a public reader, a
policy officer, someone browsing by region, a curator and a phone user. Each runs
at 375 and 1280 px (the phone journey at 375 only), with and without the site's
scripts, and axe-core checks every new page and state on the way.

A journey is a list of steps, each a function of a Walk (the page and what the
journey has found so far): to take a journey further, append a step to its list.
"Without JavaScript" blocks every script file the pages load, as a browser with
scripts turned off would not run them; JavaScript itself stays on, because
axe-core runs in the page (with it off, axe never finishes).
"""

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.utils import dateformat, timezone
from playwright.sync_api import expect

from practices.models import Practice, Status
from tests.browser.test_accessibility import (
    AXE_OPTIONS,
    AXE_SOURCE,
    describe_violations,
)
from tests.browser.test_admin_curation import PERMISSIONS

PHONE, DESKTOP = (375, 812), (1280, 900)
SIZES = {"phone": PHONE, "desktop": DESKTOP}
SCRIPT_FILES = re.compile(r"\.js(\?.*)?$")
BRIEF = "/briefs/internationalisation-of-smes/"
ADMIN = "/" + settings.ADMIN_PATH


@dataclass
class Walk:
    """One journey under way: its page, its conditions, and what earlier steps
    found for later ones (`found`)."""

    page: object
    site: str
    size: str
    script: bool
    screenshots: object
    found: dict = field(default_factory=dict)
    step: str = ""  # the step under way, for a screenshot's name

    @property
    def phone(self):
        return self.size == "phone"

    def go(self, path):
        response = self.page.goto(self.site + path)
        assert response.status == 200, f"{path} answered {response.status}"

    def check(self, *within):
        """axe-core finds nothing on the page as it is now (or only `within`
        these selectors), and the page does not scroll sideways."""
        page = self.page
        if not page.evaluate("typeof window.axe === 'object'"):
            page.evaluate(AXE_SOURCE)  # not add_script_tag: the CSP would block it
        violations = page.evaluate(
            """([options, within]) => axe.run(
                 within.length ? {include: within.map((s) => [s])} : document,
                 options)""",
            [AXE_OPTIONS, list(within)],
        )["violations"]
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        problems = describe_violations(violations) if violations else ""
        if scroll_width > page.viewport_size["width"]:
            problems += f"\n  the page scrolls sideways ({scroll_width} px)"
        if problems:
            state = "script" if self.script else "no-script"
            shot = self.screenshots / f"{self.step}-{self.size}-{state}.png"
            shot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=shot, full_page=True)
            pytest.fail(f"{page.url} (screenshot: {shot}):\n{problems}")


@pytest.fixture(params=["phone", "desktop"])
def size(request):
    return request.param


@pytest.fixture(params=["script", "no-script"])
def script(request):
    return request.param == "script"


@pytest.fixture(scope="session")
def screenshots(pytestconfig):
    return Path(pytestconfig.getoption("--output")) / "screenshots"


@pytest.fixture
def walk(browser, site, size, script, screenshots):
    """A journey's start: a new browser context (its own cookies: its own
    comparison basket and sign-in) in the session's Chromium, on the live server."""
    width, height = SIZES[size]
    context = browser.new_context(viewport={"width": width, "height": height})
    if not script:
        context.route(SCRIPT_FILES, lambda route: route.abort())
    yield Walk(context.new_page(), site, size, script, screenshots)
    context.close()


def walk_through(walk, steps):
    for step in steps:
        walk.step = step.__name__
        step(walk)


# --- 1. A public reader: the brief, a practice it features, and back -----------------


def home_to_the_brief(walk):
    walk.go("/")
    walk.check()
    briefs = walk.page.get_by_role("region", name="Policy briefs")
    briefs.get_by_role("link", name="Internationalisation of SMEs").click()
    expect(walk.page).to_have_url(walk.site + BRIEF)
    expect(walk.page.locator("h1")).to_have_text("Internationalisation of SMEs")
    walk.check()


def brief_to_a_section(walk):
    contents = walk.page.get_by_role("navigation", name="Contents")
    contents.get_by_role("link", name="Grants and co-financing calls").click()
    expect(walk.page).to_have_url(re.compile("#grants-and-co-financing$"))
    expect(walk.page.locator("#grants-and-co-financing")).to_be_in_viewport()


def section_to_a_practice(walk):
    section = walk.page.locator(
        "section.brief-section", has=walk.page.locator("#grants-and-co-financing")
    )
    section.get_by_role("link", name="Kent International Business").click()
    expect(walk.page).to_have_url(
        re.compile("/practices/kent-international-business/$")
    )
    expect(walk.page.locator("h1")).to_have_text("Kent International Business")
    walk.check()


def featured_in_back_to_the_section(walk):
    page = walk.page
    practice_url = page.url
    featured = page.get_by_role("region", name="Featured in")
    featured.get_by_role("link", name=re.compile("Grants and co-financing")).click()
    expect(page).to_have_url(re.compile(re.escape(BRIEF) + "#grants-and-co-financing$"))
    expect(page.locator("#grants-and-co-financing")).to_be_in_viewport()
    page.go_back()
    expect(page).to_have_url(practice_url)


def print_the_practice(walk):
    """On paper: the site, the page's address and the day; no related lists."""
    page = walk.page
    page.emulate_media(media="print")
    header = page.locator(".print-header")
    expect(header).to_be_visible()
    today = dateformat.format(timezone.localdate(), "j F Y")
    expect(header).to_have_text(f"Practice Atlas · {page.url} · printed {today}")
    expect(page.locator(".related")).to_be_hidden()
    expect(page.locator(".site-header")).to_be_hidden()
    walk.check()  # the print header sits in the main landmark
    page.emulate_media(media="screen")
    expect(header).to_be_hidden()
    expect(page.locator(".related")).to_be_visible()


PUBLIC_READER = [
    home_to_the_brief,
    brief_to_a_section,
    section_to_a_practice,
    featured_in_back_to_the_section,
    print_the_practice,
]


def test_a_public_reader_goes_from_the_brief_to_a_practice_and_back(walk):
    walk_through(walk, PUBLIC_READER)


# --- 2. A policy officer: filter, shortlist, compare, download, follow ---------------


def open_filters(walk):
    """On a phone the filters open from "Filters (n)"; beside the list otherwise."""
    if walk.phone and not walk.page.locator("#filters").is_visible():
        walk.page.locator("#filter-panel > summary").click()
    expect(walk.page.locator("#filters")).to_be_visible()


def tick(walk, name, value):
    """Tick a filter's option and wait for the list it gives: at once with the
    script, after "Apply filters" without it."""
    page = walk.page
    open_filters(walk)
    page.locator(f"input[type=checkbox][name={name}][value='{value}']").check()
    if not walk.script:
        page.locator(".filters .actions button").click()
    expect(page).to_have_url(re.compile(rf"[?&]{name}={value}\b"))


def filter_the_list(walk):
    page = walk.page
    walk.go("/practices/")
    tick(walk, "country", "IT")
    tick(walk, "level", "regional")
    expect(page.locator("h1")).to_have_text("Practices: Italy · Regional")
    expect(page.locator(".chip")).to_have_count(2)
    walk.check()


def remove_a_chip(walk):
    page = walk.page
    page.get_by_role("link", name="Remove Implementation level: Regional").click()
    expect(page.locator("h1")).to_have_text("Practices: Italy")
    expect(page.locator(".chip")).to_have_count(1)
    assert "country=IT" in page.url and "level=" not in page.url
    walk.found["list"] = page.url
    walk.check()


def shortlist_two(walk):
    """ "Add to comparison" on two cards, each time back at that card."""
    page = walk.page
    cards = page.locator(".results .card")
    walk.found["shortlist"] = []
    for n in (0, 2):
        card = cards.nth(n)
        card_id = card.get_attribute("id")
        card.get_by_role("button", name=re.compile("^Add to comparison")).click()
        expect(page).to_have_url(re.compile(rf"[?&]country=IT#{card_id}$"))
        card = page.locator(f"#{card_id}")
        expect(card).to_be_in_viewport()
        expect(card.get_by_role("button")).to_contain_text("Remove from comparison")
        walk.found["shortlist"].append(card.locator(".card-title").inner_text())
    walk.check()


def open_the_comparison(walk):
    page = walk.page
    page.get_by_role("link", name="Compare (2)").click()
    expect(page).to_have_url(re.compile(r"/practices/compare/\?p=[^&]+&p=[^&]+$"))
    for title in walk.found["shortlist"]:
        expect(page.locator("main")).to_contain_text(title)
    walk.check()


def download_the_comparison(walk):
    page = walk.page
    with page.expect_download() as download:
        page.locator(".downloads").get_by_role("link", name=re.compile("^CSV")).click()
    today = timezone.localdate()
    assert download.value.suggested_filename == (
        f"practice-atlas_comparison_{today}.csv"
    )
    with open(download.value.path(), encoding="utf-8", newline="") as file:
        rows = list(csv.reader(file))
    assert rows[0] == ["", *walk.found["shortlist"]]


def follow_the_search(walk):
    page = walk.page
    page.goto(walk.found["list"])
    page.get_by_role("link", name="Follow this search").click()
    expect(page).to_have_url(re.compile(r"/follow/\?(.*&)?country=IT$"))
    expect(page.get_by_label("Feed address")).to_have_value(
        re.compile(re.escape(f"{walk.site}/practices/feed/?") + "(.*&)?country=IT$")
    )
    walk.check()


def search(walk, words):
    """Type a search in the list's own search field and send it (Enter)."""
    page = walk.page
    walk.go("/practices/")
    open_filters(walk)
    page.locator("#id_q").fill(words)
    page.locator("#id_q").press("Enter")
    expect(page).to_have_url(re.compile(r"[?&]q="))


def search_with_a_plural(walk):
    """ "vouchers" finds the voucher schemes (stemmed on SQLite as on PostgreSQL)."""
    page = walk.page
    search(walk, "vouchers")
    expect(page.locator("h1")).to_have_text("Search: “vouchers”")
    expect(page.locator(".results .card").first).to_be_visible()
    expect(page.locator(".results mark").first).to_have_text(
        re.compile("^voucher", re.I)
    )
    walk.check()


def a_way_out_of_an_empty_search(walk):
    """No practice holds both words: the page offers the instrument named like
    one of them, with its count, and the link leads to those practices."""
    page = walk.page
    search(walk, "quantum voucher")
    ways = page.locator(".ways-out")
    expect(ways).to_be_visible()
    walk.check()
    ways.get_by_role("link", name=re.compile(r"^Voucher \(instrument")).click()
    expect(page).to_have_url(re.compile(r"[?&]instrument=voucher\b"))
    expect(page.locator(".results .card").first).to_be_visible()


def a_region_named_in_english(walk):
    """ "Ceuta" is Ciudad de Ceuta (ES63): no practice there yet, and the
    nearest places that have some."""
    page = walk.page
    search(walk, "Ceuta")
    empty = page.locator(".empty-place")
    expect(empty).to_contain_text("No practices in Ceuta (Ciudad de Ceuta) yet.")
    expect(empty.get_by_role("link", name="Spain")).to_be_visible()
    walk.check()


POLICY_OFFICER = [
    search_with_a_plural,
    a_way_out_of_an_empty_search,
    a_region_named_in_english,
    filter_the_list,
    remove_a_chip,
    shortlist_two,
    open_the_comparison,
    download_the_comparison,
    follow_the_search,
]


def test_a_policy_officer_filters_shortlists_compares_and_follows(walk):
    walk_through(walk, POLICY_OFFICER)


# --- 3. Browsing by region, and the places with no practice yet ----------------------


def countries_to_a_region(walk):
    page = walk.page
    walk.go("/countries/")
    walk.check()
    page.locator("table").get_by_role("link", name="Italy", exact=True).click()
    expect(page).to_have_url(re.compile("/countries/it/$"))
    expect(page.locator("h1")).to_have_text("Italy")
    walk.check()
    regions = page.get_by_role("region", name="Regions with practices")
    regions.get_by_role("link", name="Emilia-Romagna").click()
    expect(page).to_have_url(re.compile("/regions/ITH5/$"))
    expect(page.locator("h1")).to_have_text("Emilia-Romagna")
    walk.check()


def a_country_with_no_practice(walk):
    page = walk.page
    walk.go("/countries/")
    page.locator("table").get_by_role("link", name="Norway", exact=True).click()
    expect(page).to_have_url(re.compile("/countries/no/$"))
    expect(page.locator(".empty-place")).to_contain_text("No practices in Norway yet.")
    walk.check()


def a_region_with_no_practice(walk):
    page = walk.page
    walk.go("/practices/?region=ES63")
    empty = page.locator(".empty-place")
    expect(empty).to_contain_text("No practices in Ceuta (Ciudad de Ceuta) yet.")
    expect(empty).to_contain_text("The nearest places that have some:")
    walk.check()
    empty.get_by_role("link", name="Spain").click()
    expect(page).to_have_url(re.compile("/countries/es/$"))
    expect(page.locator(".card").first).to_be_visible()


def a_region_ticked_in_its_country(walk):
    """The region facet groups regions by country: Emilia-Romagna under Italy."""
    page = walk.page
    walk.go("/practices/")
    open_filters(walk)
    italy = page.locator("#filters fieldset.facet-group").filter(
        has=page.locator("legend", has_text=re.compile("^Italy$"))
    )
    if not italy.first.is_visible():
        page.locator("#more-region > summary").click()
    box = italy.first.get_by_role("checkbox", name=re.compile("^Emilia-Romagna"))
    box.check()
    if not walk.script:
        page.locator(".filters .actions button").click()
    expect(page).to_have_url(re.compile(r"[?&]region=ITH5\b"))
    expect(page.locator("h1")).to_have_text("Practices: Emilia-Romagna")
    walk.check()


BY_REGION = [
    a_region_ticked_in_its_country,
    countries_to_a_region,
    a_country_with_no_practice,
    a_region_with_no_practice,
]


def test_browsing_by_region_reaches_regions_and_ways_out_of_empty_places(walk):
    walk_through(walk, BY_REGION)


# --- 4. A curator: a refused publication, and the error summary ---------------------

INCOMPLETE = "export-development-program"  # no theme, instrument or place


def sign_in_as_reviewer(walk):
    # Permissions, not the Reviewers group: tests that flush the database run
    # before the browser tests and remove the groups its migration made.
    user, _ = User.objects.get_or_create(username="journey-reviewer", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=PERMISSIONS))
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    walk.page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": walk.site}]
    )


def publish_an_incomplete_record(walk):
    page = walk.page
    practice = Practice.objects.get(slug=INCOMPLETE)
    walk.go(f"{ADMIN}practices/practice/{practice.pk}/change/")
    page.locator(".workflow").first.get_by_role("button", name="Publish").click()
    refusal = page.locator(".messagelist .error")
    expect(refusal).to_contain_text("cannot be published yet: it needs a theme")
    expect(refusal).to_contain_text("an instrument type")
    expect(refusal).to_be_in_viewport()  # at the top, where the page opens
    expect(page.locator(".workflow").first).to_contain_text(
        "This practice is In review"
    )
    walk.check(".messagelist", ".workflow")


def the_error_summary_leads_to_the_field(walk):
    page = walk.page
    page.fill("#id_summary", "")
    page.locator(".workflow").first.get_by_role("button", name="Publish").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_be_in_viewport()
    walk.check("#error-summary", ".workflow")
    summary.get_by_role("link", name="Summary: This field is required.").click()
    expect(page.locator("#id_summary")).to_be_focused()
    expect(page.locator("#id_summary")).to_be_in_viewport()


CURATOR = [publish_an_incomplete_record, the_error_summary_leads_to_the_field]


@pytest.fixture
def in_review(change):
    """The incomplete practice, submitted for review (by no one signed in here,
    so the reviewer may publish it); put back afterwards."""
    practice = Practice.objects.get(slug=INCOMPLETE)
    change(practice, status=Status.DRAFT)  # a correction: published → draft
    change(practice, status=Status.IN_REVIEW)
    return practice


def test_a_curator_is_told_what_publication_needs(walk, in_review):
    sign_in_as_reviewer(walk)
    walk_through(walk, CURATOR)


# --- 5. A phone: the first result at once, the filters one tap away -----------------


def first_result_on_the_first_screen(walk):
    page = walk.page
    walk.go("/practices/?country=IT")
    title = page.locator(".results .card-title").first
    expect(title).to_be_in_viewport()
    box = title.bounding_box()
    assert box["y"] + box["height"] <= PHONE[1], f"the first result is at {box}"
    walk.check()


def filters_open_from_their_button(walk):
    page = walk.page
    toggle = page.locator("#filter-panel > summary")
    expect(toggle).to_have_text("Filters (1 in effect)")
    expect(page.locator("#filters")).to_be_hidden()
    toggle.click()
    expect(page.locator("#filters")).to_be_visible()
    expect(page.locator("input[name=country][value=IT]")).to_be_checked()
    walk.check()


PHONE_USER = [first_result_on_the_first_screen, filters_open_from_their_button]


@pytest.mark.parametrize("size", ["phone"])
def test_a_phone_shows_results_first_and_filters_on_demand(walk):
    walk_through(walk, PHONE_USER)
