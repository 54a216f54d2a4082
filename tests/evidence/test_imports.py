"""An import (opendata.imports) updates a practice's sources in place, matched on
their URL, so the grade and figures resting on them stay; it refuses to drop a
source a figure rests on. The evidence columns of an export are ignored."""

import json

import pytest

from evidence.models import Grade, OutcomeFigure
from opendata.imports import import_practices
from opendata.records import practice_record
from practices.models import Practice
from tests.evidence.factories import make_figure, make_grade
from tests.factories import committed, make_practice, publishable_parts

pytestmark = pytest.mark.django_db


@pytest.fixture
def practice():
    parts = publishable_parts()
    parts["sources"] = ["https://example.org/a", "https://example.org/b"]
    practice = make_practice(slug="export-desk", **parts)
    make_grade(practice, sources=practice.sources.all())
    make_figure(practice, source=practice.sources.get(url="https://example.org/b"))
    return practice


def exported(practice, **changes):
    found = Practice.objects.for_export().get(pk=practice.pk)
    record = practice_record(found, lambda path: f"http://testserver{path}")
    record.update(changes)
    return json.dumps({"metadata": {}, "practices": [record]}).encode()


def test_changed_sources_keep_what_rests_on_them(practice):
    kept = {s.url: s.pk for s in practice.sources.all()}
    sources = [
        {"url": "https://example.org/new", "title": "New"},
        {"url": "https://example.org/b", "title": "B, renamed"},
        {"url": "https://example.org/a", "title": "Source 0"},
    ]
    with committed():
        report = import_practices(
            exported(practice, sources=sources), "p.json", update=True
        )
    assert report.ok, [str(p) for p in report.problems]
    stored = {s.url: s for s in practice.sources.all()}
    assert [s.url for s in practice.sources.all()] == [s["url"] for s in sources]
    assert stored["https://example.org/b"].pk == kept["https://example.org/b"]
    assert stored["https://example.org/b"].title == "B, renamed"
    assert OutcomeFigure.objects.get().source_id == kept["https://example.org/b"]
    assert Grade.objects.get().sources.count() == 2


def test_a_source_a_figure_rests_on_cannot_be_dropped(practice):
    sources = [{"url": "https://example.org/a", "title": "Source 0"}]
    report = import_practices(
        exported(practice, sources=sources), "p.json", update=True
    )
    assert not report.ok
    assert [str(p) for p in report.problems] == [
        "line 1 (slug 'export-desk'): sources: https://example.org/b cannot be "
        "removed: "
        "outcome figures rest on it (change those figures in the admin first)"
    ]
    assert practice.sources.count() == 2


def test_the_evidence_columns_are_ignored(practice):
    data = exported(practice, evidence_level=5, evidence_basis="Changed", figures=[])
    report = import_practices(data, "p.json", update=True)
    assert report.ok and not report.updated
    assert Grade.objects.get().level == 1 and OutcomeFigure.objects.count() == 1
