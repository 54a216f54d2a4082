"""Every NUTS 2021 unit and every EU and EFTA country has a page and is a valid
filter; where a place has no practice, the reader is shown the nearest places
that have some (issue 20 #2, #3)."""

import csv
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from practices import places
from practices.content import CONTENT_DIR, ContentError, load_catalogue
from practices.models import Country, FacetValue, Practice, Region

pytestmark = pytest.mark.django_db

NUTS_FILE = CONTENT_DIR / "nuts-2021.csv"
# A real region without practices, with an English name of its own (a German Land
# was until the catalogue covered every one).
EMPTY, EMPTY_NAME = "ES63", "Ceuta (Ciudad de Ceuta)"
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
    response = client.get("/practices/", {"region": EMPTY})
    assert response.status_code == 200
    text = text_of(response)
    assert f"No practices in {EMPTY_NAME} yet" in text
    spain = published(countries__code="ES")
    assert spain
    assert f"Spain (country) · {spain} practice" in text
    assert 'href="/countries/es/"' in response.text
    # The facets are there to widen the search from.
    assert response.context["facets"]


def test_its_nuts_1_region_comes_before_its_country(client, catalogue):
    response = client.get("/practices/", {"region": EMPTY.lower()})  # either case
    assert response.status_code == 200
    text = text_of(response)
    south = Practice.objects.published().found_by("region", ["ES6"]).count()
    spain = published(countries__code="ES")
    assert f"No practices in {EMPTY_NAME} yet" in text
    nearest = f"Sur (NUTS 1 region) · {south} practices"
    assert nearest in text and f"Spain (country) · {spain} practices" in text
    assert text.index(nearest) < text.index("Spain (country)")
    assert 'href="/regions/ES6/"' in response.text


def test_an_unknown_code_is_still_refused_with_the_reason(client, catalogue):
    response = client.get("/practices/", {"region": "ZZ9"})
    assert response.status_code == 400
    assert "ZZ9 is not one of the available choices" in response.text


def test_the_region_facet_lists_only_regions_with_practices(client, catalogue):
    for query in ({}, {"region": EMPTY}):
        response = client.get("/practices/", query)
        (regions,) = [f for f in response.context["facets"] if f.name == "region"]
        options = {option.value: option.count for option in regions.options}
        assert options["ITH5"] and "ES64" not in options and "FRY5" not in options
        assert len(options) < Region.objects.count() / 4
    # The one selected stays, with its count.
    assert options.pop(EMPTY) == 0
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
    # An old link to a folded code still works, and shows what it selected: the
    # practices placed in that unit (not those placed only in its parent).
    response = client.get("/practices/", {"region": "CZ080"})
    found = Practice.objects.published().found_by("region", ["CZ080"]).count()
    assert response.context["paginator"].count == found <= options["CZ08"].count
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
    top = {r.code: r for r in response.context["regions"]}
    # A tree: Emilia-Romagna inside Nord-Est, not beside it with the same count.
    inside = {r.code: r for r in top["ITH"].inside}
    assert "ITH5" not in top and "ITH5" in inside
    # Counted as their pages list them: with the regions inside them.
    assert top["ITH"].practice_count >= inside["ITH5"].practice_count > 0
    html = response.text
    north_east = html.index('<a href="/regions/ITH/">')
    nested_list = html.index('<ul class="plain region-tree">', north_east)
    assert nested_list < html.index('<a href="/regions/ITH5/">Emilia-Romagna</a>')
    assert nested_list < html.index("</li>", north_east)  # inside Nord-Est's item


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
    assert "Near Emilia-Romagna: Northeast Italy (Nord-Est)" in text
    assert "Near Emilia-Romagna: Italy" in text
    assert f'<a href="/countries/it/">All {italy} practices in Italy</a>' in (
        response.text
    )
    # A few of the others around it, each group led to its whole list.
    others = Practice.objects.published().filter(countries__code="IT")
    around = response.text[response.text.index('id="around-1"') :]  # not its peers'
    shown = [
        practice
        for practice in others.exclude(pk__in=own.values("pk"))
        if practice.get_absolute_url() in around
    ]
    assert 0 < len(shown) <= 10
    # Home › Countries › Italy › Emilia-Romagna
    crumbs = re.search(r'<nav class="breadcrumbs".*?</nav>', response.text, re.S)
    assert re.findall(r">([^<>]+)</(?:a|li)>", crumbs.group(0)) == [
        "Home",
        "Countries",
        "Italy",
        "Emilia-Romagna",
    ]


def test_a_region_page_without_practices_has_the_empty_state(client, catalogue):
    response = client.get(f"/regions/{EMPTY.lower()}/")
    assert response.status_code == 200
    text = text_of(response)
    assert f"0 practices in {EMPTY_NAME}" in text
    assert f"No practices in {EMPTY_NAME} yet" in text
    assert f"Near {EMPTY_NAME}: Sur" in text
    assert f"<title>{EMPTY_NAME} · {EMPTY}" in response.text


def test_an_unknown_region_is_not_found(client, catalogue):
    for path in ("/regions/ZZ9/", "/regions/IT/", "/regions/ITH55X/"):
        assert client.get(path).status_code == 404, path


def test_nuts_2_regions_and_those_with_practices_are_in_the_sitemap(client, catalogue):
    text = client.get("/sitemap-regions.xml").text
    assert "/regions/ITH5/</loc>" in text
    assert "/regions/ITH/</loc>" in text  # through the region inside it
    # Every NUTS 2 region's page has its figures and peers, practices or not.
    assert "/regions/HR05/</loc>" in text and "/regions/DE92/</loc>" in text
    empty_nuts_3 = Region.objects.filter(level=3).exclude(
        code__in=FacetValue.objects.filter(facet="region").values("value")
    )
    assert f"/regions/{empty_nuts_3.first().code}/</loc>" not in text
    assert text.count("<loc>") < Region.objects.count() / 3


# --- English names (issue 20 #3, issue 23 #1) ---------------------------------

NOTES = CONTENT_DIR / "NOTES.md"


def test_every_english_name_has_a_note_with_a_short_quote():
    english = [unit for unit in nuts_units() if unit["name_en"]]
    assert len(english) > 30
    notes = NOTES.read_text(encoding="utf-8")
    for unit in english:
        start = f"{unit['code']} {unit['name']} | name_en {unit['name_en']} | http"
        (line,) = [line for line in notes.splitlines() if line.startswith(start)]
        quote = line.split(' | "', 1)[1].rstrip('"')
        assert len([w for w in quote.split() if w != "…"]) <= 20, line
        assert unit["name_en"] != unit["name"]


def test_english_names_are_loaded_and_a_curators_own_is_kept(catalogue):
    lower_saxony = Region.objects.get(code="DE9")
    assert (lower_saxony.name, lower_saxony.name_en) == (
        "Niedersachsen",
        "Lower Saxony",
    )
    assert lower_saxony.label == "Lower Saxony (Niedersachsen)"
    assert Region.objects.get(code="ITH5").label == "Emilia-Romagna"  # none needed
    # A database loaded before the names were added gets them; an edited one stays.
    Region.objects.filter(code="DE9").update(name_en="")
    Region.objects.filter(code="ITC4").update(name_en="Lombardy region")
    load_catalogue([TAXONOMIES, NUTS_FILE])
    assert Region.objects.get(code="DE9").name_en == "Lower Saxony"
    assert Region.objects.get(code="ITC4").name_en == "Lombardy region"


def test_pages_show_english_names_beside_the_nuts_names(client, catalogue):
    page = client.get("/regions/de9/").text
    assert "<h1>Lower Saxony (Niedersachsen)</h1>" in page
    assert '<li aria-current="page">Lower Saxony (Niedersachsen)</li>' in page
    text = text_of(client.get("/countries/it/"))
    assert "Lombardy (Lombardia) NUTS 2 · ITC4" in text
    practice = Practice.objects.published().filter(regions__code="ITC4").first()
    page = client.get(practice.get_absolute_url()).text
    assert '">Lombardy (Lombardia)</a> <span class="code">NUTS 2 · ITC4' in page
    # Cards, and the region facet's options, chips and heading.
    response = client.get("/practices/", {"region": "ITC4"})
    text = text_of(response)
    assert "Italy · Lombardy (Lombardia)" in text  # the card's place
    assert "Region: Lombardy (Lombardia)" in text  # the chip
    assert response.context["listing"].heading == "Practices: Lombardy (Lombardia)"
    assert region_options(response)["ITC4"].label == "Lombardy (Lombardia)"


# --- the region facet, grouped by country -------------------------------------


def test_the_region_facet_is_grouped_by_country_down_to_nuts_2(client, catalogue):
    response = client.get("/practices/")
    (facet,) = [f for f in response.context["facets"] if f.name == "region"]
    countries = dict(Country.objects.values_list("nuts_code", "name"))
    groups = [group for group, _ in facet.groups(facet.options)]
    assert (
        len(groups) == len(set(groups)) > 5
    )  # each country once, its regions together
    for option in facet.options:
        assert option.group == countries[option.value[:2]], option
    options = {option.value: option for option in facet.options}
    # NUTS 1 regions of several NUTS 2 ones fold into them (Nord-Est: Emilia-Romagna
    # …), unless a practice names the NUTS 1 region itself (Hessen, a Land).
    assert {"ITH", "ES2", "PL6", "DK0", "SE3"}.isdisjoint(options)
    assert options["DE7"].label == "Hesse (Hessen)" and options["DE7"].count
    # A NUTS 3 practice counts under its NUTS 2 region.
    assert options["ES21"].label == "Basque Country (País Vasco)"
    gipuzkoa = Practice.objects.published().filter(regions__code="ES212").count()
    assert options["ES21"].count >= gipuzkoa > 0
    # Accessible groups, in the page's HTML as without JavaScript.
    assert '<fieldset class="facet-group"><legend>Spain</legend>' in response.text


def test_show_all_keeps_each_country_whole_and_selected_ones_first(client, catalogue):
    response = client.get("/practices/", {"region": "PL22"})
    (facet,) = [f for f in response.context["facets"] if f.name == "region"]
    assert facet.more  # a long facet
    shown = {option.value for option in facet.shown}
    for group, options in facet.groups(facet.options):
        in_view = {option.value in shown for option in options}
        assert len(in_view) == 1, group  # all of a country in view, or all behind
    assert facet.options[0].value == "PL22" and facet.options[0].group == "Poland"
    more = response.text.split('id="more-region"')[1].split("</details>")[0]
    assert "<legend>" in more and 'value="PL22"' not in more


def test_old_region_links_at_any_level_still_work(client, catalogue):
    for code in ("ITH", "ith", "ES212", "PL2", "DE1", "BE10", "CZ080", "UKN0"):
        response = client.get("/practices/", {"region": code})
        assert response.status_code == 200, code
        expected = Practice.objects.published().found_by("region", [code.upper()])
        assert response.context["paginator"].count == expected.count() > 0, code
        assert region_options(response)[code.upper()].selected, code


# --- searches that name a place ---------------------------------------------


@pytest.mark.parametrize("query", ["Ceuta", "ciudad de ceuta", "CIUDAD-DE-CEUTA"])
def test_a_search_naming_a_region_without_practices_shows_ways_out(
    client, catalogue, query
):
    response = client.get("/practices/", {"q": query})
    assert response.status_code == 200
    text = text_of(response)
    assert f"No practices in {EMPTY_NAME} yet" in text
    spain = published(countries__code="ES")
    assert f"Spain (country) · {spain} practice" in text
    assert 'href="/countries/es/"' in response.text


def test_a_search_naming_a_region_with_practices_leads_to_them(client, catalogue):
    response = client.get("/practices/", {"q": "Northeast Italy"})
    assert response.status_code == 200
    assert response.context["paginator"].count == 0  # no practice says it in words
    north_east = Practice.objects.published().found_by("region", ["ITH"]).count()
    assert (
        f"Northeast Italy (Nord-Est) is a NUTS 1 region in Italy: see its "
        f"{north_east} practices" in text_of(response)
    )
    assert 'href="/practices/?region=ITH"' in response.text


def test_regions_are_named_in_english_or_native_forms(catalogue):
    def codes(text):
        return sorted(region.code for region in places.regions_named(text))

    assert codes("Emilia Romagna") == codes("emilia-romagna") == ["ITH5"]
    assert codes("Noord-Holland") == codes("north holland") == ["NL32"]
    assert codes("Friesland") == ["DE94A", "NL12"]  # "Friesland (DE)", "… (NL)"
    assert codes("Algarve") == ["PT15"]  # not PT150 inside it, the same name
    assert codes("Nord-Est") == ["ITH", "RO21"]  # Italy's and Romania's
    assert codes("Hannover") == codes("Hanover") == ["DE92"]  # not "Region Hannover"
    assert codes("Lower") == codes("") == codes("vouchers") == []
