"""The round trip of issue 8: export the real catalogue, import it into an empty
catalogue, export again: the same files, byte for byte (JSON: apart from the time
it was generated). The "empty database" is an empty catalogue of practices with
its reference data (countries, regions, themes, instrument types, projects),
which an import never creates."""

import csv
import io
import json

import pytest

from briefs.models import Brief
from opendata.imports import CREATE, UNCHANGED, import_practices
from opendata.records import MARKDOWN, NAMED, guard_cell, markdown_text, unguard_cell
from practices.content import content_files, load_evidence, read_content
from practices.models import Practice, PracticeSource, Project
from tests.factories import committed

pytestmark = pytest.mark.django_db


def export(client, fmt):
    response = client.get(f"/practices/export.{fmt}")
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def without_generation_time(data):
    document = json.loads(data)
    del document["metadata"]["generated_at"]
    return document


@committed()
def empty_the_catalogue():
    Brief.objects.all().delete()  # their featured practices protect the practices
    Practice.objects.all().delete()
    assert not PracticeSource.objects.exists()


@committed()
def restore_the_evidence():
    """Grades and figures are derived columns, which an import ignores (curators
    keep them in the admin): they come back as `make run` adds them."""
    for entry in read_content(content_files())["evidence"].values():
        load_evidence(dict(entry))


@pytest.fixture
def exported(catalogue, client):
    """The real catalogue's exports, and what makes the test mean something: a
    catalogue with all kinds of values (relations, sources, unconfirmed facts)."""
    practices = Practice.objects.published()
    assert practices.count() > 50
    assert practices.filter(sources__isnull=False).exists()
    assert practices.exclude(uncertain_fields=[]).exists()
    assert practices.filter(project__isnull=False).exists()
    assert Project.objects.exists()
    return {"csv": export(client, "csv"), "json": export(client, "json")}


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_export_import_export_gives_the_same_file(client, exported, fmt):
    empty_the_catalogue()
    with committed():
        report = import_practices(
            exported[fmt], f"practices.{fmt}", keep_status=True, gate=False
        )
    assert report.ok, [str(p) for p in report.problems]
    assert report.counts[CREATE] == report.rows > 50
    restore_the_evidence()
    again = export(client, fmt)
    if fmt == "csv":
        assert again == exported["csv"]
    else:
        assert without_generation_time(again) == without_generation_time(
            exported["json"]
        )
        # One record per line, in the same order, byte for byte.
        assert again.splitlines()[1:] == exported["json"].splitlines()[1:]


def test_the_formats_agree_a_csv_import_exports_the_same_json(client, exported):
    empty_the_catalogue()
    with committed():
        assert import_practices(
            exported["csv"], "practices.csv", keep_status=True, gate=False
        ).ok
    restore_the_evidence()
    assert without_generation_time(export(client, "json")) == without_generation_time(
        exported["json"]
    )


def test_importing_an_export_over_the_catalogue_changes_nothing(client, exported):
    versions = Practice.history.count()
    report = import_practices(exported["json"], "practices.json", update=True)
    assert report.ok and report.created == report.updated == []
    assert report.counts[UNCHANGED] == report.rows
    assert Practice.history.count() == versions
    assert export(client, "csv") == exported["csv"]


def csv_cells(data):
    return list(csv.DictReader(io.StringIO(data.decode(), newline="")))


def test_the_csv_export_is_plain_text_with_names(exported):
    rows = csv_cells(exported["csv"])
    # No Markdown bullets, so no cell the formula guard had to mark.
    guarded = [c for row in rows for c in row.values() if unguard_cell(c) != c]
    assert not guarded
    assert not [row["slug"] for row in rows for n in MARKDOWN if "\n- " in row[n]]
    assert any("\n• " in row["description"] for row in rows)
    assert all(row["country_names"] or not row["countries"] for row in rows)


def older_export(new_csv):
    """The same catalogue as exports wrote it before names and plain text: no
    names columns, Markdown lists, guarded by an apostrophe."""
    rows = csv_cells(new_csv)
    columns = [name for name in rows[0] if name not in NAMED]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        for name in MARKDOWN:
            row[name] = guard_cell(markdown_text(row[name]))
        writer.writerow([row[name] for name in columns])
    return out.getvalue().encode()


def test_an_older_csv_export_imports_to_the_same_catalogue(client, exported):
    older = older_export(exported["csv"])
    assert b"'- " in older and b"country_names" not in older
    empty_the_catalogue()
    with committed():
        report = import_practices(older, "practices.csv", keep_status=True, gate=False)
    assert report.ok, [str(p) for p in report.problems]
    restore_the_evidence()
    assert export(client, "csv") == exported["csv"]
