"""The /evidence/ page's two charts, as practices/charts.py draws them: published
practices per evidence level (the list's own facet counts), and the public cost per
firm supported of the practices whose figures allow it (cost_per_firm)."""

from dataclasses import dataclass
from itertools import groupby
from operator import attrgetter

from django.urls import reverse

from practices.charts import BAR_LENGTH, bar_chart

from .models import (
    TOP_LEVEL,
    Metric,
    OutcomeFigure,
    cost_per_firm,
    level_choices,
)


@dataclass
class LevelCount:
    """A level as bar_chart draws a term: its name, count and list link."""

    value: str  # "0"…"5", or NOT_GRADED
    name: str
    practice_count: int

    def get_absolute_url(self):
        return f"{reverse('practices:list')}?evidence={self.value}"


def levels_chart(counts):
    """bar_chart's context for the published practices per level; `counts` are
    the list's unfiltered facet counts {(facet, value): n}."""
    rows = [
        LevelCount(value, label, counts.get(("evidence", value), 0))
        for value, label in level_choices()
    ]
    return bar_chart(
        rows,
        caption=f"Published practices per evidence level, from {TOP_LEVEL} (the "
        "strongest) to 0, and those not graded yet.",
        term_label="Evidence level",
    )


@dataclass
class CostRow:
    practice: object
    cost: object  # a models.CostPerFirm
    length: float = 0


def costs_per_firm(practices):
    """[(currency, [CostRow])]: the derived cost per firm of each of these
    practices that has one, by currency (never compared across currencies), the
    lowest first; bars relative to the highest in their currency."""
    figures = (
        OutcomeFigure.objects.filter(
            practice__in=practices,
            metric__in=[Metric.PUBLIC_BUDGET, Metric.FIRMS_SUPPORTED],
        )
        .select_related("practice")
        .only(
            *(f.name for f in OutcomeFigure._meta.concrete_fields),
            "practice__slug",
            "practice__title",
        )
        .order_by("practice_id", "position", "pk")
    )
    rows = [
        CostRow(cost.budget.practice, cost)
        for _, group in groupby(figures, attrgetter("practice_id"))
        for cost in cost_per_firm(group)
    ]
    rows.sort(key=lambda row: (row.cost.currency, row.cost.value, row.practice.title))
    charts = []
    for currency, group in groupby(rows, lambda row: row.cost.currency):
        group = list(group)
        highest = max(row.cost.value for row in group) or 1
        for row in group:
            row.length = round(BAR_LENGTH * float(row.cost.value / highest), 1)
        charts.append((currency, group))
    return charts
