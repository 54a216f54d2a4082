"""manage.py import_practices (opendata/management/commands/import_practices.py):
the same code path as the admin's import page, on a file."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from opendata.import_files import MAX_SHOWN
from practices.models import Practice, Status
from tests.factories import make_practice, publishable_parts

pytestmark = pytest.mark.django_db


def record(slug, **changes):
    return {
        "slug": slug,
        "title": slug.replace("-", " ").capitalize(),
        "summary": "A practice.",
        "attribution": "Ours.",
        **changes,
    }


def write_json(tmp_path, records, name="practices.json"):
    path = tmp_path / name
    lines = ",\n".join(json.dumps(r) for r in records)
    path.write_text(f'{{"metadata": {{}},\n"practices": [\n{lines}\n]}}\n')
    return path


def run(path, *args, **options):
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "import_practices", str(path), *args, stdout=out, stderr=err, **options
    )
    return out.getvalue(), err.getvalue()


def test_imports_a_file_and_says_what_it_did(tmp_path):
    same = {"summary": "A practice.", "attribution": "Ours."}  # as record()'s
    make_practice(slug="old", title="Old", status=Status.DRAFT, **same)
    path = write_json(tmp_path, [record("new-one"), record("old", title="Edited")])
    out, err = run(path)
    assert out.splitlines() == [
        "practices.json: 2 rows checked. 1 created, 0 updated, 0 unchanged, 1 skipped.",
        "New practices are drafts: the file's statuses are ignored (--keep-status "
        "keeps them).",
        "Skipped, as they differ from the catalogue (curators' edits are kept: use "
        "--update to overwrite; the fields that differ in brackets): old (title)",
    ]
    assert err == ""
    assert Practice.objects.get(slug="new-one").status == Status.DRAFT
    assert Practice.objects.get(slug="old").title == "Old"
    out, _ = run(path, "--update")
    assert "0 created, 1 updated, 1 unchanged, 0 skipped." in out
    assert Practice.objects.get(slug="old").title == "Edited"


def test_a_dry_run_writes_nothing_and_says_so(tmp_path):
    path = write_json(tmp_path, [record("a"), record("b")])
    out, _ = run(path, "--dry-run")
    assert "2 would be created" in out
    assert out.rstrip().endswith("Dry run: nothing was written.")
    assert not Practice.objects.exists()


def test_problems_are_listed_with_their_lines_and_nothing_is_imported(tmp_path):
    path = write_json(
        tmp_path,
        [record("fine"), record("bad-year", start_year="abc"), record("", title="")],
    )
    err = io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("import_practices", str(path), stdout=io.StringIO(), stderr=err)
    assert str(raised.value) == "Nothing imported: 3 problems in 2 rows."
    assert err.getvalue().splitlines() == [
        "line 4: bad-year: start_year 'abc' is not a year",
        "line 5: slug is missing: every record needs one",
        "line 5: title is missing: every record needs one",
    ]
    assert not Practice.objects.exists()


def test_the_first_problems_of_each_kind_are_listed_and_the_rest_counted(tmp_path):
    rows = [record(f"p-{n}", start_year="abc") for n in range(MAX_SHOWN + 2)]
    path = write_json(tmp_path, rows)
    err = io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("import_practices", str(path), stdout=io.StringIO(), stderr=err)
    count = MAX_SHOWN + 2
    assert str(raised.value) == f"Nothing imported: {count} problems in {count} rows."
    lines = err.getvalue().splitlines()
    assert lines[0] == "line 3: p-0: start_year 'abc' is not a year"
    assert lines[MAX_SHOWN:] == [
        f"… and 2 more problems with start_year (only the first {MAX_SHOWN} are listed)"
    ]


def test_a_problem_with_the_whole_file(tmp_path):
    path = tmp_path / "practices.csv"
    path.write_bytes(b"slug,colour\r\nx,red\r\n")
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 problem in the file"):
        call_command("import_practices", str(path), stderr=err)
    assert err.getvalue().startswith("line 1: unknown columns “colour”")


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match=r"Cannot read .*nope\.csv: No such file"):
        call_command("import_practices", str(tmp_path / "nope.csv"))


def test_a_progress_bar_on_large_files_only(tmp_path):
    """Redrawn after each batch of rows, with how much of the file is read."""
    long = "A long description. " * 250
    rows = [record(f"p-{n}", description=long) for n in range(250)]
    many = write_json(tmp_path, rows, "many.json")  # over PROGRESS_THRESHOLD
    _, err = run(many, "--dry-run")
    assert "\rChecking [" in err and "] 100% 250 rows\n" in err
    assert err.endswith("\rChecking [##############################] 100% 250 rows\n")
    assert err.count("\r") == 2  # batches of 200 rows
    _, err = run(many)
    assert err.endswith("\rImporting [##############################] 100% 250 rows\n")
    assert Practice.objects.count() == 250

    few = write_json(tmp_path, [record(f"q-{n}") for n in range(20)], "few.json")
    assert run(few)[1] == ""
    Practice.objects.all().delete()
    assert run(many, verbosity=0) == ("", "")


def test_skipped_practices_are_named_up_to_max_shown_then_counted(tmp_path):
    for n in range(MAX_SHOWN + 2):
        make_practice(
            slug=f"p-{n:02}",
            title="Edited by a curator",
            summary="A practice.",
            attribution="Ours.",
        )
    path = write_json(tmp_path, [record(f"p-{n:02}") for n in range(MAX_SHOWN + 2)])
    out, _ = run(path)
    summary, skipped = out.splitlines()
    assert summary.endswith(
        f"0 created, 0 updated, 0 unchanged, {MAX_SHOWN + 2} skipped."
    )
    names = ", ".join(f"p-{n:02} (title)" for n in range(MAX_SHOWN))
    assert skipped.endswith(f"differ in brackets): {names} and 2 more")


def test_rows_become_drafts_unless_the_operator_keeps_the_file_s_statuses(tmp_path):
    """Issue 20: an import no longer publishes what the file says is published;
    --keep-status does, through the publishing gate."""
    complete = publishable_parts()
    published = {"status": "published", "published_on": "2026-01-01"}
    parts = {
        "countries": [complete["countries"][0].code],
        "themes": [complete["themes"][0].slug],
        "instruments": [complete["instruments"][0].slug],
        "sources": [{"url": "https://example.org/s", "title": "Source"}],
    }
    path = write_json(tmp_path, [record("one", **published, **parts)])
    run(path)
    practice = Practice.objects.get()
    assert (practice.status, practice.published_on) == (Status.DRAFT, None)
    practice.delete()
    out, _ = run(path, "--keep-status")
    assert "drafts" not in out
    assert Practice.objects.get().status == Status.PUBLISHED
    # The gate holds: a published row without a theme is refused, named.
    Practice.objects.all().delete()
    gap = write_json(tmp_path, [record("two", **published, **{**parts, "themes": []})])
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 problem in 1 row"):
        call_command("import_practices", str(gap), "--keep-status", stderr=err)
    assert "cannot be published yet: it needs a theme" in err.getvalue()
    assert not Practice.objects.exists()
