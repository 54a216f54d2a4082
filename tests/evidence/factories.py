"""Grades and figures for tests; defaults via setdefault, as tests/factories.py."""

from datetime import date

from evidence.models import Grade, OutcomeFigure
from tests.factories import committed


@committed()
def make_grade(practice, sources=(), **kwargs):
    kwargs.setdefault("level", 1)
    kwargs.setdefault("basis", "The operator counts the firms it served.")
    kwargs.setdefault("assessed_by", "Tests")
    kwargs.setdefault("assessed_on", date(2026, 12, 7))
    grade = Grade.objects.create(practice=practice, **kwargs)
    grade.sources.set(sources or practice.sources.all()[:1])
    return grade


@committed()
def make_figure(practice, **kwargs):
    kwargs.setdefault("metric", "firms-supported")
    kwargs.setdefault("value", 30)
    kwargs.setdefault("source", practice.sources.first())
    kwargs.setdefault("description", "Firms that took part.")
    return OutcomeFigure.objects.create(practice=practice, **kwargs)
