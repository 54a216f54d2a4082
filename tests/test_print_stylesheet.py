"""A cheap guard on the print stylesheet: the screen-only parts stay hidden on paper
and the comparison keeps its landscape page. (The layout itself was checked by
printing to PDF with Chromium; see the commit that added the rules.)"""

import re

from django.conf import settings
from django.utils import timezone

SITE_CSS = settings.BASE_DIR / "static" / "css" / "site.css"

HIDDEN_IN_PRINT = [
    ".site-header",  # navigation
    ".site-search",
    ".site-footer",
    ".skip-link",
    ".breadcrumbs",
    ".filter-panel",  # the filters
    ".active-filters",  # their chips
    ".pagination",
    ".compare-form",  # "Add to comparison" buttons
    ".messages",
    ".related",  # a practice's related and "more from" lists
]


def print_rules():
    """{selector: declarations} for the rules inside `@media print { … }`."""
    css = re.sub(r"/\*.*?\*/", "", SITE_CSS.read_text(), flags=re.S)
    start = css.index("{", css.index("@media print")) + 1
    depth, end = 1, start
    while depth:
        depth += {"{": 1, "}": -1}.get(css[end], 0)
        end += 1
    rules = {}
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css[start : end - 1]):
        for selector in selectors.split(","):
            rules[" ".join(selector.split())] = " ".join(body.split())
    return rules


def test_screen_only_parts_are_hidden_in_print():
    rules = print_rules()
    for selector in HIDDEN_IN_PRINT:
        assert "display: none" in rules.get(selector, ""), selector


def test_every_printout_names_the_site_its_address_and_the_day(client, catalogue):
    assert ".print-header { display: none; }" in SITE_CSS.read_text()  # screen
    assert "display: block" in print_rules()[".print-header"]
    today = timezone.localdate()
    for path in ["/", "/practices/?country=IT", "/practices/export-consortia/"]:
        page = client.get(path).text
        assert (
            f'<p class="print-header">Practice Atlas · http://testserver{path} · '
            f"printed {today.day} {today:%B %Y}</p>"
        ) in page
    # The 400 page of a bad Host renders the same template, without the address.
    response = client.get("/", headers={"host": "evil.example"})
    assert response.status_code == 400
    assert '<p class="print-header">Practice Atlas · printed ' in response.text


def test_external_links_print_their_address_but_anchors_do_not():
    rules = print_rules()
    assert 'content: " (" attr(href) ")"' in rules['a[href^="http"]::after']
    assert not any(selector.startswith('a[href^="#"]') for selector in rules)


def test_comparison_prints_on_a_landscape_page_without_clipping():
    rules = print_rules()
    assert "size: landscape" in rules["@page comparison"]
    assert "page: comparison" in rules["main:has(table.compare)"]
    assert "overflow: visible" in rules[".table-scroll"]
    assert "break-inside: avoid" in rules["tr"]
