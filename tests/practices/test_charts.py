"""The Europe map and the bar charts: their figures come from the database."""

import html
import json
import re

import pytest
from django.core.management import call_command
from django.urls import reverse

from briefs.models import Brief
from practices import charts
from practices.models import Country, InstrumentType, Practice, Status, Theme
from tests.factories import (
    make_brief,
    make_country,
    make_instrument,
    make_practice,
    make_theme,
)

pytestmark = pytest.mark.django_db

ROW = re.compile(
    r'<th scope="row"><a href="([^"]*)">([^<]+)</a></th>\s*<td class="num">(\d+)</td>'
)


def tables(page, css_class):
    """{name: (count, href)} for each table of that class, in page order."""
    parts = page.split(f'<table class="{css_class}">')[1:]
    return [
        {
            html.unescape(name): (int(number), html.unescape(href))
            for href, name, number in ROW.findall(part.split("</table>")[0])
        }
        for part in parts
    ]


def published_count(**lookup):
    return Practice.objects.published().filter(**lookup).distinct().count()


def test_classes_cover_every_count_without_gaps():
    for maximum in (1, 2, 3, 7, 12, 50, 10_000):
        classes = charts.classes_for(maximum)
        assert 1 <= len(classes) <= charts.CLASSES
        assert classes[0].low == 1 and classes[-1].high == maximum
        for before, after in zip(classes, classes[1:], strict=False):
            assert after.low == before.high + 1
    assert charts.classes_for(0) == []


def test_every_catalogue_country_has_an_outline(catalogue):
    outlined = {shape["code"] for shape in charts.outlines()["countries"]}
    missing = set(Country.objects.values_list("code", flat=True)) - outlined
    assert not missing


def test_home_map_and_charts_match_the_database(client, catalogue):
    page = client.get(reverse("home")).content.decode()

    (countries,) = tables(page, "europe-map__table")
    expected = {
        country.name: published_count(countries=country)
        for country in Country.objects.all()
        if published_count(countries=country)
    }
    assert {name: count for name, (count, _) in countries.items()} == expected
    assert countries["Italy"][1] == "/countries/it/"

    instruments, themes = tables(page, "bar-chart")
    assert {name: count for name, (count, _) in instruments.items()} == {
        i.name: published_count(instruments=i) for i in InstrumentType.objects.all()
    }
    assert {name: count for name, (count, _) in themes.items()} == {
        t.name: published_count(themes=t) for t in Theme.objects.all()
    }


def test_map_shades_and_links_only_countries_with_practices(client):
    italy, spain = (
        make_country(code="IT", name="Italy"),
        make_country(code="ES", name="Spain"),
    )
    make_country(code="FR", name="France")  # no practice
    for _ in range(3):
        make_practice(countries=[italy])
    make_practice(countries=[spain])
    make_practice(countries=[spain], status=Status.DRAFT, published_on=None)

    page = client.get(reverse("countries:list")).content.decode()

    assert '<a href="/countries/it/" tabindex="-1"><path class="map-class-' in page
    assert "<title>Italy: 3 practices</title>" in page
    assert "<title>Spain: 1 practice</title>" in page  # the draft is not counted
    assert '<a href="/countries/fr/" tabindex="-1">' not in page  # no shape link
    (countries,) = tables(page, "europe-map__table")
    assert countries == {  # every country, each linked to its page
        "France": (0, "/countries/fr/"),
        "Italy": (3, "/countries/it/"),
        "Spain": (1, "/countries/es/"),
    }
    # The busiest country takes the darkest class, and the key says what it means.
    assert re.search(r'/it/" tabindex="-1"><path class="map-class-(\d)"', page)[1] == (
        str(len(charts.classes_for(3)))
    )
    assert "No published practice" in page


def test_map_svg_is_hidden_from_assistive_technology_but_the_table_is_not(client):
    make_practice(countries=[make_country()])
    page = client.get(reverse("home")).content.decode()
    assert re.search(r'<svg class="europe-map__svg"[^>]*aria-hidden="true"', page)
    assert '<table class="europe-map__table">' in page


def test_brief_charts_count_only_its_published_featured_practices(client):
    theme, other_theme, instrument = make_theme(), make_theme(), make_instrument()
    featured = [
        make_practice(themes=[theme], instruments=[instrument]) for _ in range(2)
    ]
    draft = make_practice(
        themes=[theme], status=Status.DRAFT, published_on=None
    )  # featured, but not public
    make_practice(themes=[theme, other_theme])  # public, not featured
    brief = make_brief(practices=[*featured, draft])

    page = client.get(brief.get_absolute_url()).content.decode()

    instruments, themes = tables(page, "bar-chart")
    assert instruments == {instrument.name: (2, instrument.get_absolute_url())}
    assert themes == {theme.name: (2, theme.get_absolute_url())}


def test_real_brief_charts_match_the_database(client, catalogue):
    brief = Brief.objects.published().get()
    page = client.get(brief.get_absolute_url()).content.decode()
    featured = Practice.objects.published().filter(featured_in__brief=brief)
    instruments, themes = tables(page, "bar-chart")
    assert sum(count for count, _ in themes.values()) == sum(
        featured.filter(themes=t).count() for t in Theme.objects.all()
    )
    assert {name: count for name, (count, _) in instruments.items()} == {
        i.name: featured.filter(instruments=i).count()
        for i in InstrumentType.objects.all()
        if featured.filter(instruments=i).exists()
    }


def test_bars_are_proportional_to_counts():
    terms = [type("Term", (), {"practice_count": n})() for n in (8, 2, 0)]
    rows = charts.bar_chart(terms, "Caption", "Term")["rows"]
    assert [row["length"] for row in rows] == [100, 25, 0]
    assert charts.bar_chart([], "Caption", "Term")["rows"] == []


def test_build_europe_map_projects_clips_and_names_countries(tmp_path):
    """A two-country TopoJSON: one inside the frame, one far outside it."""
    topology = {
        "type": "Topology",
        "transform": {"scale": [0.01, 0.01], "translate": [0, 0]},
        "arcs": [
            # Around Rome (IT, numeric 380): a 2° square, delta-encoded.
            [[1200, 4100], [200, 0], [0, 200], [-200, 0], [0, -200]],
            # Somewhere in the southern Pacific (NZ, numeric 554).
            [[17000, 100], [100, 0], [0, 100], [-100, 0], [0, -100]],
        ],
        "objects": {
            "countries": {
                "type": "GeometryCollection",
                "geometries": [
                    {
                        "type": "Polygon",
                        "arcs": [[0]],
                        "id": "380",
                        "properties": {"name": "Italy"},
                    },  # noqa: E501
                    {
                        "type": "Polygon",
                        "arcs": [[1]],
                        "id": "554",
                        "properties": {"name": "New Zealand"},
                    },  # noqa: E501
                ],
            }
        },
    }
    source, iso, output = (
        tmp_path / "countries.json",
        tmp_path / "iso.json",
        tmp_path / "map.json",
    )
    source.write_text(json.dumps(topology))
    iso.write_text(
        json.dumps(
            {
                "3166-1": [
                    {"numeric": "380", "alpha_2": "IT"},
                    {"numeric": "554", "alpha_2": "NZ"},
                ]
            }
        )
    )

    call_command(
        "build_europe_map", str(source), iso_codes=str(iso), output=str(output)
    )

    document = json.loads(output.read_text())
    assert [c["code"] for c in document["countries"]] == ["IT"]
    (italy,) = document["countries"]
    assert italy["d"].startswith("M") and italy["d"].endswith("z")
    # The frame is fitted to the framed countries: the outline fills it.
    start = [int(n) for n in re.match(r"M(\d+) (\d+)", italy["d"]).groups()]
    assert 0 <= start[0] <= document["width"] and 0 <= start[1] <= document["height"]
    assert italy["label"] is not None


def test_build_europe_map_reports_unreadable_sources(tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="Cannot read"):
        call_command("build_europe_map", str(tmp_path / "missing.json"))
