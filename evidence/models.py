"""How strong the evidence that a practice works is (Grade, on the scale of
EvidenceLevel, explained once in LEVEL_EXPLANATIONS), and the outcome figures its
sources report (OutcomeFigure), with the one rule for a derived figure
(cost_per_firm)."""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from practices.history import HistoricalRecordsWithReverseM2M
from practices.models import Practice, PracticeSource


class EvidenceLevel(models.IntegerChoices):
    NONE = 0, "No results published"
    ACTIVITY = 1, "Activity reported"
    RESULTS = 2, "Results reported"
    AUDIT = 3, "Independent evaluation or audit"
    COMPARISON = 4, "Evaluation with a comparison group"
    COUNTERFACTUAL = 5, "Counterfactual impact evaluation"


TOP_LEVEL = max(EvidenceLevel.values)

# What each level means, in our words: the /evidence/ page, the admin's help and
# the badges' accessible names all read it here.
LEVEL_EXPLANATIONS = {
    EvidenceLevel.NONE: "The sources describe the practice but publish nothing on "
    "what it did or achieved.",
    EvidenceLevel.ACTIVITY: "The operator, or a report about it, gives figures on "
    "what the practice did: firms served, events held, money spent. They show it "
    "ran, not that it changed anything.",
    EvidenceLevel.RESULTS: "The operator, or a report about it, gives figures on "
    "results for the firms: new exporters, export sales, jobs. Nobody outside "
    "checked them, and nothing says what would have happened without the "
    "practice.",
    EvidenceLevel.AUDIT: "Someone independent of the operator, an evaluator or an "
    "auditor, has examined the practice and published what it found.",
    EvidenceLevel.COMPARISON: "An evaluation compared the firms supported with "
    "firms that were not, and published the difference.",
    EvidenceLevel.COUNTERFACTUAL: "An evaluation estimated what the supported firms "
    "would have achieved without the practice, with a method built for that (a "
    "randomised trial, or a matched or quasi-experimental design), and published "
    "the effect.",
}


NOT_GRADED = "none"  # the list's filter value (FacetValue) for no grade yet


def level_choices():
    """The list's evidence filter options, [(value, label)], strongest first."""
    return [
        *(
            (str(level), f"{level} – {label}")
            for level, label in EvidenceLevel.choices[::-1]
        ),
        (NOT_GRADED, "Not recorded"),
    ]


def grade_of(practice):
    """The practice's grade, or None (no query when for_listing() read it)."""
    return getattr(practice, "grade", None)


def on_scale(level):
    """ "2 of 5: Results reported"."""
    return f"{level} of {TOP_LEVEL}: {EvidenceLevel(level).label}"


def level_name(level):
    """ "Evidence level 2 of 5: Results reported": a badge's accessible name."""
    return f"Evidence level {on_scale(level)}"


class Grade(models.Model):
    """How strong the evidence for one practice is, and why."""

    practice = models.OneToOneField(
        Practice, on_delete=models.CASCADE, related_name="grade"
    )
    level = models.PositiveSmallIntegerField(
        "evidence level",
        choices=EvidenceLevel,
        help_text="The highest level the sources support, never higher: "
        + " ".join(
            f"{level} {EvidenceLevel(level).label}: {text}"
            for level, text in LEVEL_EXPLANATIONS.items()
        ),
    )
    basis = models.TextField(
        help_text="One sentence, in our words, stating the rule applied: which "
        "sources say what, and why that is this level."
    )
    sources = models.ManyToManyField(
        PracticeSource,
        related_name="grades",
        blank=True,
        help_text="The record's sources the grade rests on (save new sources first).",
    )
    assessed_by = models.CharField(
        max_length=100, help_text="Who graded it (a curator or a team)."
    )
    assessed_on = models.DateField(help_text="When it was graded.")
    unconfirmed = models.BooleanField(
        default=False,
        help_text="The basis rests on something the sources do not confirm; "
        "pages mark the grade as unconfirmed.",
    )

    history = HistoricalRecordsWithReverseM2M(m2m_fields=["sources"])

    class Meta:
        ordering = ["practice"]
        verbose_name = "evidence grade"
        constraints = [
            models.CheckConstraint(
                condition=Q(level__gte=0, level__lte=TOP_LEVEL),
                name="grade_level_on_scale",
                violation_error_message=f"The level must be 0 to {TOP_LEVEL}.",
            ),
            models.CheckConstraint(
                condition=~Q(basis=""),
                name="grade_has_basis",
                violation_error_message="A grade needs its basis: the rule "
                "applied, in a sentence.",
            ),
        ]

    def __str__(self):
        return level_name(self.level)

    @property
    def label(self):
        return EvidenceLevel(self.level).label

    @property
    def explanation(self):
        return LEVEL_EXPLANATIONS[EvidenceLevel(self.level)]

    @property
    def accessible_name(self):
        return level_name(self.level)

    @property
    def on_scale(self):
        return on_scale(self.level)


class Metric(models.TextChoices):
    FIRMS_SUPPORTED = "firms-supported", "Firms supported"
    NEW_EXPORTERS = "new-exporters", "New exporters"
    PARTICIPANTS = "participants", "Participants"
    EVENTS = "events-or-missions", "Events or missions"
    EXPORT_SALES = "export-sales", "Export sales generated"
    JOBS = "jobs", "Jobs"
    PUBLIC_BUDGET = "public-budget", "Public budget"


# Amounts of money, in a currency; every other metric is a count.
MONEY_METRICS = [Metric.EXPORT_SALES, Metric.PUBLIC_BUDGET]


class OutcomeFigure(models.Model):
    """One figure a source reports about a practice, as data."""

    practice = models.ForeignKey(
        Practice, on_delete=models.CASCADE, related_name="figures"
    )
    metric = models.CharField(max_length=30, choices=Metric)
    value = models.DecimalField(
        max_digits=16,
        decimal_places=2,
        help_text="As the source gives it; an amount in the currency below.",
    )
    currency = models.CharField(
        max_length=3,
        blank=True,
        help_text="ISO 4217 code (EUR, PLN) for export sales and public budget; "
        "empty for counts.",
    )
    period_start = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="First year the figure covers, if known."
    )
    period_end = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Last year the figure covers, if known."
    )
    # RESTRICT, not PROTECT: a source cannot be deleted while a figure rests on
    # it, but a practice can be, with its sources and figures together.
    source = models.ForeignKey(
        PracticeSource,
        on_delete=models.RESTRICT,
        related_name="figures",
        help_text="The record's source that reports it.",
    )
    description = models.TextField(
        help_text="One sentence, in our words, saying what the figure counts."
    )
    evidence_line = models.TextField(
        blank=True, help_text="The line of the research notes it comes from."
    )
    unconfirmed = models.BooleanField(
        default=False, help_text="The source does not confirm it fully."
    )
    position = models.PositiveSmallIntegerField(default=0)

    history = HistoricalRecords()

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = "outcome figure"
        constraints = [
            models.CheckConstraint(
                condition=Q(value__gte=0),
                name="outcomefigure_value_not_negative",
                violation_error_message="A figure cannot be negative.",
            ),
            models.CheckConstraint(
                condition=Q(metric__in=MONEY_METRICS, currency__regex=r"^[A-Z]{3}$")
                | (~Q(metric__in=MONEY_METRICS) & Q(currency="")),
                name="outcomefigure_currency_for_money",
                violation_error_message="Export sales and public budget need a "
                "currency (a three-letter code such as EUR); counts take none.",
            ),
            models.CheckConstraint(
                condition=Q(period_start__isnull=True)
                | Q(period_end__isnull=True)
                | Q(period_end__gte=F("period_start")),
                name="outcomefigure_period_in_order",
                violation_error_message="The period cannot end before it starts.",
            ),
        ]

    def __str__(self):
        return f"{self.get_metric_display()}: {self.amount}"

    def clean(self):
        self.currency = self.currency.strip().upper()
        if self.source_id and self.practice_id:
            if self.source.practice_id != self.practice_id:
                raise ValidationError(
                    {"source": "Choose one of this practice's own sources."}
                )

    @property
    def amount(self):
        """ "EUR 103,280" or "1,246": the value with its currency."""
        return amount(self.value, self.currency)

    @property
    def period(self):
        return period(self.period_start, self.period_end)

    @property
    def summary(self):
        """ "EUR 103,280 (2016)", "39 (period not recorded; unconfirmed)"."""
        return noted(
            self.amount, self.period or "period not recorded", self.unconfirmed
        )


def noted(text, note, unconfirmed):
    """ "EUR 2,000 (2016)", "EUR 2,000 (2016; unconfirmed)": a figure as every
    surface words it (pages, comparison, CSV cells)."""
    return f"{text} ({note}{'; unconfirmed' if unconfirmed else ''})"


def amount(value, currency=""):
    value = Decimal(value)
    text = f"{value:,.0f}" if value == value.to_integral() else f"{value:,.2f}"
    return f"{currency} {text}" if currency else text


def period(start, end):
    """ "2016", "2016–2017", "since 2004", "up to 2017" or "" (not recorded)."""
    if start is None and end is None:
        return ""
    if end is None:
        return f"since {start}"
    if start is None:
        return f"up to {end}"
    return str(start) if start == end else f"{start}–{end}"


@dataclass(frozen=True)
class CostPerFirm:
    """A public cost per firm supported, and how it was worked out."""

    value: Decimal
    currency: str
    budget: OutcomeFigure
    firms: OutcomeFigure

    @property
    def amount(self):
        return amount(self.value, self.currency)

    @property
    def period(self):
        return self.budget.period

    @property
    def method(self):
        return (
            f"{self.budget.amount} public budget ÷ {self.firms.amount} firms "
            f"supported, both {self.period}"
        )

    @property
    def unconfirmed(self):
        return self.budget.unconfirmed or self.firms.unconfirmed

    @property
    def summary(self):
        """The amount with its method, as text."""
        return noted(self.amount, self.method, self.unconfirmed)


def cost_per_firm(figures):
    """The public cost per firm supported that a practice's `figures` allow: its
    public budget divided by the firms it supported, only for a budget and a count
    of the same practice covering the same known years, the budget in a currency
    (never across currencies: one figure per currency). The one rule for every
    page, the comparison, the chart and the exports."""
    figures = list(figures)
    derived = []
    for budget in figures:
        if budget.metric != Metric.PUBLIC_BUDGET or not budget.currency:
            continue
        if budget.period_start is None or budget.period_end is None:
            continue
        for firms in figures:
            if (
                firms.metric == Metric.FIRMS_SUPPORTED
                and firms.practice_id == budget.practice_id
                and firms.value > 0
                and (firms.period_start, firms.period_end)
                == (budget.period_start, budget.period_end)
            ):
                ratio = Decimal(str(budget.value)) / Decimal(str(firms.value))
                value = ratio.quantize(Decimal("0.01"), ROUND_HALF_UP)
                derived.append(CostPerFirm(value, budget.currency, budget, firms))
    return derived
