"""The brief as a reader meets it (issue 20, part 4), on a phone and a desktop:
its date under the title, the contents above the text on a phone and beside it,
in view while reading, on a desktop; no address on screen; a practice named in
the text opens its page, whose breadcrumbs lead back to the section. axe-core
checks each page on the way."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_accessibility import describe_violations, run_axe

PHONE, DESKTOP = 375, 1280
BRIEF = "/briefs/internationalisation-of-smes/"


def assert_accessible(page):
    violations = run_axe(page)["violations"]
    assert not violations, f"{page.url}:\n" + describe_violations(violations)
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= page.viewport_size["width"], "the page scrolls sideways"


@pytest.mark.parametrize("width", [PHONE, DESKTOP])
def test_a_reader_follows_a_practice_from_the_brief_and_back(page, site, width):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(site + BRIEF)
    assert_accessible(page)
    expect(page.locator(".brief-dates")).to_contain_text("date not recorded")
    expect(page.locator(".brief-dates")).to_be_in_viewport()
    assert "http" not in page.locator("main").inner_text()  # link text only

    contents = page.locator("nav.toc").bounding_box()
    text = page.locator(".brief-text").bounding_box()
    if width == DESKTOP:  # side by side, and the contents stay in view
        assert contents["x"] + contents["width"] <= text["x"]
        assert abs(contents["y"] - text["y"]) < 50
        page.locator("#lessons-learnt").scroll_into_view_if_needed()
        expect(page.locator("nav.toc")).to_be_in_viewport()
    else:  # stacked: the contents first
        assert contents["y"] + contents["height"] <= text["y"]

    section = page.locator(
        "section.brief-section", has=page.locator("#grants-and-co-financing")
    )
    section.get_by_role("link", name="Kent International Business").click()
    expect(page).to_have_url(re.compile(r"/practices/kent-international-business/$"))
    assert_accessible(page)
    breadcrumbs = page.get_by_role("navigation", name="Breadcrumb")
    expect(breadcrumbs.locator('[aria-current="page"]')).to_have_text(
        "Kent International Business"
    )
    breadcrumbs.get_by_role("link", name="Grants and co-financing calls").click()
    expect(page).to_have_url(re.compile(re.escape(BRIEF) + "#grants-and-co-financing$"))
    expect(page.locator("#grants-and-co-financing")).to_be_in_viewport()


@pytest.mark.parametrize("width", [PHONE, DESKTOP])
def test_a_reader_goes_from_a_recommendation_to_a_practice_and_back(page, site, width):
    """Issue 21 #3: the brief's recommendations, labelled as the Atlas's own, link
    to the practices that illustrate them, whose pages lead back to them."""
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(site + BRIEF)
    page.locator("nav.toc").get_by_role("link", name="Recommendations").click()
    expect(page.locator("#recommendations")).to_be_in_viewport()
    recommendation = page.locator("#digital-ready")
    expect(recommendation).to_contain_text("Practice Atlas's own synthesis")
    recommendation.get_by_role("link", name="PASSPORT ABROAD").click()
    expect(page).to_have_url(re.compile(r"/practices/passport-abroad/$"))
    assert_accessible(page)
    back = page.get_by_role("link", name=re.compile(r"^recommendation 6 of "))
    expect(back).to_have_text("recommendation 6 of Internationalisation of SMEs")
    back.click()
    expect(page).to_have_url(re.compile(re.escape(BRIEF) + "#digital-ready$"))
    expect(page.locator("#digital-ready")).to_be_in_viewport()
