"""Filters that keep up (issue 20, part 1), on a phone and a desktop, with and
without JavaScript: ticking a country narrows the results (at once with the
script, after "Apply filters" without it), chips remove a filter, the apply
button stays in reach, the phone shows a result in its first screen, "Add to
comparison" comes back to the card, and axe-core finds nothing on the way."""

import re

import pytest
from playwright.sync_api import expect

from practices.models import Practice
from practices.views import PAGE_SIZE
from tests.browser.test_accessibility import describe_violations, run_axe

PHONE, DESKTOP = (375, 844), (1280, 900)  # the phone: a 375 x 844 screen
SIZES = {"phone": PHONE, "desktop": DESKTOP}
ITALY = "input[type=checkbox][name=country][value=IT]"


@pytest.fixture(params=["phone", "desktop"])
def size(request):
    return request.param


@pytest.fixture(params=["script", "no-script"])
def script(request):
    return request.param == "script"


@pytest.fixture
def reader(browser, site, size, script):
    """A page in a browser of that size, with or without the site's script. Its
    one script is blocked rather than JavaScript turned off, because axe-core
    runs in the page (test_a_phone_shows_… turns JavaScript off)."""
    width, height = SIZES[size]
    context = browser.new_context(viewport={"width": width, "height": height})
    if not script:
        context.route(re.compile(r"/static/js/"), lambda route: route.abort())
    yield context.new_page()
    context.close()


def assert_accessible(page):
    violations = run_axe(page)["violations"]
    assert not violations, f"{page.url}:\n" + describe_violations(violations)
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= page.viewport_size["width"], "the page scrolls sideways"


def open_filters(page, size):
    """On a phone the filters are behind "Filters (n)"; on a desktop, in view."""
    toggle = page.locator("#filter-panel > summary")
    if size == "phone":
        expect(page.locator("#filters")).to_be_hidden()
        toggle.click()
    else:
        expect(toggle).to_be_hidden()
    expect(page.locator("#filters")).to_be_visible()


def italian_practices():
    return Practice.objects.published().filter(countries__code="IT").count()


def test_ticking_a_country_narrows_the_results(reader, site, size, script):
    page = reader
    page.goto(site + "/practices/")
    open_filters(page, size)
    # The apply button is in reach without scrolling: sticky at the screen's foot.
    expect(page.locator(".filters .actions button")).to_be_in_viewport()
    if script:
        page.evaluate("window.stillTheSamePage = true")
        page.locator(ITALY).check()
        # Updated in place: no page load, focus still on the box, count announced.
        expect(page).to_have_url(re.compile(r"[?&]country=IT\b"))
        assert page.evaluate("window.stillTheSamePage === true")
        assert page.evaluate(f"document.activeElement.matches('{ITALY}')")
        expect(page.locator("#results-status")).to_have_text(
            f"{italian_practices()} practices match these filters"
        )
    else:
        page.locator(ITALY).check()
        assert "country=" not in page.url  # nothing happens before the button
        with page.expect_navigation():
            page.locator(".filters .actions button").click()
        expect(page).to_have_url(re.compile(r"[?&]country=IT\b"))
    expect(page.locator("h1")).to_have_text("Practices: Italy")
    expect(page).to_have_title(
        f"Practices: Italy · {italian_practices()} practices · Practice Atlas"
    )
    expect(page.locator("#results-heading")).to_have_text(
        f"{italian_practices()} practices match these filters"
    )
    expect(page.locator(ITALY)).to_be_checked()
    cards = page.locator(".results .card")
    expect(cards).to_have_count(min(italian_practices(), PAGE_SIZE))  # one page
    assert_accessible(page)  # with the filter panel open on the phone


def test_a_chip_removes_its_filter(reader, site, script):
    page = reader
    page.goto(site + "/practices/?country=IT&level=regional")
    assert_accessible(page)
    page.get_by_role("link", name="Remove Country: Italy").click()
    expect(page).to_have_url(re.compile(r"/practices/\?level=regional$"))
    expect(page.locator("h1")).to_have_text("Practices: Regional")
    page.get_by_role("link", name="Clear all filters").click()
    expect(page).to_have_url(re.compile(r"/practices/\?$"))
    expect(page.locator("h1")).to_have_text("Practices")
    expect(page.locator(".chip")).to_have_count(0)


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?country=IT",
        # Long chips over several lines, a heading over two.
        "?q=export&instrument=grant-or-co-financing-call&country=IT&level=regional",
    ],
)
def test_a_phone_shows_a_result_in_its_first_screen(browser, site, script, query):
    context = browser.new_context(
        viewport={"width": PHONE[0], "height": PHONE[1]}, java_script_enabled=script
    )
    page = context.new_page()
    page.goto(site + "/practices/" + query)
    title = page.locator(".results .card-title").first
    expect(title).to_be_visible()
    box = title.bounding_box()
    assert box["y"] + box["height"] <= PHONE[1], f"the first result is at {box}"
    context.close()


def test_show_all_opens_a_long_facet_in_place(reader, site, size):
    page = reader
    page.goto(site + "/practices/?country=IT")
    open_filters(page, size)
    countries = page.locator("#facet-country input[type=checkbox]")
    hidden = page.locator("#more-country input[type=checkbox]").first
    expect(hidden).to_be_hidden()
    page.locator("#more-country > summary").click()
    expect(hidden).to_be_visible()
    # The selected option first, every option reachable, no scroll box.
    expect(countries.first).to_have_attribute("value", "IT")
    assert page.evaluate(
        "[...document.querySelectorAll('.facet-options')].every("
        "(list) => list.scrollHeight <= list.clientHeight)"
    )
    assert_accessible(page)


def test_add_to_comparison_comes_back_to_the_card(reader, site):
    page = reader
    page.goto(site + "/practices/?country=IT")
    card = page.locator(".results .card").nth(4)
    card_id = card.get_attribute("id")
    with page.expect_navigation():
        card.get_by_role("button", name=re.compile("^Add to comparison")).click()
    expect(page).to_have_url(re.compile(rf"\?country=IT#{card_id}$"))
    expect(page.locator(f"#{card_id}")).to_be_in_viewport()
    expect(page.locator(f"#{card_id}").get_by_role("button")).to_contain_text(
        "Remove from comparison"
    )
