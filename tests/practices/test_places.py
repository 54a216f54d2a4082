"""Every NUTS 2021 unit and every EU and EFTA country has a page and is a valid
filter; where a place has no practice, the reader is shown the nearest places
that have some (issue 20 #2, #3)."""

import csv
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from practices.content import CONTENT_DIR, ContentError, load_catalogue
from practices.models import Country, Practice, Region

pytestmark = pytest.mark.django_db

NUTS_FILE = CONTENT_DIR / "nuts-2021.csv"
TAXONOMIES = CONTENT_DIR / "taxonomies.json"


def nuts_units():
    with open(NUTS_FILE, newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def published(**lookups):
    return Practice.objects.published().filter(**lookups).distinct().count()


def text_of(response):
    """The page's text, without tags or repeated spaces."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.text))


# --- loading -----------------------------------------------------------------


def test_every_nuts_unit_and_eu_and_efta_country_is_loaded(catalogue):
    units = nuts_units()
    regions = dict(Region.objects.values_list("code", "level"))
    assert regions == {u["code"]: int(u["level"]) for u in units if u["level"] != "0"}
    countries = set(Country.objects.values_list("nuts_code", flat=True))
    assert countries == {u["code"] for u in units if u["level"] == "0"}
    assert {"NO", "CH", "IS", "LI"} <= countries
    # The research's English names are kept; the others are the data's own.
    assert Region.objects.get(code="BE1").name == "Brussels-Capital Region"
    assert Region.objects.get(code="DE9").name == "Niedersachsen"
    for region in Region.objects.filter(code__in=["DE9", "DE91", "DE911", "NO0B2"]):
        expected = next(u for u in units if u["code"] == region.code)
        parent = region.parent.code if region.parent else expected["parent"]
        assert parent == expected["parent"], region
        assert region.country.nuts_code == expected["country_code"], region


def test_the_nuts_units_load_in_bulk_and_only_once(db):
    load_catalogue([TAXONOMIES])  # the countries and the research's regions
    before = Region.objects.count()
    with CaptureQueriesContext(connection) as queries:
        created = load_catalogue([TAXONOMIES, NUTS_FILE])
    assert Region.objects.count() == before + created["regions"] == 1794
    # Per level: the codes known, then inserts of hundreds of rows at a time;
    # not a query (or a form) per unit.
    assert len(queries) < 40
    assert load_catalogue([TAXONOMIES, NUTS_FILE]) == {}
    assert Region.objects.count() == 1794


def test_a_unit_of_an_unknown_country_is_refused(tmp_path, db):
    path = tmp_path / "units.csv"
    path.write_text("code,name,level,parent,country_code\nXX1,Nowhere,1,XX,XX\n")
    with pytest.raises(ContentError, match=r"units.csv: no country .*\['XX'\]"):
        load_catalogue([path])
    assert not Region.objects.exists()


# --- the list ------------------------------------------------------------------


def test_a_real_code_without_practices_lists_the_nearest_places(client, catalogue):
    response = client.get("/practices/", {"region": "DE9"})
    assert response.status_code == 200
    text = text_of(response)
    assert "No practices in Niedersachsen yet" in text
    germany = published(countries__code="DE")
    assert germany
    assert f"Germany (country) · {germany} practice" in text
    assert 'href="/countries/de/"' in response.text
    # The facets are there to widen the search from.
    assert response.context["facets"]


def test_its_nuts_1_region_comes_before_its_country(client, catalogue):
    response = client.get("/practices/", {"region": "ith4"})  # either case
    assert response.status_code == 200
    text = text_of(response)
    north_east = Practice.objects.published().found_by("region", ["ITH"]).count()
    italy = published(countries__code="IT")
    assert "No practices in Friuli-Venezia Giulia yet" in text
    nearest = f"Nord-Est (NUTS 1 region) · {north_east} practices"
    assert nearest in text and f"Italy (country) · {italy} practices" in text
    assert text.index(nearest) < text.index("Italy (country)")
    assert 'href="/regions/ITH/"' in response.text


def test_an_unknown_code_is_still_refused_with_the_reason(client, catalogue):
    response = client.get("/practices/", {"region": "ZZ9"})
    assert response.status_code == 400
    assert "ZZ9 is not one of the available choices" in response.text


def test_the_region_facet_lists_only_regions_with_practices(client, catalogue):
    for query in ({}, {"region": "DE9"}):
        response = client.get("/practices/", query)
        (regions,) = [f for f in response.context["facets"] if f.name == "region"]
        options = {option.value: option.count for option in regions.options}
        assert options["ITH5"] and "ITH4" not in options and "DE91" not in options
        assert len(options) < 100 < Region.objects.count()
    # The one selected stays, with its count.
    assert options.pop("DE9") == 0
    assert all(options.values())


def region_options(response):
    (regions,) = [f for f in response.context["facets"] if f.name == "region"]
    return {option.value: option for option in regions.options}


def test_the_region_facet_shows_each_place_once_down_to_nuts_2(client, catalogue):
    options = region_options(client.get("/practices/"))
    # The same place twice (a unit that is its parent's only one): the broader
    # code, which finds the practices of both.
    assert "BE1" in options and "BE10" not in options
    assert "CZ08" in options and "CZ080" not in options
    # NUTS 3 units fold into their NUTS 2 region, with their practices counted.
    assert {"ES212", "HU223", "SE311"}.isdisjoint(options)
    assert all(len(code) <= 4 for code in options)
    es21 = Practice.objects.published().found_by("region", ["ES21"]).count()
    assert options["ES21"].count == es21 > 0
    # An old link to a folded code still works, and shows what it selected.
    response = client.get("/practices/", {"region": "CZ080"})
    assert response.context["paginator"].count == options["CZ08"].count
    assert region_options(response)["CZ080"].selected


def test_a_country_without_practices_as_a_filter_says_so(client, catalogue):
    response = client.get("/practices/", {"country": "NO"})
    assert response.status_code == 200
    assert "No practices in Norway yet" in text_of(response)


# --- country pages -------------------------------------------------------------


def test_a_country_without_practices_has_a_page_with_ways_out(client, catalogue):
    response = client.get("/countries/no/")
    assert response.status_code == 200
    text = text_of(response)
    assert "<h1>Norway</h1>" in response.text
    assert "No practices in Norway yet" in text
    assert 'href="/practices/">every practice in the catalogue' in response.text
    assert 'href="/countries/">the countries' in response.text
    assert client.get("/countries/zz/").status_code == 404


def test_the_countries_page_and_map_link_to_country_pages(client, catalogue):
    text = client.get("/countries/").text
    for country in Country.objects.all():
        assert f'<a href="/countries/{country.code.lower()}/">' in text, country
    assert "/practices/?country=" not in text
    assert '<a href="/countries/it/" tabindex="-1">' in client.get("/").text


def test_a_country_page_links_to_its_region_pages(client, catalogue):
    response = client.get("/countries/it/")
    regions = {r.code: r.practice_count for r in response.context["regions"]}
    # Counted as their pages list them: with the regions inside them.
    assert regions["ITH"] == regions["ITH5"] > 0
    assert '<a href="/regions/ITH5/">Emilia-Romagna</a>' in response.text


# --- region pages --------------------------------------------------------------


def test_a_region_page_lists_its_practices_then_those_around_it(client, catalogue):
    response = client.get("/regions/ITH5/")
    assert response.status_code == 200
    own = Practice.objects.published().found_by("region", ["ITH5"])
    italy = published(countries__code="IT")
    assert 0 < own.count() < italy
    text = text_of(response)
    assert "<h1>Emilia-Romagna</h1>" in response.text
    assert f"{own.count()} practices in Emilia-Romagna" in text
    assert {p.pk for p in response.context["practices"]} == set(
        own.values_list("pk", flat=True)
    )
    assert "Near Emilia-Romagna: Nord-Est" in text
    assert "Near Emilia-Romagna: Italy" in text
    assert f'<a href="/countries/it/">All {italy} practices in Italy</a>' in (
        response.text
    )
    others = Practice.objects.published().filter(countries__code="IT")
    for practice in others.exclude(pk__in=own.values("pk")):
        assert practice.get_absolute_url() in response.text
    # Home › Countries › Italy › Emilia-Romagna
    crumbs = re.search(r'<nav class="breadcrumbs".*?</nav>', response.text, re.S)
    assert re.findall(r">([^<>]+)</(?:a|li)>", crumbs.group(0)) == [
        "Home",
        "Countries",
        "Italy",
        "Emilia-Romagna",
    ]


def test_a_region_page_without_practices_has_the_empty_state(client, catalogue):
    response = client.get("/regions/de9/")
    assert response.status_code == 200
    text = text_of(response)
    assert "0 practices in Niedersachsen" in text
    assert "No practices in Niedersachsen yet" in text
    assert "Near Niedersachsen: Germany" in text
    assert "<title>Niedersachsen (DE9)" in response.text


def test_an_unknown_region_is_not_found(client, catalogue):
    for path in ("/regions/ZZ9/", "/regions/IT/", "/regions/ITH55X/"):
        assert client.get(path).status_code == 404, path


def test_only_regions_with_practices_are_in_the_sitemap(client, catalogue):
    text = client.get("/sitemap-regions.xml").text
    assert "/regions/ITH5/</loc>" in text
    assert "/regions/ITH/</loc>" in text  # through the region inside it
    assert "/regions/DE9/</loc>" not in text
    assert text.count("<loc>") < 100
