"""How sure a practice record is of each fact it states: recorded, unconfirmed (a
curator flagged it in `uncertain_fields`: the sources do not confirm it) or not
recorded. One rule for every surface: cards, the comparison, the practice page and
its completeness line, the counts on /data/, the feed and the structured data.

The facts are Practice.UNCERTAIN_CHOICES. Several facts shown as one value (a
period: the start and end years) are unconfirmed when any of them is.
"""

from collections import Counter
from dataclasses import dataclass

from django.db import models
from django.db.models import Exists, OuterRef, Q


class Certainty(models.TextChoices):
    RECORDED = "recorded", "Recorded"
    UNCONFIRMED = "unconfirmed", "Unconfirmed"
    NOT_RECORDED = "not-recorded", "Not recorded"


def rule(held, flagged):
    """The rule itself: a fact not held is not recorded, whatever its flag."""
    if not held:
        return Certainty.NOT_RECORDED
    return Certainty.UNCONFIRMED if flagged else Certainty.RECORDED


def is_unconfirmed(practice, names):
    """True when a curator flagged any of these comma-separated facts."""
    flagged = practice.uncertain_fields or ()
    return any(name in flagged for name in names.split(","))


def certainty(practice, names, value):
    """The certainty of the facts `names` (comma-separated) shown as `value`."""
    return rule(bool(value), is_unconfirmed(practice, names))


# --- which facts a record holds, in SQL (counts on /data/, the practice page) ----

# Facts held in many-to-many relations; `project` is a foreign key, the others are
# columns of the practice (text, or a year).
RELATIONS = {
    "places": ["countries", "regions"],
    "themes": ["themes"],
    "instruments": ["instruments"],
}


def _held(name):
    from .models import Practice

    if name in RELATIONS:
        condition = Q()
        for relation in RELATIONS[name]:
            through = getattr(Practice, relation).through
            condition |= Q(Exists(through.objects.filter(practice_id=OuterRef("pk"))))
        return condition
    if name == "project" or name.endswith("_year"):
        return Q(**{f"{name}__isnull": False})
    return ~Q(**{name: ""})


@dataclass(frozen=True)
class Fact:
    name: str
    label: str

    @property
    def annotation(self):
        return f"has_{self.name}"


def facts():
    from .models import Practice

    return [Fact(name, label) for name, label in Practice.UNCERTAIN_CHOICES]


def with_held_facts(queryset):
    """Annotate `has_<fact>`, a boolean, for every fact."""
    return queryset.annotate(
        **{
            fact.annotation: models.ExpressionWrapper(
                _held(fact.name), output_field=models.BooleanField()
            )
            for fact in facts()
        }
    )


def record_certainties(practice):
    """[(Fact, Certainty)] for a practice annotated by with_held_facts()."""
    flagged = practice.uncertain_fields or ()
    return [
        (fact, rule(getattr(practice, fact.annotation), fact.name in flagged))
        for fact in facts()
    ]


@dataclass
class FactCounts:
    fact: Fact
    counts: Counter

    @property
    def recorded(self):
        return self.counts[Certainty.RECORDED]

    @property
    def unconfirmed(self):
        return self.counts[Certainty.UNCONFIRMED]

    @property
    def not_recorded(self):
        return self.counts[Certainty.NOT_RECORDED]


def completeness(queryset):
    """[FactCounts] over `queryset`: for each fact, how many practices hold it
    recorded, unconfirmed, or do not record it. One query."""
    all_facts = facts()
    counts = [FactCounts(fact, Counter()) for fact in all_facts]
    rows = with_held_facts(queryset.order_by()).values_list(
        "uncertain_fields", *[fact.annotation for fact in all_facts]
    )
    for flagged, *held in rows:
        flagged = flagged or ()
        for row, fact, has in zip(counts, all_facts, held, strict=True):
            row.counts[rule(has, fact.name in flagged)] += 1
    return counts


@dataclass
class LevelCount:
    label: str
    count: int
    unconfirmed: int  # of `count`, those whose level the sources do not confirm


@dataclass
class Holdings:
    """What a set of practices holds, counted from the data, for claims such as
    the home page's: never typed by hand."""

    total: int
    levels: list  # [LevelCount] in ImplementationLevel order, levels held only
    level_not_recorded: int
    without_facts: int  # records that state nothing beyond their summary


def holdings(queryset):
    from .models import ImplementationLevel

    rows = with_held_facts(queryset.order_by()).values_list(
        "level", "uncertain_fields", *[fact.annotation for fact in facts()]
    )
    by_level = {level: Counter() for level in ImplementationLevel.values}
    total = level_not_recorded = without_facts = 0
    for level, flagged, *held in rows:
        total += 1
        sureness = rule(bool(level), "level" in (flagged or ()))
        if sureness == Certainty.NOT_RECORDED:
            level_not_recorded += 1
        else:
            by_level[level][sureness] += 1
        stated = [
            has
            for fact, has in zip(facts(), held, strict=True)
            if fact.name != "summary"
        ]
        without_facts += not any(stated)
    levels = [
        LevelCount(label, counts.total(), counts[Certainty.UNCONFIRMED])
        for (level, label) in ImplementationLevel.choices
        if (counts := by_level[level]).total()
    ]
    return Holdings(total, levels, level_not_recorded, without_facts)
