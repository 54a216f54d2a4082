"""The list page keeps up with its filters (issue 20, item 1): the filters in
effect as removable chips, options in a useful order with long facets folded, a
heading and title that name the selection, page numbers and a per-page choice,
and "Add to comparison" leading back to the card it was pressed on."""

import re
from html import unescape

import pytest
from django.http import QueryDict
from django.urls import reverse
from pytest_django.asserts import assertInHTML

from practices.listing import list_practices
from tests.factories import make_country, make_instrument, make_practice
from tests.shared_data import shared_data

LIST = "/practices/"
# Twelve countries, so the country facet is long; France has no practice.
COUNTRIES = {
    "IT": "Italy", "ES": "Spain", "FR": "France", "AT": "Austria",
    "BE": "Belgium", "DE": "Germany", "DK": "Denmark", "FI": "Finland",
    "GR": "Greece", "NL": "Netherlands", "PL": "Poland", "SE": "Sweden",
}  # fmt: skip


@shared_data
def twelve_countries():
    """Italy 4 practices (3 with a voucher), Spain 3, each other country but
    France 2: 25 practices, more than a page."""
    countries = {code: make_country(code=code, name=n) for code, n in COUNTRIES.items()}
    voucher = make_instrument(slug="voucher", name="Voucher")
    for n in range(4):
        make_practice(
            slug=f"italy-{n}",
            title=f"Italian practice {n}",
            countries=[countries["IT"]],
            instruments=[voucher] if n < 3 else [],
        )
    for n in range(3):
        make_practice(slug=f"spain-{n}", countries=[countries["ES"]])
    for code in COUNTRIES.keys() - {"IT", "ES", "FR"}:
        for n in range(2):
            make_practice(slug=f"{code.lower()}-{n}", countries=[countries[code]])


pytestmark = pytest.mark.usefixtures("twelve_countries")


def page(client, query=""):
    response = client.get(f"{LIST}?{query}")
    assert response.status_code == 200
    return response.text


def listing(query):
    data = QueryDict(query)
    return list_practices(data), data


def chips(text):
    """(accessible name, href) of each chip on the page."""
    found = re.findall(r'<a class="chip" href="([^"]*)">(.*?)</a>', text)
    return [
        (unescape(re.sub(r"<[^>]+>|×", "", name)), unescape(href))
        for href, name in found
    ]


# --- chips ----------------------------------------------------------------------


def test_each_filter_value_is_a_chip_that_removes_only_that_value(client):
    text = page(client, "country=it&country=ES&instrument=voucher&sort=newest&page=1")
    assert chips(text) == [
        # Codes in any case, removed whatever the case; the sort is kept, the page
        # (which may no longer exist) is not.
        ("Remove Country: Spain", "?country=IT&instrument=voucher&sort=newest"),
        ("Remove Country: Italy", "?country=ES&instrument=voucher&sort=newest"),
        ("Remove Instrument type: Voucher", "?country=IT&country=ES&sort=newest"),
    ]
    # Following a chip leaves the other filters in effect.
    assert "3 practices match these filters" in page(client, chips(text)[0][1][1:])


def test_the_search_is_a_chip_too(client):
    text = page(client, "q=practice&country=IT")
    assert chips(text)[0] == ("Remove Search: practice", "?country=IT")


def test_clear_all_removes_every_filter_and_keeps_sort_and_page_size(client):
    text = page(client, "country=IT&q=practice&sort=newest&per_page=50")
    assert '<a class="clear-all" href="?sort=newest&amp;per_page=50">' in text
    listing_, _ = listing("")
    assert listing_.chips() == []


def test_no_chips_without_filters_or_with_an_invalid_one(client):
    assert 'class="chip"' not in page(client)
    response = client.get(LIST, {"country": ["IT", "ZZ"]})
    assert response.status_code == 400 and 'class="chip"' not in response.text


def test_the_filters_button_counts_the_values_in_effect(client):
    text = page(client, "country=IT&country=ES&instrument=voucher")
    assert re.search(r"Filters<span[^>]*> \(3<span", text)
    assert re.search(r"Filters<span[^>]*></span></summary>", page(client))


# --- option order and long facets ----------------------------------------------


def test_options_selected_first_then_by_count_then_the_empty_ones():
    listing_, data = listing("country=SE")
    country = next(f for f in listing_.facets(data) if f.name == "country")
    values = [option.value for option in country.options]
    # Sweden (selected), Italy 4, Spain 3, the ones with 2 in the model's order
    # (by name), France last with none.
    assert values[:3] == ["SE", "IT", "ES"]
    assert values[-1] == "FR"
    assert values[3:-1] == ["AT", "BE", "DK", "FI", "DE", "GR", "NL", "PL"]


def test_a_long_facet_shows_its_first_options_and_the_rest_behind_show_all(client):
    text = page(client)
    fieldset = re.search(r'id="facet-country">.*?</fieldset>', text, re.S)[0]
    shown, more = fieldset.split('<details class="facet-more"')
    assert len(re.findall(r'type="checkbox"', shown)) == 8
    assert "Show all 12" in more and "options for Country" in more
    assert len(re.findall(r'type="checkbox"', more)) == 4
    assert 'value="FR"' in more  # none to show: folded away
    assert "facet-long" not in text  # no scroll box inside the page


def test_every_selected_option_stays_in_view(client):
    codes = list(COUNTRIES)[2:]  # ten, France among them
    text = page(client, "&".join(f"country={code}" for code in codes))
    fieldset = re.search(r'id="facet-country">.*?</fieldset>', text, re.S)[0]
    shown = fieldset.split('<details class="facet-more"')[0]
    assert all(f'value="{code}"' in shown for code in codes)


# --- heading and title ----------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "heading", "title"),
    [
        ("", "Practices", "Practices"),
        ("country=IT", "Practices: Italy", "Practices: Italy · 4 practices"),
        (
            "country=IT&instrument=voucher",
            "Practices: Italy · Voucher",
            "Practices: Italy · Voucher · 3 practices",
        ),
        (
            "country=IT&country=ES",
            "Practices: Spain or Italy",
            "Practices: Spain or Italy · 7 practices",
        ),
        (
            "q=italian&country=IT",
            "Search: “italian” · Italy",
            "Search: “italian” · Italy · 4 practices",
        ),
        ("country=SE", "Practices: Sweden", "Practices: Sweden · 2 practices"),
        (
            "country=SE&level=local",
            "Practices: Sweden · Local",
            "Practices: Sweden · Local · 0 practices",
        ),
        ("per_page=5&page=2", "Practices", "Practices · page 2"),
        ("country=ZZ", "Practices", "Practices"),  # 400: what is wrong is below
    ],
)
def test_heading_and_title_name_the_selection(client, query, heading, title):
    text = client.get(f"{LIST}?{query}").text
    assert f'<h1 id="list-heading" data-refresh>{heading}</h1>' in text
    assert f"<title>{title} · Practice Atlas</title>" in text


def test_a_long_search_is_shortened_in_the_heading():
    listing_, _ = listing("q=" + "word " * 30)
    assert listing_.heading.startswith("Search: “word word")
    assert len(listing_.heading) < 80 and listing_.heading.endswith("…”")


# --- pages and page size --------------------------------------------------------


def page_links(text):
    """The text of each item of the pagination's list."""
    nav = re.search(r'<nav class="pagination".*?</nav>', text, re.S)[0]
    items = re.findall(r"<li[^>]*>(.*?)</li>", nav, re.S)
    return [unescape(re.sub(r"<[^>]+>", "", item)).strip() for item in items]


@pytest.mark.parametrize(
    ("number", "links"),
    [
        (1, ["Page 1", "Page 2", "Page 3", "…", "Page 13", "Next page"]),
        (
            6,
            ["Previous page", "Page 1", "…", "Page 4", "Page 5", "Page 6", "Page 7",
             "Page 8", "…", "Page 13", "Next page"],
        ),
    ],
)  # fmt: skip
def test_page_numbers_around_the_current_one_and_the_last(client, number, links):
    text = page(client, f"sort=newest&per_page=2&page={number}")  # 13 pages
    assert page_links(text) == links
    current = '<span class="visually-hidden">Page </span>'
    assert f'<span class="current" aria-current="page">{current}{number}</span>' in text
    assert f"Page {number} of 13" in text
    assert "?sort=newest&amp;per_page=2&amp;page=13" in text  # the query is kept


def test_a_choice_of_page_size_when_there_is_more_than_a_page(client):
    text = page(client, "sort=newest&page=2")
    assertInHTML('<strong aria-current="true">20</strong>', text)
    # The new size starts at the first page, with the same filters and sort.
    for size in (50, 100):
        assertInHTML(
            f'<a href="?sort=newest&amp;per_page={size}"><span class="visually-hidden">'
            f'Show </span>{size}<span class="visually-hidden"> per page</span></a>',
            text,
        )
    assert "25 practices" in page(client, "per_page=50")
    assert 'class="per-page"' not in page(client, "country=IT")  # 4: one page


# --- back to the card after "Add to comparison" -------------------------------


def test_compare_buttons_come_back_to_their_card(client):
    text = page(client, "country=IT")
    assert '<article class="card" id="practice-italy-0">' in text
    back = "/practices/?country=IT#practice-italy-0"
    assert f'<input type="hidden" name="next" value="{back}">' in text
    response = client.post(
        reverse("practices:compare-add"),
        {"slug": "italy-0", "next": back},
    )
    assert response.status_code == 302 and response["Location"] == back


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/#practice-italy-0",
        "//evil.example/#practice-italy-0",
        "/\\evil.example/#practice-italy-0",
        "javascript:alert(1)//#practice-italy-0",
    ],
)
def test_the_way_back_never_leaves_the_site(client, next_url):
    response = client.post(
        reverse("practices:compare-add"), {"slug": "italy-0", "next": next_url}
    )
    assert response["Location"] == "/practices/italy-0/"


def test_cards_elsewhere_have_no_id_and_the_practice_page_no_fragment(client):
    text = client.get("/practices/italy-0/").text
    assert 'name="next" value="/practices/italy-0/"' in text
    assert 'id="practice-' not in client.get("/countries/it/").text
