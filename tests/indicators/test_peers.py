"""Regions like mine: the peers the pages show are those a reader would compute by
hand from the indicator file, and `like=` lists the practices from them."""

import csv
import io
import json
import math
import re
from pathlib import Path
from statistics import fmean, pstdev

import pytest
from django.conf import settings

from indicators.peers import PEERS
from practices.listing import list_practices
from practices.models import FacetValue, Practice

FIGURES = (
    Path(settings.BASE_DIR) / "fixtures" / "indicators" / "regional-indicators.csv"
)
NUTS = Path(settings.BASE_DIR) / "fixtures" / "catalogue" / "nuts-2021.csv"
# Written out again here, on purpose: the method page's list, by hand.
EU = "AT BE BG CY CZ DE DK EE EL ES FI FR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK"
LOGGED = {"population_jan1", "epo_patent_applications_per_million_inhabitants"}
COMPARED = LOGGED | {
    "gdp_per_inhabitant_eur_derived",
    "household_disposable_income_pps_per_inhabitant",
    "unemployment_rate",
    "households_broadband_pct_of_internet_households",
}


def by_hand():
    """{code: [(distance, peer code)] nearest first}, from the two files alone."""
    with open(NUTS, encoding="utf-8") as file:
        level_2 = {row["code"] for row in csv.DictReader(file) if row["level"] == "2"}
    raw = {}
    with open(FIGURES, encoding="utf-8") as file:
        for row in csv.DictReader(file):
            if row["nuts_code"] in level_2 and row["indicator"] in COMPARED:
                value = float(row["value"])
                if row["indicator"] in LOGGED:
                    value = math.log10(1 + value)
                raw.setdefault(row["nuts_code"], {})[row["indicator"]] = value
    z = {code: {} for code in raw}
    for key in COMPARED:
        eu = [v[key] for c, v in raw.items() if c[:2] in EU.split() and key in v]
        mean, sd = fmean(eu), pstdev(eu)
        for code, values in raw.items():
            if key in values:
                z[code][key] = (values[key] - mean) / sd
    nearest = {}
    for code, mine in z.items():
        found = []
        for other, theirs in z.items():
            shared = mine.keys() & theirs.keys()
            if other != code and other[:2] in EU.split() and len(shared) >= 3:
                gaps = [(mine[k] - theirs[k]) ** 2 for k in shared]
                found.append((math.sqrt(sum(gaps) / len(gaps)), other))
        nearest[code] = sorted(found)[:PEERS]
    return nearest


@pytest.mark.parametrize("code", ["DE92", "ITH5", "ES63", "PL91", "UKI3"])
def test_a_region_page_shows_the_peers_computed_by_hand(client, catalogue, code):
    expected = by_hand()[code]
    text = client.get(f"/regions/{code}/").text
    start = text.index('id="peers-heading"')
    section = text[start : text.index("</ol>", start)]
    shown = re.findall(
        r'<span class="code">(\w+)</span>, [^:]+: distance ([\d.]+)', section
    )
    assert [peer for peer, _ in shown] == [peer for _, peer in expected]
    assert [distance for _, distance in shown] == [f"{d:.2f}" for d, _ in expected]


def test_a_region_missing_a_figure_says_what_it_is_compared_without(client, catalogue):
    text = client.get("/regions/DE92/").text  # no broadband figure in Germany
    assert "Not recorded for Hanover (Hannover), so not compared: Households" in text


def test_a_region_without_enough_figures_has_no_peers_and_says_so(client, catalogue):
    text = client.get("/regions/HR05/").text  # a NUTS 2021 code the figures lack
    assert "has too few Eurostat figures recorded to be compared" in text


def test_like_lists_the_practices_of_the_peers_with_counts_for_each_facet(
    client, catalogue
):
    peers = [peer for _, peer in by_hand()["ITH5"]]
    in_peers = FacetValue.objects.filter(facet="region", value__in=peers)
    expected = set(
        Practice.objects.published()
        .filter(pk__in=in_peers.values("practice"))
        .values_list("slug", flat=True)
    )
    assert expected  # the test needs some
    listing = list_practices(_query("like=ith5&per_page=100"))
    assert set(listing.practices.values_list("slug", flat=True)) == expected
    facets = {f.name: f for f in listing.facets(_query("like=ITH5"))}
    countries = {o.value: o.count for o in facets["country"].options if o.count}
    by_country = {}
    for practice in Practice.objects.filter(slug__in=expected):
        for country in practice.countries.all():
            by_country[country.code] = by_country.get(country.code, 0) + 1
    assert countries == by_country
    response = client.get("/practices/?like=ITH5")
    assert response.status_code == 200
    assert "In regions like: Emilia-Romagna" in response.text
    assert 'name="like" value="ITH5"' in response.text  # kept when filters change


def test_the_exports_and_the_feed_of_a_like_list_hold_its_practices(client, catalogue):
    expected = set(
        list_practices(_query("like=ITH5&per_page=100")).practices.values_list(
            "slug", flat=True
        )
    )
    document = json.loads(b"".join(client.get("/practices/export.json?like=ITH5")))
    assert {record["slug"] for record in document["practices"]} == expected
    text = b"".join(client.get("/practices/export.csv?like=ITH5")).decode()
    assert {row["slug"] for row in csv.DictReader(io.StringIO(text))} == expected
    feed = client.get("/practices/feed/?like=ITH5").content.decode()
    assert "In regions like: Emilia-Romagna" in feed
    links = re.findall(r'<link href="[^"]*/practices/([^/"]+)/"', feed)
    assert set(links) == expected
    assert client.get("/practices/export.csv?like=ZZ99").status_code == 400


@pytest.mark.parametrize("value", ["ZZ99", "DE9", "DE929", "x" * 9, "HR05"])
def test_like_with_a_code_that_has_no_peers_is_a_400_that_says_why(
    client, catalogue, value
):
    response = client.get(f"/practices/?like={value}")
    assert response.status_code == 400
    assert "not a NUTS 2 region with enough Eurostat figures" in response.text or (
        "Ensure this value has at most 5 characters" in response.text
    )


def test_the_method_page_explains_the_constants_in_use(client, db):
    text = client.get("/regions/how-peers-are-found/").text
    assert "the 10 EU regions" in text.replace("lists the 10", "the 10")
    assert "at least 3" in text and "under 0.5 standard deviations" in text
    assert "logarithmic scale" in text


def _query(text):
    from django.http import QueryDict

    return QueryDict(text)
