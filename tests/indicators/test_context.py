"""Region and country pages show Eurostat's figures with their year and source;
a figure we do not hold says so; the data page says where they come from."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from indicators.models import IndicatorValue
from tests.factories import committed, make_country, make_region

pytestmark = pytest.mark.django_db

URL = "https://ec.europa.eu/eurostat/databrowser/view/{}/default/table?lang=en"


def value(code, indicator, year, number, dataset="tgs00096", **kwargs):
    kwargs.setdefault("source_url", URL.format(dataset))
    return IndicatorValue.objects.create(
        nuts_code=code,
        indicator=indicator,
        year=year,
        value=Decimal(number),
        unit=kwargs.pop("unit", "as the source states it"),
        source_dataset=dataset,
        nuts_version=2016,
        **kwargs,
    )


@pytest.fixture
def hanover():
    germany = make_country(code="DE", name="Germany")
    lower_saxony = make_region(code="DE9", name="Niedersachsen", country=germany)
    region = make_region(
        code="DE92", name="Hannover", name_en="Hanover", parent=lower_saxony
    )
    value("DE92", "population_jan1", 2018, "2148000")
    value("DE92", "population_jan1", 2019, "2149805")  # the latest is shown
    value("DE92", "unemployment_rate", 2019, "3.5", "tgs00010", flags="p")
    value(
        "DE92",
        "gdp_per_inhabitant_eur_derived",
        2018,
        "38595",
        "derived:tgs00003+tgs00096",
        source_url=f"{URL.format('tgs00003')} ; {URL.format('tgs00096')}",
    )
    value("DE", "real_gdp_growth_rate", 2019, "0.6", "tec00115")
    return region


def row(text, label):
    """The table row of `label`, tags stripped."""
    start = text.index(f'<th scope="row">{label}')
    return " ".join(text[start : text.index("</tr>", start)].split())


def test_a_nuts_2_page_shows_its_latest_figures_with_year_and_source(client, hanover):
    text = client.get("/regions/DE92/").text
    population = row(text, "Population on 1 January")
    assert "2,149,805" in population and "2019" in population
    assert 'href="' + URL.format("tgs00096") + '">tgs00096</a>' in population
    assert "(provisional)" in row(text, "Unemployment rate")
    derived = row(text, "GDP per inhabitant (approximation)")
    assert (
        "derived" in derived
        and ">tgs00003</a>" in derived
        and ">tgs00096</a>" in derived
    )
    assert "Not recorded" in row(text, "Households with broadband")
    growth = row(text, "Real GDP growth")  # the country's own figures
    assert "0.6" in growth and ">tec00115</a>" in growth
    assert "Reuse of Eurostat" in text


def test_a_nuts_3_page_shows_the_figures_of_its_nuts_2_region(client, hanover):
    make_region(code="DE929", name="Region Hannover", parent=hanover)
    text = client.get("/regions/DE929/").text
    assert "those of Hanover (Hannover), which Region Hannover is part of" in text
    assert "2,149,805" in text


def test_a_region_without_figures_says_so(client):
    make_region(code="HR05", name="Grad Zagreb")
    text = client.get("/regions/HR05/").text
    assert 'Grad Zagreb</strong> <span class="code">HR05</span>: ' in text
    assert "no Eurostat figure is recorded" in text


def test_the_figures_cost_one_query_whatever_their_number(client, hanover, settings):
    settings.PAGE_CACHE_SECONDS = 0  # every request renders

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/regions/DE92/").status_code == 200
        return len(captured)

    queries()  # the first request keeps what the catalogue version lets it keep
    before = queries()
    for year in range(2000, 2018):
        value("DE92", "population_jan1", year, "2000000")
        value("DE92", "life_expectancy_at_birth", year, "80.1", "tgs00101")
    assert queries() == before


def test_a_corrected_figure_shows_at_the_next_request(client, hanover):
    assert "2,149,805" in client.get("/regions/DE92/").text  # now cached
    with committed():
        figure = IndicatorValue.objects.get(
            nuts_code="DE92", indicator="population_jan1", year=2019
        )
        figure.value = Decimal("2149806")
        figure.save()
    assert "2,149,806" in client.get("/regions/DE92/").text


def test_the_country_page_shows_the_national_figures(client, hanover):
    text = client.get("/countries/de/").text
    assert "0.6" in row(text, "Real GDP growth")
    assert "Not recorded" in row(text, "At-risk-of-poverty rate")


def test_the_data_page_says_where_the_figures_come_from(client, hanover):
    text = client.get("/data/").text
    section = text[text.index('id="indicators"') :]
    assert "5 figures on 2 NUTS units" in section
    assert "tec00115, tgs00010, tgs00096" in section.replace(
        "derived:tgs00003+tgs00096, ", ""
    )
    assert "copyright-notice" in section and "non-commercial" in section
