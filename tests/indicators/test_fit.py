"""Will it fit here? On a practice page, the reader's NUTS 2 region beside the
practice's on the same figures, from a plain GET form that can be shared."""

import re
from decimal import Decimal

import pytest

from indicators.models import IndicatorValue
from tests.factories import make_country, make_practice, make_region

pytestmark = pytest.mark.django_db

URL = "https://ec.europa.eu/eurostat/databrowser/view/{}/default/table?lang=en"


def figure(code, indicator, year, number, dataset="tgs00010"):
    IndicatorValue.objects.create(
        nuts_code=code,
        indicator=indicator,
        year=year,
        value=Decimal(number),
        unit="as stated",
        source_dataset=dataset,
        source_url=URL.format(dataset),
        nuts_version=2016,
    )


@pytest.fixture
def places():
    germany, italy = make_country(code="DE", name="Germany"), make_country()
    make_region(code="DE9", name="Niedersachsen", country=germany)
    hanover = make_region(code="DE92", name="Hannover", name_en="Hanover")
    make_region(code="DE929", name="Region Hannover")
    make_region(code="DE91", name="Braunschweig")
    emilia = make_region(code="ITH5", name="Emilia-Romagna", country=italy)
    figure("DE92", "unemployment_rate", 2019, "3.5")
    figure("ITH5", "unemployment_rate", 2019, "5.5")
    figure("ITH5", "population_jan1", 2019, "4459453", "tgs00096")
    figure("DE", "real_gdp_growth_rate", 2019, "0.6", "tec00115")
    figure("IT", "real_gdp_growth_rate", 2019, "0.3", "tec00115")
    practice = make_practice(
        title="ERGO", countries=[italy], regions=[emilia], institution="ART-ER"
    )
    return practice, hanover


def section(response):
    text = response.text
    return text[
        text.index('id="fit"') : text.index("</section>", text.index('id="fit"'))
    ]


@pytest.mark.parametrize("asked", ["DE92", "de92", "Hanover", "hannover", "DE929"])
def test_a_region_by_code_or_name_is_set_beside_the_practices(client, places, asked):
    practice, _ = places
    response = client.get(practice.get_absolute_url(), {"fit": asked})
    assert response.status_code == 200
    fit = " ".join(section(response).split())
    assert 'Emilia-Romagna <span class="code">ITH5</span> and Hanover (Hannover)' in fit
    assert (
        '<span class="figure">5.5</span>' in fit
        and '<span class="figure">3.5</span>' in fit
    )
    assert "2019 · Eurostat <a" in fit
    assert '<span class="figure">4,459,453</span>' in fit  # and Hanover's: not recorded
    assert "Not recorded" in fit
    assert 'href="#key-facts"' in fit and 'href="#resources"' in fit  # what it takes


def test_what_it_takes_states_each_prerequisite_or_says_it_is_not_recorded(
    client, places
):
    practice, _ = places
    practice.budget_scale = "1m-10m"
    practice.funding_source = "ERDF regional programme"
    practice.uncertain_fields = ["budget_scale"]
    practice.save()
    fit = " ".join(section(client.get(practice.get_absolute_url())).split())
    needs = fit[fit.index('id="what-it-takes"') :]
    facts = re.findall(r"<dt>(.*?)</dt> <dd>(.*?)</dd>", needs)
    assert [label for label, _ in facts] == [
        "Who delivers it",
        "Budget scale",
        "Funding source",
        "Legal basis",
        "Staff",
    ]
    values = [re.sub(r"<[^>]+>", "", value).strip() for _, value in facts]
    assert values[0] == "ART-ER" and values[2] == "ERDF regional programme"
    assert values[1].startswith("€1 million to €10 million")
    assert 'class="unconfirmed"' in facts[1][1]  # flagged by a curator
    assert values[3:] == ["Not recorded", "Not recorded"]


def test_without_a_region_the_form_asks_for_one(client, places):
    practice, _ = places
    fit = section(client.get(practice.get_absolute_url()))
    assert '<input type="text" name="fit"' in fit and "<table" not in fit


@pytest.mark.parametrize(
    "asked, message",
    [
        ("Atlantis", "No NUTS 2 region is called or coded “Atlantis”."),
        ("Hann" + "o" * 200, "at most 100 characters"),
        ("   ", "Type your region"),
        ("DE9", "Hanover (Hannover)"),  # NUTS 1: the regions inside it to pick from
        ("r", "Several NUTS 2 regions match"),
    ],
)
def test_a_region_that_cannot_be_found_is_a_400_that_says_why(
    client, places, asked, message
):
    practice, _ = places
    response = client.get(practice.get_absolute_url(), {"fit": asked})
    assert response.status_code == 400
    assert message in section(response)
    assert "ERGO" in response.text  # the page is still there


def test_a_national_practice_is_compared_country_with_country(client, places):
    practice = make_practice(title="National", countries=[make_country()])
    response = client.get(practice.get_absolute_url(), {"fit": "DE92"})
    fit = " ".join(section(response).split())
    assert "between its country and yours" in fit
    assert (
        '<span class="figure">0.3</span>' in fit
        and '<span class="figure">0.6</span>' in fit
    )


def test_the_fit_check_costs_the_same_queries_with_more_figures(
    client, places, settings
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    practice, _ = places
    settings.PAGE_CACHE_SECONDS = 0
    url = f"{practice.get_absolute_url()}?fit=Hanover"

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    queries()
    before = queries()
    for year in range(2000, 2018):
        figure("DE92", "unemployment_rate", year, "4.0")
        figure("ITH5", "population_jan1", year, "4400000", "tgs00096")
    assert queries() == before
    # The page without the check, plus the code looked up, then the name, then
    # both regions' figures in one query.
    settings.PAGE_CACHE_SECONDS = 0
    plain = practice.get_absolute_url()
    with CaptureQueriesContext(connection) as captured:
        client.get(plain)
    assert before == len(captured) + 3
