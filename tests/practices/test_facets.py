"""Facet counts, checked against the list each option leads to."""

import re

import pytest
from django.core.management import call_command
from django.http import QueryDict
from django.utils import timezone

from practices.filters import PracticeFilterSet
from practices.listing import list_practices
from practices.models import CatalogueVersion, FacetValue, Period, Practice, Status
from tests.factories import (
    committed,
    make_country,
    make_practice,
    make_region,
    make_theme,
    publishable_parts,
)

pytestmark = pytest.mark.django_db


def facets_for(query):
    data = QueryDict(query)
    listing = list_practices(data)
    assert listing.valid, listing.errors
    # With the catalogue version, as the list view asks: unfiltered counts are
    # then kept for it, and must still follow every committed change.
    return {f.name: f for f in listing.facets(data, CatalogueVersion.current())}


def sql_count(query):
    filterset = PracticeFilterSet(
        QueryDict(query), queryset=Practice.objects.published()
    )
    assert filterset.is_valid()
    return filterset.qs.count()


@pytest.mark.parametrize(
    "query",
    [
        "",
        "country=ES",
        "country=ES&country=IT&theme=access-to-new-markets",
        "instrument=trade-missions-and-fairs&level=regional&period=ongoing",
        "region=ES2&theme=first-steps-for-non-exporters",
        "q=export&project=compete-in&project=intra",
        "evidence=none&evidence=1&country=ES&period=ongoing",
    ],
)
def test_every_option_count_equals_the_filtered_list_it_leads_to(catalogue, query):
    with committed():
        call_command("generate_practices", count=120, seed=7, stdout=None)
    facets = facets_for(query)
    data = QueryDict(query)
    for name, facet in facets.items():
        others = data.copy()
        others.pop(name, None)
        for option in facet.options:
            combined = others.copy()
            combined.setlist(name, [option.value])
            assert option.count == sql_count(combined.urlencode()), (
                query,
                name,
                option.value,
            )


@pytest.mark.parametrize(
    "query",
    [
        "",
        "country=ES&theme=access-to-new-markets",
        "period=ongoing&period=ended&q=export",
    ],
)
def test_the_list_length_is_the_sum_of_its_period_counts(client, catalogue, query):
    """The list takes its length from the facet counts, not a count query."""
    listing = list_practices(QueryDict(query))
    listing.facets(QueryDict(query), CatalogueVersion.current())
    assert listing.total == sql_count(query) > 0
    page = client.get(f"/practices/?{query}").text
    assert re.search(rf"\b{listing.total} practices?\b", page)


def test_zero_options_are_disabled_but_selected_ones_stay_visible(db):
    spain = make_country(code="ES", name="Spain")
    france = make_country(code="FR", name="France")
    theme = make_theme(slug="skills", name="Skills")
    make_practice(countries=[spain], themes=[theme])
    make_practice(countries=[france])
    facets = facets_for("theme=skills&country=FR")
    countries = {o.value: o for o in facets["country"].options}
    # With theme=skills, France has no practice, but it is selected: kept, enabled.
    assert countries["FR"].count == 0 and countries["FR"].selected
    assert not countries["FR"].disabled
    assert countries["ES"].count == 1 and not countries["ES"].disabled
    themes = {o.value: o for o in facets["theme"].options}
    assert themes["skills"].selected


def test_region_counts_include_the_regions_inside_them_once(db):
    spain = make_country(code="ES", name="Spain")
    es2 = make_region(code="ES2", name="Noreste", country=spain)
    es21 = make_region(code="ES21", name="País Vasco", country=spain, parent=es2)
    es211 = make_region(code="ES211", name="Araba", country=spain, parent=es21)
    es212 = make_region(code="ES212", name="Gipuzkoa", country=spain, parent=es21)
    make_practice(countries=[spain], regions=[es211, es212])  # two regions, once
    make_practice(countries=[spain], regions=[es212])
    make_region(code="ES22", name="Navarra", country=spain, parent=es2)  # none
    regions = {o.value: o.count for o in facets_for("")["region"].options}
    # NUTS 3 units are folded into their NUTS 2 region in the facet, and so is a
    # NUTS 1 region of several that no practice names itself; both still filter.
    assert regions == {"ES21": 2}
    assert sql_count("region=ES2") == 2 and sql_count("region=ES212") == 2


def test_periods(db):
    """Ongoing only when a source says so: still running, or an end year still to
    come. A start year alone leaves the end not recorded."""
    this_year = timezone.localdate().year
    make_practice(slug="ended", start_year=2010, end_year=2015)
    make_practice(slug="ended-last-year", end_year=this_year - 1)
    make_practice(slug="running", start_year=2020, still_running=True)
    make_practice(slug="ends-this-year", start_year=2020, end_year=this_year)
    make_practice(slug="started", start_year=2020)  # no end recorded
    make_practice(slug="unknown")
    counts = {o.value: o.count for o in facets_for("")["period"].options}
    assert counts == {Period.ONGOING: 2, Period.ENDED: 2, Period.UNKNOWN: 2}
    labels = {o.value: o.label for o in facets_for("")["period"].options}
    assert labels[Period.UNKNOWN] == "End not recorded"
    for period, count in counts.items():
        assert sql_count(f"period={period}") == count


def test_counts_follow_edits_publishing_and_deletion(db):
    spain = make_country(code="ES", name="Spain")
    practice = make_practice(countries=[spain])
    counts = lambda: {o.value: o.count for o in facets_for("")["country"].options}  # noqa: E731
    assert counts()["ES"] == 1
    draft = make_practice(
        **{**publishable_parts(), "countries": [spain]}, status=Status.IN_REVIEW
    )
    assert counts()["ES"] == 1
    draft.status, draft.published_on = Status.PUBLISHED, practice.published_on
    with committed():
        draft.save()
    assert counts()["ES"] == 2
    with committed():
        practice.countries.clear()
    assert counts()["ES"] == 1
    with committed():
        draft.delete()
    assert counts()["ES"] == 0


def test_counts_and_filters_follow_a_renamed_term_and_a_new_region(db):
    spain = make_country(code="ES", name="Spain")
    theme = make_theme(slug="old-name", name="Old name")
    practice = make_practice(countries=[spain], themes=[theme])
    es2 = make_region(code="ES2", name="Noreste", country=spain)
    es21 = make_region(code="ES21", name="País Vasco", country=spain, parent=es2)
    with committed():
        theme.slug = "new-name"
        theme.save()
        practice.regions.add(es21)
    themes = {o.value: o.count for o in facets_for("")["theme"].options}
    assert themes == {"new-name": 1}
    assert sql_count("theme=new-name") == sql_count("region=ES2") == 1
    assert set(
        FacetValue.objects.filter(practice=practice).values_list("facet", "value")
    ) >= {("theme", "new-name"), ("region", "ES2"), ("region", "ES21")}


def test_each_facet_has_a_clear_link_keeping_the_other_filters(db):
    make_practice(countries=[make_country(code="ES", name="Spain")])
    facets = facets_for("country=ES&level=regional&page=2")
    assert facets["country"].clear_url == "?level=regional"
    assert facets["level"].clear_url == "?country=ES"


def test_list_page_renders_facets_as_a_get_form(client, db):
    make_practice(countries=[make_country(code="ES", name="Spain")])
    make_country(code="FR", name="France")
    text = client.get("/practices/", {"country": "es"}).text
    assert '<form id="filters" class="filters" method="get"' in text
    assert 'name="country" value="ES"' in text and "checked" in text
    assert re.search(r'value="FR" id="f-country-\d+" disabled>', text)
    assert "Clear country" in text


def test_selected_options_come_first(db):
    for code, name in [("AT", "Austria"), ("ES", "Spain"), ("FR", "France")]:
        make_practice(countries=[make_country(code=code, name=name)])
    options = facets_for("country=FR")["country"].options
    assert [o.value for o in options] == ["FR", "AT", "ES"]


def test_facet_labels_and_values_are_escaped(client, db):
    make_practice(themes=[make_theme(slug="x", name='<b>"Bold" & co</b>')])
    text = client.get("/practices/").text
    assert "&lt;b&gt;&quot;Bold&quot; &amp; co&lt;/b&gt;" in text
    assert '<b>"Bold"' not in text
