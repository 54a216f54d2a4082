"""Small factory functions: defaults via setdefault; tests pass what they assert on.

Tests run inside a transaction that never commits, so on-commit callbacks (the
search index and the catalogue version, practices/signals.py) only run where a
test says so: `with committed():`. What a factory makes is committed."""

from datetime import date, timedelta
from itertools import count

from django.contrib.auth.models import Group, User
from django.test import TestCase
from django.utils import timezone

from briefs.models import (
    Brief,
    BriefSection,
    FeaturedPractice,
    Recommendation,
    RecommendationPractice,
)
from practices.models import (
    Country,
    InstrumentType,
    Practice,
    PracticeSource,
    Project,
    Region,
    Status,
    Theme,
)

_seq = count(1)

_TODAY = timezone.localdate()
# One set of values per state a reader must never see in a list, feed, export or
# sitemap. Drafts keep a date on purpose: a practice moved back to draft keeps it.
HIDDEN_STATES = {
    "draft": {"status": Status.DRAFT, "published_on": _TODAY - timedelta(days=1)},
    "in-review": {"status": Status.IN_REVIEW, "published_on": None},
    "scheduled": {"status": Status.PUBLISHED, "published_on": _TODAY + timedelta(7)},
    "archived": {"status": Status.ARCHIVED, "published_on": _TODAY - timedelta(1)},
}


def committed():
    """The changes made inside count as committed: their on-commit callbacks run at
    the end of the block (or of the decorated function)."""
    return TestCase.captureOnCommitCallbacks(execute=True)


@committed()
def make_country(**kwargs):
    kwargs.setdefault("code", "IT")
    kwargs.setdefault("name", "Italy")
    kwargs.setdefault("nuts_code", kwargs["code"])
    return Country.objects.get_or_create(code=kwargs.pop("code"), defaults=kwargs)[0]


@committed()
def make_region(**kwargs):
    kwargs.setdefault("code", "ITH5")
    kwargs.setdefault("name", "Emilia-Romagna")
    kwargs.setdefault("level", len(kwargs["code"]) - 2)
    if "country" not in kwargs:
        kwargs["country"] = make_country(code=kwargs["code"][:2])
    return Region.objects.create(**kwargs)


@committed()
def make_theme(**kwargs):
    n = next(_seq)
    kwargs.setdefault("slug", f"theme-{n}")
    kwargs.setdefault("name", f"Theme {n}")
    kwargs.setdefault("description", "A theme used in tests.")
    return Theme.objects.create(**kwargs)


@committed()
def make_instrument(**kwargs):
    n = next(_seq)
    kwargs.setdefault("slug", f"instrument-{n}")
    kwargs.setdefault("name", f"Instrument {n}")
    kwargs.setdefault("description", "An instrument used in tests.")
    return InstrumentType.objects.create(**kwargs)


@committed()
def make_project(**kwargs):
    n = next(_seq)
    kwargs.setdefault("slug", f"project-{n}")
    kwargs.setdefault("acronym", f"PROJ{n}")
    return Project.objects.create(**kwargs)


@committed()
def make_practice(
    countries=(), regions=(), themes=(), instruments=(), sources=(), **kwargs
):
    n = next(_seq)
    kwargs.setdefault("title", f"Practice {n}")
    kwargs.setdefault("slug", f"practice-{n}")
    kwargs.setdefault("summary", "A practice used in tests.")
    kwargs.setdefault("attribution", "Written for the tests.")
    kwargs.setdefault("status", Status.PUBLISHED)
    if kwargs["status"] == Status.PUBLISHED:
        kwargs.setdefault("published_on", date(2026, 1, 1))
    practice = Practice.objects.create(**kwargs)
    practice.countries.set(countries)
    practice.regions.set(regions)
    practice.themes.set(themes)
    practice.instruments.set(instruments)
    for position, url in enumerate(sources):
        PracticeSource.objects.create(
            practice=practice, url=url, title=f"Source {position}", position=position
        )
    return practice


# A practice's admin form also carries the evidence inlines: empty, they change
# nothing (evidence.admin).
EVIDENCE_INLINES = {
    "grade-TOTAL_FORMS": "0",
    "grade-INITIAL_FORMS": "0",
    "figures-TOTAL_FORMS": "0",
    "figures-INITIAL_FORMS": "0",
}


def publishable_parts():
    """make_practice's arguments for what the publishing gate asks of a practice
    (Practice.publication_gaps) besides its summary: a source, a theme, an
    instrument type and a place."""
    return {
        "countries": [make_country()],
        "themes": [make_theme()],
        "instruments": [make_instrument()],
        "sources": ["https://example.org/practice"],
    }


@committed()
def make_brief(practices=(), **kwargs):
    n = next(_seq)
    kwargs.setdefault("title", f"Brief {n}")
    kwargs.setdefault("slug", f"brief-{n}")
    kwargs.setdefault("standfirst", "A brief used in tests.")
    kwargs.setdefault("source_url", "https://example.org/brief")
    kwargs.setdefault("attribution", "Written for the tests.")
    kwargs.setdefault("status", Status.PUBLISHED)
    if kwargs["status"] == Status.PUBLISHED:
        kwargs.setdefault("published_on", date(2026, 1, 1))
    brief = Brief.objects.create(**kwargs)
    section = BriefSection.objects.create(
        brief=brief, heading="Why it matters", anchor="why", body="Some **text**."
    )
    for position, practice in enumerate(practices):
        FeaturedPractice.objects.create(
            brief=brief, practice=practice, section=section, position=position
        )
    return brief


def make_recommendation(brief, practices=(), **kwargs):
    """A recommendation of `brief`, illustrated by `practices` (each with a note
    naming it), numbered after the brief's others."""
    number = brief.recommendations.count() + 1
    kwargs.setdefault("number", number)
    kwargs.setdefault("anchor", f"recommendation-{kwargs['number']}")
    kwargs.setdefault("text", f"Recommendation text {kwargs['number']}.")
    kwargs.setdefault("basis", "Drawn from the [lessons](#why).")
    recommendation = Recommendation.objects.create(brief=brief, **kwargs)
    for position, practice in enumerate(practices):
        RecommendationPractice.objects.create(
            recommendation=recommendation,
            practice=practice,
            note=f"Why {practice.title} shows it.",
            position=position,
        )
    return recommendation


def make_user(groups=(), **kwargs):
    """A staff account in the named groups, which must exist (the curation
    groups come from migration practices 0008_curation_groups)."""
    n = next(_seq)
    kwargs.setdefault("username", f"curator-{n}")
    kwargs.setdefault("is_staff", True)
    user = User.objects.create_user(**kwargs)
    user.groups.set([Group.objects.get(name=name) for name in groups])
    return user
