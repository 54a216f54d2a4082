"""The evidence content (fixtures/catalogue/evidence.json) and its loader."""

import json
from functools import cache
from io import StringIO

import pytest
from django.core.management import call_command

from evidence.models import Grade, OutcomeFigure, cost_per_firm
from practices.content import (
    STALE_EVIDENCE,
    ContentError,
    content_files,
    load_catalogue,
    read_content,
)
from practices.models import Practice

pytestmark = pytest.mark.django_db

CONSOLIDATION = "consolidation-plan-in-international-markets"


def test_the_loader_adds_grades_and_figures_with_their_sources(catalogue):
    entries = read_content(content_files())["evidence"]
    assert catalogue["grades"] == Grade.objects.count() == len(entries)
    figures = sum(len(entry.get("figures", [])) for entry in entries.values())
    assert catalogue["figures"] == OutcomeFigure.objects.count() == figures
    grade = Grade.objects.get(practice__slug=CONSOLIDATION)
    assert grade.level == 1 and "the 2016 edition" in grade.basis
    [source] = grade.sources.all()
    assert source.practice_id == grade.practice_id
    [derived] = cost_per_firm(grade.practice.figures.all())
    assert derived.amount == "EUR 3,442.67"


def test_loading_again_adds_nothing_and_keeps_curators_edits(catalogue):
    grade = Grade.objects.get(practice__slug=CONSOLIDATION)
    grade.level, grade.basis = 0, "A curator's own reading."
    grade.save()
    figures = grade.practice.figures.count()
    OutcomeFigure.objects.filter(practice=grade.practice).first().delete()
    assert load_catalogue() == {}
    grade.refresh_from_db()
    assert (grade.level, grade.basis) == (0, "A curator's own reading.")
    assert grade.practice.figures.count() == figures - 1  # the curator's choice


def write(tmp_path, entry):
    path = tmp_path / "evidence.json"
    path.write_text(json.dumps({"evidence": [entry]}), encoding="utf-8")
    return path


def an_entry(record, **changes):
    url = record.sources.first().url
    return {
        "practice": record.slug,
        "level": 1,
        "basis": "Counted by the operator.",
        "sources": [url],
        "assessed_by": "Tests",
        "assessed_on": "2026-12-07",
        "figures": [
            {
                "metric": "jobs",
                "value": 4,
                "currency": "",
                "period_start": None,
                "period_end": None,
                "source": url,
                "description": "Jobs.",
            }
        ],
        **changes,
    }


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"basis": ""}, "basis"),
        ({"level": 9}, "level"),
        ({"practice": "no-such-practice"}, "does not exist"),
        ({"figures": [{"metric": "jobs", "value": -1}]}, "source"),
    ],
)
def test_bad_evidence_is_refused_with_its_reason(catalogue, tmp_path, changes, message):
    practice = Practice.objects.filter(figures__isnull=True).first()
    Grade.objects.filter(practice=practice).delete()  # so the file's would be added
    path = write(tmp_path, an_entry(practice, **changes))
    with pytest.raises(ContentError) as error:
        load_catalogue([path])
    assert "evidence '" in str(error.value) and message in str(error.value)
    assert not Grade.objects.filter(practice=practice).exists()


def test_evidence_citing_sources_its_stored_record_lacks_is_left_out(
    catalogue, tmp_path
):
    """A database loaded before a record's shipped version cited new sources keeps
    that record, and the load reports the evidence it leaves out instead of
    failing (make run stays idempotent on older databases)."""
    practice = Practice.objects.first()
    Grade.objects.filter(practice=practice).delete()
    entry = an_entry(practice, sources=["https://example.org/not-its-own"])
    assert load_catalogue([write(tmp_path, entry)]) == {STALE_EVIDENCE: 1}
    assert not Grade.objects.filter(practice=practice).exists()
    out = StringIO()
    call_command("load_catalogue", str(write(tmp_path, entry)), stdout=out)
    assert "Evidence of 1 practice left out" in out.getvalue()


def test_every_published_practice_has_a_grade(catalogue):
    """Issue 21: every published practice is graded, records added later too."""
    ungraded = Practice.objects.published().filter(grade__isnull=True)
    assert list(ungraded.values_list("slug", flat=True)) == []


def test_every_grade_and_figure_is_traceable_to_the_research(db):
    """Each grade rests on at least one source, each figure names the research
    line it comes from, and each graded practice has its note lines (slug |
    what | source URL | quote) in the notes beside the content."""
    notes = "\n".join(
        path.read_text(encoding="utf-8")
        for path in content_files()[0].parent.glob("*.md")
    )
    for slug, entry in read_content(content_files())["evidence"].items():
        assert entry["sources"], slug
        for figure in entry.get("figures", []):
            assert figure.get("evidence_line", "").strip(), (slug, figure["metric"])
        assert f"\n{slug} | " in notes, slug


# The figures that show results for the firms (level 2 and up); the rest show
# activity (level 1 and up), except a budget, which shows neither.
RESULTS = {"new-exporters", "export-sales", "jobs"}


def shipped_practices():
    """{slug: record} of the practices in the catalogue files."""
    return {
        slug: record
        for path in content_files()
        if path.suffix == ".json"
        for slug, record in (
            (p["slug"], p)
            for p in json.loads(path.read_text("utf-8")).get("practices", [])
        )
    }


@pytest.mark.parametrize(
    "entry",
    read_content(content_files())["evidence"].values(),
    ids=lambda entry: entry["practice"],
)
def test_no_grade_is_above_what_its_figures_and_record_support(entry):
    """Issue 21: a grade writes the rule applied in its basis, is no higher than
    its evidence (a level of 3 or more needs an evaluation or audit named in the
    basis), matches its figures (level 0 has no activity or result figure, a
    result figure means at least level 2), and is unconfirmed where the record
    marks its evidence uncertain."""
    level, basis = entry["level"], entry["basis"]
    metrics = {figure["metric"] for figure in entry.get("figures", [])}
    assert basis.startswith(f"Graded {level} ")
    if level >= 3:
        assert "evaluation" in basis or "audit" in basis
    if level == 0:
        assert metrics <= {"public-budget"}
    if metrics & RESULTS:
        assert level >= 2
    record = shipped_practices()[entry["practice"]]
    if "evidence" in record["uncertain_fields"]:
        assert entry["unconfirmed"]
    own = {source["url"] for source in record["sources"]}
    assert set(entry["sources"]) <= own
    assert {figure["source"] for figure in entry.get("figures", [])} <= own


RESEARCH = content_files()[0].parent.parent / "research"


@cache
def research_records():
    """{slug: research record} (fixtures/research/*practices*.json: what the
    catalogue was written from; not the verification's answers)."""
    return {
        record["slug"]: record
        for path in sorted(RESEARCH.glob("*practices*.json"))
        for record in json.loads(path.read_text("utf-8"))
    }


def research_lines(slug):
    """A practice's research lines: its record's evidence items and budget text,
    and the value cells of a later lead on it (fixtures/research/<slug>-lead.md)."""
    record = research_records()[slug]
    lines = [*record["evidence"], record.get("budget") or ""]
    lead = RESEARCH / f"{slug}-lead.md"
    if lead.exists():
        rows = (line for line in lead.read_text("utf-8").splitlines())
        lines += [
            cell.strip()
            for row in rows
            if row.startswith("| ")
            for cell in row.split("|")
        ]
    return [line for line in lines if line]


@pytest.mark.parametrize(
    "entry",
    read_content(content_files())["evidence"].values(),
    ids=lambda entry: entry["practice"],
)
def test_every_grade_and_figure_rests_on_its_research_record(entry):
    """Issue 21: each figure is one of its practice's research lines, verbatim;
    a practice whose research found no evidence is graded 0; evidence the
    research could not confirm makes the grade unconfirmed."""
    slug = entry["practice"]
    lines = research_lines(slug)
    for figure in entry.get("figures", []):
        assert figure["evidence_line"] in lines, figure["metric"]
    if (
        not research_records()[slug]["evidence"]
        and not (RESEARCH / f"{slug}-lead.md").exists()
    ):
        assert entry["level"] == 0
    if "evidence" in research_records()[slug]["uncertain"]:
        assert entry["unconfirmed"]
