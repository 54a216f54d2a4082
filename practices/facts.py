"""How sure a practice record is of each fact it states (Practice.UNCERTAIN_CHOICES):
recorded, unconfirmed (a curator flagged it in `uncertain_fields`), none published
(looked for at the last verification and not found: `declared_none`) or not
recorded. One rule for every surface: cards, comparison, practice page, /data/,
feed and structured data. Facts shown as one value (a period) are unconfirmed when
any is, and declared unpublished only when all are.
"""

from collections import Counter, namedtuple
from types import SimpleNamespace

from django.db import models
from django.db.models import Count, Exists, Max, Min, OuterRef, Q


class Certainty(models.TextChoices):
    RECORDED = "recorded", "Recorded"
    UNCONFIRMED = "unconfirmed", "Unconfirmed"
    DECLARED_NONE = "declared-none", "None published"
    NOT_RECORDED = "not-recorded", "Not recorded"


def rule(held, flagged, declared=False):
    """The rule itself: a fact held is recorded or, flagged, unconfirmed; one not
    held is declared unpublished when a verification looked for it, otherwise
    not recorded (whatever its flag)."""
    if not held:
        return Certainty.DECLARED_NONE if declared else Certainty.NOT_RECORDED
    return Certainty.UNCONFIRMED if flagged else Certainty.RECORDED


def is_unconfirmed(practice, names):
    """True when a curator flagged any of these comma-separated facts."""
    flagged = practice.uncertain_fields or ()
    return any(name in flagged for name in names.split(","))


def is_declared_none(practice, names):
    """True when the last verification looked for all of these comma-separated
    facts and found none published."""
    declared = practice.declared_none or ()
    return all(name in declared for name in names.split(","))


def certainty(practice, names, value):
    """The certainty of a fact (`names`, comma-separated) shown as `value`."""
    return rule(
        bool(value),
        is_unconfirmed(practice, names),
        is_declared_none(practice, names),
    )


def none_published(practice):
    """How a declared gap reads: "None published as of December 2026"."""
    return f"None published as of {practice.last_verified_on:%B %Y}"


# Facts held in many-to-many relations; `project` is a foreign key, the others are
# columns of the practice (text, or a year).
RELATIONS = {
    "places": ["countries", "regions"],
    "themes": ["themes"],
    "instruments": ["instruments"],
}


def _held(model, name):
    """A condition true when a practice holds this fact, in SQL."""
    if name in RELATIONS:
        condition = Q()
        for relation in RELATIONS[name]:
            through = getattr(model, relation).through
            condition |= Q(Exists(through.objects.filter(practice_id=OuterRef("pk"))))
        return condition
    if name == "project" or name.endswith("_year"):
        return Q(**{f"{name}__isnull": False})
    return ~Q(**{name: ""})


def with_held_facts(queryset):
    """Annotate `has_<fact>`, a boolean, for every fact."""
    model = queryset.model
    held = {f"has_{name}": _held(model, name) for name in model.UNCERTAIN_FIELDS}
    return queryset.annotate(**held)


def completeness(practice):
    """tally() of the facts of a practice annotated by with_held_facts()."""
    flagged = practice.uncertain_fields or ()
    declared = practice.declared_none or ()
    return tally(
        rule(getattr(practice, f"has_{name}"), name in flagged, name in declared)
        for name in practice.UNCERTAIN_FIELDS
    )


def tally(certainties):
    """How many of these certainties (or a Counter of them) are recorded,
    unconfirmed, declared unpublished, not recorded, stated (either of the first
    two), and in total."""
    counts = Counter(certainties)
    recorded, unconfirmed = counts[Certainty.RECORDED], counts[Certainty.UNCONFIRMED]
    return {
        "recorded": recorded,
        "unconfirmed": unconfirmed,
        "declared_none": counts[Certainty.DECLARED_NONE],
        "not_recorded": counts[Certainty.NOT_RECORDED],
        "stated": recorded + unconfirmed,
        "total": counts.total(),
    }


# `unconfirmed`: of `count`, those whose level the sources do not confirm.
LevelCount = namedtuple("LevelCount", ["label", "count", "unconfirmed"])


def holdings(queryset):
    """What `queryset` holds, counted in one query for the home and data pages."""
    from .models import REVIEW_OVERDUE, ImplementationLevel, Practice

    names = Practice.UNCERTAIN_FIELDS
    columns = ["level", "uncertain_fields", "declared_none", "cites_interreg_europe"]
    columns += [f"has_{name}" for name in names]
    annotated = queryset.order_by().with_held_facts().with_source_terms()
    # Grouped in the database: the Python below reads one row per combination of
    # these values (a few dozen), not one per practice.
    rows = annotated.values_list(*columns).annotate(practices=Count("pk"))
    by_fact = {name: Counter() for name in names}
    by_level = {level: Counter() for level in ImplementationLevel.values}
    total = without_facts = citing = 0
    for level, flagged, declared, cites, *held, practices in rows:
        flagged, declared = flagged or (), declared or ()
        total += practices
        citing += cites * practices
        if level:
            by_level[level][rule(True, "level" in flagged)] += practices
        stated = False  # anything beyond the summary
        for name, has in zip(names, held, strict=True):
            by_fact[name][rule(has, name in flagged, name in declared)] += practices
            stated = stated or (has and name != "summary")
        without_facts += practices * (not stated)
    levels = [
        LevelCount(label, counts.total(), counts[Certainty.UNCONFIRMED])
        for (level, label) in ImplementationLevel.choices
        if (counts := by_level[level]).total()
    ]
    # Overdue depends on the day: holdings are kept a day (listing.kept_for).
    freshness = queryset.aggregate(
        verified=Count("pk", filter=Q(last_verified_on__isnull=False)),
        verified_from=Min("last_verified_on"),
        verified_to=Max("last_verified_on"),
        review_overdue=Count("pk", filter=REVIEW_OVERDUE),
    )
    return SimpleNamespace(
        total=total,
        not_verified=total - freshness["verified"],
        **freshness,  # when their sources were last read, and reviews overdue
        levels=levels,  # [LevelCount] in ImplementationLevel order, levels held only
        level_not_recorded=total - sum(level.count for level in levels),
        without_facts=without_facts,  # records that state nothing beyond their summary
        # Records with an Interreg Europe page as a source, and the others.
        citing_interreg_europe=citing,
        not_citing_interreg_europe=total - citing,
        facts=[  # how complete records are
            {"label": label, **tally(by_fact[name])}
            for name, label in Practice.UNCERTAIN_CHOICES
        ],
    )
