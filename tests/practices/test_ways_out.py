"""Ways out of an empty list (issue 20, item 2): dropping one filter or word, and
the filter values named like the words searched, each with the count the list at
its link shows; plurals found on both databases."""

import re
from html import unescape

import pytest
from django.http import QueryDict

from practices import ways_out
from practices.listing import list_practices
from practices.models import ImplementationLevel
from tests.factories import (
    make_country,
    make_instrument,
    make_practice,
    make_region,
    make_theme,
)
from tests.shared_data import shared_data

LIST = "/practices/"
REGIONAL, NATIONAL = ImplementationLevel.REGIONAL, ImplementationLevel.NATIONAL


@shared_data
def vouchers():
    """Three voucher practices (Italy 2, one in Emilia-Romagna; Spain 1), a trade
    mission in Spain and a practice in Italy with no instrument."""
    italy, spain = make_country(code="IT"), make_country(code="ES", name="Spain")
    north_east = make_region(code="ITH", name="Nord-Est", country=italy)
    emilia = make_region(code="ITH5", name="Emilia-Romagna", parent=north_east)
    voucher = make_instrument(slug="voucher", name="Voucher")
    missions = make_instrument(slug="missions", name="Trade missions and fairs")
    innovation = make_theme(slug="innovation", name="Innovation-led growth")
    make_practice(
        slug="v1",
        title="Export cheques for small firms",
        countries=[italy],
        regions=[emilia],
        instruments=[voucher],
        level=REGIONAL,
    )
    make_practice(
        slug="v2",
        title="Consultancy cheques",
        countries=[italy],
        instruments=[voucher],
        level=REGIONAL,
    )
    make_practice(
        slug="v3",
        title="Cheques for fairs",
        countries=[spain],
        instruments=[voucher],
        level=NATIONAL,
    )
    make_practice(
        slug="m1",
        title="Delegations to Asia",
        countries=[spain],
        instruments=[missions],
        themes=[innovation],
        level=REGIONAL,
    )
    make_practice(slug="m2", title="Delegations to Africa", countries=[italy])


pytestmark = pytest.mark.usefixtures("vouchers")


def ways(client, query):
    """(drops, values) of the page for `query`: [(link text, href, count)]."""
    response = client.get(f"{LIST}?{query}")
    assert response.status_code == 200
    found = {}
    for part in ("drops", "values"):
        block = re.search(
            rf'<h4 id="ways-out-{part}">.*?</ul>', response.text, re.DOTALL
        )
        items = re.findall(
            r'<li><a href="([^"]*)">(.*?)</a> · (\d+) practices?</li>',
            block.group(0) if block else "",
        )
        found[part] = [(unescape(t), unescape(h), int(n)) for h, t, n in items]
    return found["drops"], found["values"]


def listed(client, query):
    """The slugs the list shows at `query` ("?…")."""
    response = client.get(f"{LIST}{query}")
    assert response.status_code == 200
    return [practice.slug for practice in response.context["practices"]]


def test_plurals_find_the_singular_on_this_database(client):
    # "Voucher" is an instrument's name, which the index holds for its practices.
    assert sorted(listed(client, "?q=vouchers")) == ["v1", "v2", "v3"]
    assert sorted(listed(client, "?q=VOUCHERS&country=it")) == ["v1", "v2"]


def test_an_empty_search_and_filters_offer_each_filter_dropped_with_its_count(
    client,
):
    # Regional voucher practices in Spain: none. Without the search: m1; without
    # Spain: v1 and v2; without the level: v3.
    drops, _ = ways(client, "q=vouchers&country=ES&level=regional")
    assert drops == [
        ("Without the search “vouchers”", "?country=ES&level=regional", 1),
        ("Without Implementation level: Regional", "?q=vouchers&country=ES", 1),
        ("Without Country: Spain", "?q=vouchers&level=regional", 2),
    ]  # the fewest practices first: the nearest to what was asked
    for _, url, count in drops:
        assert len(listed(client, url)) == count


def test_a_drop_that_finds_nothing_is_not_offered(client):
    drops, _ = ways(client, "q=delegations&country=ES&instrument=voucher")
    # Without the search: v3; without the instrument: m1; without Spain: nothing
    # (no voucher practice mentions delegations), so not offered.
    labels = [label for label, _, _ in drops]
    assert labels == [
        "Without the search “delegations”",
        "Without Instrument type: Voucher",
    ]


def test_each_word_of_a_search_dropped(client):
    drops, values = ways(client, "q=vouchers+lapland&sort=relevance&page=1")
    assert drops == [
        # "lapland" alone finds nothing: not offered.
        ("Without “lapland”: search “vouchers”", "?sort=relevance&q=vouchers", 3),
        ("Without the search “vouchers lapland”", "?sort=relevance", 5),
    ]
    for _, url, count in drops:
        assert len(listed(client, url)) == count


def test_a_word_naming_an_instrument_suggests_that_instrument(client):
    _, values = ways(client, "q=vouchers+lapland&country=IT")
    assert values == [
        ("Voucher (instrument type)", "?country=IT&instrument=voucher", 2)
    ]
    assert sorted(listed(client, values[0][1])) == ["v1", "v2"]


def test_names_of_themes_countries_and_levels_match_too(client):
    _, values = ways(client, "q=innovative+regional+spanish+lapland")
    assert values == [
        ("Regional (implementation level)", "?level=regional", 3),
        ("Innovation-led growth (theme)", "?theme=innovation", 1),
    ]  # the most practices first; "spanish" is not "Spain"
    _, values = ways(client, "q=spain+lapland")
    assert values == [("Spain (country)", "?country=ES", 2)]


def test_words_inside_hyphenated_names_match():
    make_theme(slug="first-steps", name="First steps for non-exporters")
    listing = list_practices(QueryDict("q=exporters"))
    matched = ways_out.term_values(listing, ["exporters"])
    assert matched == [("theme", "first-steps", "First steps for non-exporters")]


def test_a_value_replaces_its_filter_s_other_values_and_its_count_says_so(client):
    _, values = ways(client, "q=voucher+lapland&instrument=missions&country=IT")
    assert values == [
        ("Voucher (instrument type)", "?country=IT&instrument=voucher", 2)
    ]


def test_no_value_already_selected_and_no_short_word_is_suggested(client):
    _, values = ways(client, "q=voucher+and+lapland&instrument=voucher")
    assert values == []  # "and" would match "Trade missions and fairs"


def test_a_place_matcher_plugs_in_as_one_more_source(client, monkeypatch):
    def regions(listing, words):
        if "emilia" in words:
            yield "region", "ITH5", "Emilia-Romagna"

    monkeypatch.setattr(ways_out, "MATCHERS", [*ways_out.MATCHERS, regions])
    _, values = ways(client, "q=emilia+lapland&level=regional")
    assert values == [("Emilia-Romagna (region)", "?level=regional&region=ITH5", 1)]
    assert listed(client, values[0][1]) == ["v1"]


def test_a_long_search_is_shortened_in_its_way_out(client):
    words = " ".join(f"lapland{n}" for n in range(12))  # no word dropped: too many
    drops, _ = ways(client, f"q={words}")
    assert drops == [(f"Without the search “{words[:59]}…”", "?", 5)]


def test_the_ways_out_are_a_heading_and_lists_inside_the_results(client):
    text = client.get(f"{LIST}?q=vouchers+lapland").text
    results = text[text.index('<section id="results"') :]
    assert '<h3 id="ways-out-heading">Try instead</h3>' in results
    assert '<ul aria-labelledby="ways-out-drops">' in results


@pytest.mark.parametrize(
    "query",
    ["", "q=vouchers", "country=it", "instrument=voucher&level=regional", "foo=bar"],
)
def test_no_ways_out_when_there_are_practices(client, query):
    assert "Try instead" not in client.get(f"{LIST}?{query}").text


def test_no_ways_out_for_an_invalid_filter(client):
    response = client.get(f"{LIST}?q=vouchers&country=XX")
    assert response.status_code == 400 and "Try instead" not in response.text


# Every filter of the list, alone and in an empty combination: still answered
# as before, the empty ones with their ways out.
@pytest.mark.parametrize(
    ("query", "slugs"),
    [
        ("country=it", ["m2", "v1", "v2"]),
        ("country=IT&country=es", ["m1", "m2", "v1", "v2", "v3"]),
        ("region=ITH5", ["v1"]),
        ("region=ITH", ["v1"]),
        ("theme=innovation", ["m1"]),
        ("instrument=voucher&instrument=missions", ["m1", "v1", "v2", "v3"]),
        ("level=national", ["v3"]),
        ("period=unknown&country=es", ["m1", "v3"]),
        ("q=cheques&sort=relevance&per_page=50", ["v1", "v2", "v3"]),
        ("q=cheque&sort=title&page=1", ["v1", "v2", "v3"]),
        ("region=ITH5&level=national", []),
    ],
)
def test_every_filter_url_keeps_working(client, query, slugs):
    assert sorted(listed(client, f"?{query}")) == slugs
    assert list_practices(QueryDict(query)).valid
