from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from evidence.models import (
    LEVEL_EXPLANATIONS,
    EvidenceLevel,
    Grade,
    OutcomeFigure,
    cost_per_firm,
    level_name,
)
from tests.evidence.factories import make_figure, make_grade
from tests.factories import make_practice

pytestmark = pytest.mark.django_db


@pytest.fixture
def practice():
    return make_practice(sources=["https://example.org/a", "https://example.org/b"])


def violates(name, create):
    """The database refuses the row, naming the constraint (on both vendors)."""
    with pytest.raises(IntegrityError) as error, transaction.atomic():
        create()
    # SQLite names CHECK constraints in its message; PostgreSQL too.
    assert name in str(error.value)


def test_every_level_is_explained_once():
    assert set(LEVEL_EXPLANATIONS) == set(EvidenceLevel)
    assert level_name(2) == "Evidence level 2 of 5: Results reported"


@pytest.mark.parametrize("level", [6, 9])
def test_grade_level_on_the_scale(practice, level):
    violates("grade_level_on_scale", lambda: make_grade(practice, level=level))


def test_grade_has_a_basis(practice):
    violates("grade_has_basis", lambda: make_grade(practice, basis=""))


def test_one_grade_per_practice(practice):
    make_grade(practice)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_grade(practice)


@pytest.mark.parametrize(
    "name, values",
    [
        ("outcomefigure_value_not_negative", {"value": -1}),
        (
            "outcomefigure_currency_for_money",
            {"metric": "public-budget", "value": 1000, "currency": ""},
        ),
        ("outcomefigure_currency_for_money", {"currency": "EUR"}),
        (
            "outcomefigure_currency_for_money",
            {"metric": "export-sales", "currency": "eur"},
        ),
        ("outcomefigure_period_in_order", {"period_start": 2017, "period_end": 2016}),
    ],
)
def test_figure_constraints(practice, name, values):
    violates(name, lambda: make_figure(practice, **values))


def test_figure_of_another_practices_source_is_refused(practice):
    other = make_practice(sources=["https://example.org/other"])
    figure = OutcomeFigure(
        practice=practice,
        metric="jobs",
        value=3,
        source=other.sources.get(),
        description="Jobs.",
    )
    with pytest.raises(ValidationError) as error:
        figure.full_clean()
    assert error.value.message_dict["source"] == [
        "Choose one of this practice's own sources."
    ]


def test_figure_amount_and_period(practice):
    budget = make_figure(
        practice,
        metric="public-budget",
        value=Decimal("103280"),
        currency="EUR",
        period_start=2016,
        period_end=2017,
    )
    assert budget.amount == "EUR 103,280"
    assert budget.period == "2016–2017"
    assert make_figure(practice, value=Decimal("2.5")).amount == "2.50"
    assert make_figure(practice).period == ""
    # One end only: what the source says, not a single year.
    assert make_figure(practice, period_start=2004).period == "since 2004"
    assert make_figure(practice, period_end=2017).period == "up to 2017"


def money(practice, **kwargs):
    kwargs.setdefault("currency", "EUR")
    return make_figure(practice, metric="public-budget", **kwargs)


def test_cost_per_firm_for_the_same_years_and_a_currency(practice):
    firms = make_figure(practice, value=30, period_start=2016, period_end=2016)
    budget = money(practice, value=103280, period_start=2016, period_end=2016)
    [derived] = cost_per_firm([budget, firms])
    assert derived.value == Decimal("3442.67")
    assert derived.amount == "EUR 3,442.67"
    assert derived.method == (
        "EUR 103,280 public budget ÷ 30 firms supported, both 2016"
    )


@pytest.mark.parametrize(
    "firm_years, budget_years",
    [
        ((2016, 2016), (2016, 2017)),  # different periods
        ((None, None), (None, None)),  # periods not recorded
        ((2016, None), (2016, None)),  # half a period
    ],
)
def test_no_cost_per_firm_across_periods(practice, firm_years, budget_years):
    firms = make_figure(practice, period_start=firm_years[0], period_end=firm_years[1])
    budget = money(
        practice, value=1000, period_start=budget_years[0], period_end=budget_years[1]
    )
    assert cost_per_firm([budget, firms]) == []


def test_no_cost_per_firm_across_practices_or_without_firms(practice):
    other = make_practice(sources=["https://example.org/c"])
    firms = make_figure(other, period_start=2016, period_end=2016)
    budget = money(practice, value=1000, period_start=2016, period_end=2016)
    none = make_figure(practice, value=0, period_start=2016, period_end=2016)
    assert cost_per_firm([budget, firms, none]) == []


def test_one_cost_per_firm_per_currency_and_period(practice):
    firms = make_figure(practice, value=10, period_start=2016, period_end=2016)
    euros = money(practice, value=1000, period_start=2016, period_end=2016)
    zloty = money(
        practice, value=4000, currency="PLN", period_start=2016, period_end=2016
    )
    derived = cost_per_firm([euros, zloty, firms])
    assert [(d.amount, d.period) for d in derived] == [
        ("EUR 100", "2016"),
        ("PLN 400", "2016"),
    ]


def test_history_records_grades_and_figures(practice):
    grade = make_grade(practice, level=1)
    grade.level = 2
    grade.save()
    grade.sources.set(practice.sources.all())
    assert [h.level for h in grade.history.order_by("history_id")][:2] == [1, 1]
    assert grade.history.latest("history_id").level == 2
    latest = grade.history.latest("history_id")
    assert {s.practicesource_id for s in latest.sources.all()} == {
        s.pk for s in practice.sources.all()
    }
    figure = make_figure(practice, value=30)
    figure.value = 31
    figure.save()
    figure.delete()
    assert [h.history_type for h in OutcomeFigure.history.order_by("history_id")] == [
        "+",
        "~",
        "-",
    ]


def test_practice_deleted_with_its_grade_figures_and_sources(practice):
    make_grade(practice)
    make_figure(practice)
    practice.delete()
    assert not Grade.objects.exists() and not OutcomeFigure.objects.exists()
