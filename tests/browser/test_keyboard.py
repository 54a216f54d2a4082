"""Keyboard-only use: every step below goes through page.keyboard (Tab, Shift+Tab,
Enter, Space), never a click, as someone without a mouse would."""

import re

import pytest
from playwright.sync_api import expect

MAX_TAB_STOPS = 400

FOCUSED_JS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return "(nothing)";
  return el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
    + (el.getAttribute("name") ? `[name=${el.getAttribute("name")}]` : "")
    + ` "${(el.innerText || el.value || "").trim().slice(0, 50)}"`;
}"""


def focused_matches(page, selector):
    return page.evaluate(
        "(selector) => !!document.activeElement"
        " && document.activeElement.matches(selector)",
        selector,
    )


def tab_to(page, selector, key="Tab"):
    """Press Tab (or Shift+Tab) until the focused element matches the selector."""
    for _ in range(MAX_TAB_STOPS):
        page.keyboard.press(key)
        if focused_matches(page, selector):
            return
    pytest.fail(
        f"{MAX_TAB_STOPS} presses of {key} on {page.url} never reached {selector}; "
        f"focus ended on {page.evaluate(FOCUSED_JS)}"
    )


def focus_indicator(page):
    """The focused element's outline and box-shadow, as computed."""
    return page.evaluate(
        """() => {
          const style = getComputedStyle(document.activeElement);
          return {
            outline: style.outlineStyle === "none" || style.outlineWidth === "0px"
              ? "none" : `${style.outlineWidth} ${style.outlineStyle}`,
            boxShadow: style.boxShadow,
          };
        }"""
    )


def test_skip_link_is_the_first_tab_stop_and_moves_focus_to_main(page, site):
    page.goto(site + "/practices/")
    page.keyboard.press("Tab")
    assert focused_matches(page, "a.skip-link"), page.evaluate(FOCUSED_JS)
    box = page.locator("a.skip-link").bounding_box()
    assert box and box["y"] >= 0 and box["width"] > 1, "skip link is not shown"
    page.keyboard.press("Enter")
    assert focused_matches(page, "main#main"), page.evaluate(FOCUSED_JS)
    # Tab from main continues in the content, not back at the header.
    page.keyboard.press("Tab")
    assert page.evaluate(
        "document.querySelector('main').contains(document.activeElement)"
    )


# In the list page's tab order, so one pass of Tab visits them all.
FOCUSABLE_CONTROLS = [
    "a.skip-link",
    ".site-header nav a",
    "#site-search-q",
    ".site-search button",
    "#id_q",
    "#id_sort",
    ".facet input[type=checkbox]",
    ".facet-more summary",  # "Show all N"
    ".facet-clear a, .filters .actions button[type=submit]",
    ".results .card-title a",
    ".results .compare-form button",
    ".pagination a",
    ".per-page a",
    ".site-footer a",
]


def test_focused_controls_show_a_focus_indicator(page, site):
    page.goto(site + "/practices/")
    missing = []
    for selector in FOCUSABLE_CONTROLS:
        tab_to(page, selector)
        indicator = focus_indicator(page)
        if indicator["outline"] == "none" and indicator["boxShadow"] == "none":
            missing.append(f"{selector}: {page.evaluate(FOCUSED_JS)}")
    assert not missing, "No visible focus indicator on:\n" + "\n".join(missing)


def test_filter_open_compare_with_the_keyboard_only(page, site):
    page.goto(site + "/practices/")

    # Tick a facet checkbox (Italy) with Space: the results follow at once
    # (static/js/filters.js), and focus stays on the box.
    italy = "input[type=checkbox][name=country][value=IT]"
    tab_to(page, italy)
    page.keyboard.press("Space")
    expect(page).to_have_url(re.compile(r"[?&]country=IT\b"))
    expect(page.locator(italy)).to_be_checked()
    expect(page.locator("#results-heading")).to_contain_text("match")
    assert focused_matches(page, italy), page.evaluate(FOCUSED_JS)

    # The apply button (for the search box) moves focus to the results.
    tab_to(page, ".filters button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.locator("#results-heading")).to_be_focused()

    # Open the first practice in the results.
    first_result = page.locator(".results .card-title a").first
    title = first_result.inner_text().strip()
    href = first_result.get_attribute("href")
    tab_to(page, ".results .card-title a")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith(href), page.url
    expect(page.locator("h1")).to_have_text(title)

    # Add it to the comparison basket, reaching the button backwards with
    # Shift+Tab (from a fresh page, that starts at the last control).
    tab_to(page, ".compare-form button", key="Shift+Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator(".messages")).to_contain_text(f"Added “{title}”")

    # Go to the comparison through the header's Compare link.
    tab_to(page, ".site-header a[href*='/practices/compare/']")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/practices/compare/?p=" in page.url, page.url
    expect(page.locator("table.compare thead")).to_contain_text(title)
