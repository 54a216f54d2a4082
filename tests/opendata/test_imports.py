"""The bulk import's reading, validation and writing (opendata/imports.py,
import_checks.py, import_files.py): every bad row reported with its line and
reason, all at once; nothing written unless every row is good; idempotent on
slug; curators' edits kept unless `update`."""

import csv
import io
import json
import tracemalloc
from datetime import date
from functools import partial

import pytest
from django.contrib.auth.models import User
from django.db import DataError, connection
from django.test.utils import CaptureQueriesContext

from opendata import import_files, imports
from opendata.import_files import MAX_SHOWN
from opendata.imports import CREATE, read_file, validate
from opendata.records import CSV_COLUMNS, DERIVED, csv_row, practice_record
from practices.models import Practice, PracticeSource, Status
from tests.factories import (
    make_country,
    make_instrument,
    make_practice,
    make_project,
    make_region,
    make_theme,
    make_user,
    publishable_parts,
)

pytestmark = pytest.mark.django_db

# These tests check records as a file gives them, their status and publication date
# too, so the file's statuses are kept; by default an import makes new practices
# drafts and leaves stored ones' status alone (test_import_statuses.py).
import_practices = partial(imports.import_practices, keep_status=True)


@pytest.fixture(autouse=True)
def reference_rows(db):
    """The reference data records name (import never creates it)."""
    make_country(code="IT", name="Italy")
    make_country(code="FR", name="France")
    make_region(code="ITH5", name="Emilia-Romagna")
    make_theme(slug="first-steps", name="First steps")
    make_instrument(slug="grants", name="Grants")
    make_project(slug="ergo", acronym="ERGO")


def record(**changes):
    """A complete, valid record in the export's JSON shape."""
    values = {
        "slug": "export-desk",
        "title": "Export desk",
        "url": "http://testserver/practices/export-desk/",
        "status": "published",
        "published_on": "2026-01-01",
        "summary": "A desk that helps firms sell abroad.",
        "description": "It answers questions.\n\n- by phone\n- by mail",
        "resources": "",
        "evidence": "",
        "transfer": "",
        "beneficiaries": "SMEs",
        "level": "regional",
        "institution": "Region",
        "city": "Bologna",
        "start_year": 2016,
        "end_year": 2020,
        "still_running": False,
        "budget": "",
        "budget_scale": "100k-1m",
        "budget_scale_name": "€100,000 to €1 million",
        "funding_source": "ERDF regional programme",
        "legal_basis": "Regional law 12/2016",
        "staff": "Two export advisers",
        "countries": ["IT"],
        "regions": ["ITH5"],
        "themes": ["first-steps"],
        "instruments": ["grants"],
        "project": "ergo",
        "uncertain_fields": ["budget"],
        "sources": [{"url": "https://example.org/desk", "title": "The desk"}],
        "last_verified_on": "2026-02-01",
        "review_by": "2027-02-01",
        "declared_none": ["resources"],
        "attribution": "Written from the sources.",
        "licence": "https://example.org/licence",
    }
    values.update(changes)
    return values


def stored(values):
    """A record without the derived fields."""
    return {name: value for name, value in values.items() if name not in DERIVED}


def stored_record(practice):
    """A stored practice as a record (without the derived fields)."""
    return stored(practice_record(practice, absolute_url=str))


def csv_file(records, columns=CSV_COLUMNS):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for values in records:
        row = dict(zip(CSV_COLUMNS, csv_row(values), strict=True))
        writer.writerow([row[name] for name in columns])
    return out.getvalue().encode()


def json_file(records):
    lines = ",\n".join(json.dumps(r) for r in records)
    return f'{{"metadata": {{}},\n"practices": [\n{lines}\n]}}\n'.encode()


def problems(report):
    return [(p.line, p.slug, p.field) for p in report.problems]


def reasons(report):
    return [str(p) for p in report.problems]


# --- good files -----------------------------------------------------------------------


def test_a_csv_creates_practices_with_everything_they_hold():
    report = import_practices(csv_file([record()]), "practices.csv")
    assert report.ok and report.created == ["export-desk"]
    practice = Practice.objects.get(slug="export-desk")
    assert practice.status == Status.PUBLISHED
    assert practice.published_on == date(2026, 1, 1)
    assert practice.description == "It answers questions.\n\n- by phone\n- by mail"
    assert (practice.start_year, practice.end_year) == (2016, 2020)
    assert [c.code for c in practice.countries.all()] == ["IT"]
    assert [r.code for r in practice.regions.all()] == ["ITH5"]
    assert [t.slug for t in practice.themes.all()] == ["first-steps"]
    assert [i.slug for i in practice.instruments.all()] == ["grants"]
    assert practice.project.slug == "ergo"
    assert practice.uncertain_fields == ["budget"]
    assert [(s.url, s.title, s.position) for s in practice.sources.all()] == [
        ("https://example.org/desk", "The desk", 0)
    ]
    assert practice.review_by == date(2027, 2, 1)
    # One version in the history, a creation, saying why, with its relations.
    version = practice.history.get()
    assert version.history_type == "+"
    assert version.history_change_reason == "Imported from practices.csv"
    assert [t.theme.slug for t in version.themes.all()] == ["first-steps"]


def test_a_json_export_or_a_bare_list_is_read_with_each_record_s_line():
    data = json_file([record(), record(slug="second", title="Second")])
    assert [row.line for row in read_file(data, "practices.json")] == [3, 4]
    bare = json.dumps([record()], indent=2).encode()
    rows = read_file(bare, "hand-made")  # no extension: the first "[" says JSON
    assert [(row.line, row.record["slug"]) for row in rows] == [(2, "export-desk")]


@pytest.mark.parametrize("write", [json_file, csv_file])
def test_rows_are_read_from_a_file_object_as_they_are_needed(write):
    """A stream: the first row comes after reading the first chunks of a 3 MB file,
    not the whole of it; the caller's file is left open."""
    data = write(
        [record(slug=f"p-{n}", description="Word " * 600) for n in range(1000)]
    )
    file = io.BytesIO(data)
    rows = read_file(file, "p.json" if write is json_file else "p.csv")
    first = next(rows)
    assert first.record["slug"] == "p-0"
    assert first.line == (3 if write is json_file else 2)
    assert file.tell() < len(data) / 10
    assert sum(1 for _ in rows) == 999
    assert not file.closed


@pytest.mark.parametrize("chunk", [1, 2, 5, 16, 4096])
def test_a_json_file_is_read_alike_whatever_its_chunks(chunk, monkeypatch):
    """Values cut at any point between two chunks (a number, a string, a record
    longer than a chunk) are read whole, each record with the line it starts on."""
    monkeypatch.setattr(import_files, "CHUNK_SIZE", chunk)
    text = (
        '{"metadata": {"n": [1, 2]},\n "practices" :\n[ 12345 ,\n{"slug": "a",\n'
        '"x": [true, null, 2.5e3]},\n\t"\\u00e9t\u00e9"\n, [ ] ]\n}\n'
    )
    rows = [(row.line, row.record) for row in read_file(text.encode(), "p.json")]
    assert rows == [
        (3, 12345),
        (4, {"slug": "a", "x": [True, None, 2500.0]}),
        (6, "\u00e9t\u00e9"),
        (7, []),
    ]
    one_line = json.dumps([record(slug=f"p-{n}") for n in range(3)])
    assert [row.record for row in read_file(one_line.encode(), "p.json")] == [
        record(slug=f"p-{n}") for n in range(3)
    ]


def test_optional_columns_may_be_left_out_and_blank_status_is_a_draft():
    data = b"slug,title,summary,attribution\r\nsmall,Small,Tiny.,Ours.\r\n"
    report = import_practices(data, "small.csv")
    assert report.ok, reasons(report)
    practice = Practice.objects.get(slug="small")
    assert (practice.status, practice.published_on, practice.city) == (
        Status.DRAFT,
        None,
        "",
    )


def test_a_utf8_bom_and_lower_case_codes_are_accepted():
    data = "\ufeff".encode() + csv_file([record(countries=["it", "fr"])])
    report = import_practices(data, "excel.csv")
    assert report.ok, reasons(report)
    practice = Practice.objects.get(slug="export-desk")
    assert sorted(c.code for c in practice.countries.all()) == ["FR", "IT"]


# --- every bad row, at once, with its line --------------------------------------------


def test_every_bad_csv_row_is_reported_with_its_line_and_nothing_is_written():
    kept = make_practice(slug="kept", title="Kept as it is")
    data = csv_file(
        [
            record(slug="fine"),  # line 2; its description spans lines 2-5
            record(slug="bad-year", start_year="abc"),  # line 6
            record(slug="bad-codes", countries=["XX"], themes=["nope"]),  # line 10
            record(slug="no-title", title=""),  # line 14
            record(slug="bad-status", status="live"),  # line 18
            record(slug="no-date", published_on=None),  # line 22
            record(slug="years", start_year=2020, end_year=2010),  # line 26
            record(slug="bad-url", sources=[{"url": "ftp://x.org", "title": "X"}]),
            record(slug="kept", title="Overwritten?"),  # line 34: fine, exists
        ]
    )
    before = Practice.objects.count()
    report = import_practices(data, "bad.csv")
    assert problems(report) == [
        (6, "bad-year", "start_year"),
        (10, "bad-codes", "countries"),
        (10, "bad-codes", "themes"),
        (14, "no-title", "title"),
        (18, "bad-status", "status"),
        (22, "no-date", "published_on"),
        (26, "years", "end_year"),
        (30, "bad-url", "sources"),
    ]
    assert reasons(report)[:3] == [
        "line 6 (slug 'bad-year'): start_year 'abc' is not a year",
        "line 10 (slug 'bad-codes'): countries: unknown country code 'XX'",
        "line 10 (slug 'bad-codes'): themes: unknown theme 'nope'",
    ]
    assert report.problem_rows == 7 and report.rows == 9
    assert report.created == [] and not report.ok
    assert Practice.objects.count() == before
    assert Practice.objects.get(pk=kept.pk).title == "Kept as it is"


def test_still_running_is_true_or_false_in_either_format():
    rows = [
        record(slug="runs", still_running=True),
        record(slug="stopped", still_running="FALSE"),
        record(slug="empty", still_running=""),
        record(slug="maybe", still_running="maybe"),
    ]
    report = import_practices(csv_file(rows[:3]), "flags.csv")
    assert report.ok, reasons(report)
    flags = dict(Practice.objects.values_list("slug", "still_running"))
    assert flags == {"runs": True, "stopped": False, "empty": False}
    assert csv_row(record(still_running=True))[CSV_COLUMNS.index("still_running")] == (
        "true"
    )
    report = import_practices(json_file(rows[3:]), "flags.json")
    assert reasons(report) == [
        "line 3 (slug 'maybe'): still_running 'maybe' is not true or false"
    ]


def test_bad_json_records_are_reported_on_the_lines_they_start_on():
    text = "\n".join(
        [
            '{"metadata": {"count": 4},',  # 1
            ' "practices": [',  # 2
            "  " + json.dumps(record(slug="fine")) + ",",  # 3
            "  {",  # 4: a record laid out by hand
            '    "slug": "bad-year",',
            '    "title": "Bad year", "summary": "S.", "attribution": "A.",',
            '    "start_year": 1850',
            "  },",
            "  [1, 2],",  # 9
            '  {"slug": "Bad Slug", "title": "T", "summary": "S",',  # 10
            '   "attribution": "A", "colour": "red", "level": "city"}',
            " ]}",
        ]
    )
    report = import_practices(text.encode(), "bad.json")
    assert problems(report) == [
        (4, "bad-year", "start_year"),
        (9, "", ""),
        (10, "Bad Slug", "colour"),
        (10, "Bad Slug", "slug"),
        (10, "Bad Slug", "level"),
    ]
    assert reasons(report) == [
        "line 4 (slug 'bad-year'): start_year 1850 is not a year between 1900 and 2100",
        "line 9: the record is not an object with fields (a list)",
        "line 10 (slug 'Bad Slug'): unknown field “colour” (see the fields on /data/)",
        "line 10 (slug 'Bad Slug'): slug 'Bad Slug' is not a valid slug: use "
        "lower-case letters, digits and hyphens only",
        "line 10 (slug 'Bad Slug'): level 'city' is not one of: national, "
        "regional, local, cross-border",
    ]
    assert not Practice.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"slug": ""}, "slug", "slug is missing"),
        ({"slug": "x" * 121}, "slug", "slug is 121 characters long; at most 120"),
        ({"city": "x" * 101}, "city", "city is 101 characters long; at most 100"),
        ({"summary": "  "}, "summary", "summary is missing"),
        ({"title": 5}, "title", "title must be text, not the number 5"),
        ({"published_on": "1/2/2026"}, "published_on", "'1/2/2026' is not a date"),
        ({"review_by": "2026-02-30"}, "review_by", "'2026-02-30' is not a date"),
        ({"review_by": "2026-01-01"}, "review_by", "is before last_verified_on"),
        ({"regions": ["ZZ9"]}, "regions", "unknown NUTS region code 'ZZ9'"),
        ({"instruments": ["x", "y"]}, "instruments", "instrument types 'x', 'y'"),
        ({"project": "nope"}, "project", "unknown project 'nope'"),
        ({"countries": "IT"}, "countries", "must be a list of codes"),
        ({"uncertain_fields": ["colour"]}, "uncertain_fields", "'colour' cannot be"),
        ({"sources": [{"url": "https://a.org/", "title": ""}]}, "sources", "title"),
        (
            {"sources": [{"url": "https://a.org/", "title": "A"}] * 2},
            "sources",
            "source 2 repeats the URL of source 1",
        ),
        ({"sources": [{"url": "https://a.org/", "title": "A", "x": 1}]}, "sources", ""),
        ({"sources": [{"url": "", "title": "A"}]}, "sources", "source 1 has no URL"),
        (
            {"sources": [{"url": "https://a.org/" + "x" * 500, "title": "A"}]},
            "sources",
            "source 1 url: Ensure this value has at most 500 characters",
        ),
        ({"attribution": "A\x00"}, "attribution", "NUL character"),
    ],
)
def test_each_kind_of_bad_value_is_named(changes, field, reason):
    report = import_practices(json_file([record(**changes)]), "one.json")
    assert [p.field for p in report.problems] == [field]
    assert reason in report.problems[0].reason
    assert report.problems[0].line == 3
    assert not Practice.objects.exists()


def test_a_slug_repeated_in_the_file_names_its_first_line():
    data = json_file([record(), record(slug="other"), record()])
    report = import_practices(data, "twice.json")
    assert reasons(report) == [
        "line 5 (slug 'export-desk'): slug 'export-desk' appears again (first on "
        "line 3)"
    ]


# --- the file as a whole --------------------------------------------------------------


def test_unknown_columns_are_named():
    data = b"slug,title,colour,sources\r\nx,X,red,\r\n"
    report = import_practices(data, "odd.csv")
    assert len(report.problems) == 1
    assert "unknown columns “colour”, “sources”" in report.problems[0].reason
    assert report.problems[0].line == 1


def test_a_header_s_unknown_columns_are_named_once_and_at_most_max_shown():
    """Each name once; a header of 200,000 columns (a 2 MB line) is checked in one
    pass and its problem quotes MAX_SHOWN names, then says how many more."""
    report = import_practices(b"slug,colour,size,colour\r\nx,red,L,red\r\n", "a.csv")
    assert reasons(report)[0].startswith("line 1: unknown columns “colour”, “size”.")
    assert reasons(report)[1] == "line 1: columns appear more than once: “colour”."
    header = ",".join(["slug", *(f"c{n}" for n in range(200_000))])
    report = import_practices(f"{header}\r\n".encode(), "wide.csv")
    names = ", ".join(f"“c{n}”" for n in range(MAX_SHOWN))
    assert reasons(report) == [
        f"line 1: unknown columns {names} and {200_000 - MAX_SHOWN:,} more. The "
        f"columns are those of the CSV export: {', '.join(CSV_COLUMNS)}."
    ]


def test_a_report_keeps_the_first_max_shown_problems_of_each_kind():
    """The admin page and the command list these (a 2 MB file with a problem on
    every row once made a 34 MB page); the counts still cover every problem, and
    the report keeps no more, whatever the file's size."""
    rows = [record(slug=f"p{n}", start_year="abc") for n in range(MAX_SHOWN + 3)]
    rows += [record(slug="untitled", title="", colour="red")]
    report = import_practices(json_file(rows), "many.json")
    assert report.problem_count == MAX_SHOWN + 5
    assert report.problem_rows == MAX_SHOWN + 4
    listed = report.problems
    assert [p.field for p in listed] == ["start_year"] * MAX_SHOWN + ["colour", "title"]
    assert listed[0].line == 3 and listed[MAX_SHOWN - 1].line == MAX_SHOWN + 2
    assert report.notes == [
        f"and 3 more problems with start_year (only the first {MAX_SHOWN} are listed)"
    ]
    rows = [{"slug": f"p{n}", "colour": "red"} for n in range(MAX_SHOWN + 1)]
    notes = import_practices(json_file(rows), "odd.json").notes
    assert notes[0].startswith("and 1 more problem with whole rows or unknown fields")


def test_a_report_lists_the_first_max_shown_practices_of_each_kind_and_counts_all():
    make_practice(slug="stored", title="Stored")
    rows = [record(slug=f"p-{n}") for n in range(MAX_SHOWN + 5)]
    report = import_practices(json_file([*rows, record(slug="stored")]), "p.json")
    assert report.ok and report.rows == MAX_SHOWN + 6
    assert report.created == [f"p-{n}" for n in range(MAX_SHOWN)]
    assert report.more(CREATE) == 5 and report.skipped == ["stored"]
    assert (
        report.summary == f"{MAX_SHOWN + 5} created, 0 updated, 0 unchanged, 1 skipped"
    )
    assert Practice.objects.count() == MAX_SHOWN + 6


def test_a_csv_without_a_slug_column_or_with_a_broken_row():
    assert "no “slug” column" in str(
        import_practices(b"title\r\nX\r\n", "a.csv").problems[0]
    )
    data = csv_file([record()]) + b"too,few\r\n"
    report = import_practices(data, "short.csv")
    assert problems(report) == [(6, "", "")]
    assert "the row has 2 cells but the header has" in report.problems[0].reason


def test_a_file_that_is_not_utf8_is_refused_with_the_line():
    data = "slug,title\r\nx,Caf\u00e9\r\n".encode("latin-1")
    report = import_practices(data, "latin.csv")
    assert reasons(report) == [
        "line 2: the file is not UTF-8 text (byte 0xe9 on line 2). Save it as "
        "UTF-8 (in a spreadsheet: “CSV UTF-8”) and import it again."
    ]
    # Found however far into the file (here 200 KB), after rows read already; or
    # at its end, a character cut short.
    rows = [record(slug=f"p-{n}", description="Caf\u00e9 " * 250) for n in range(150)]
    good = csv_file(rows)
    data = good + "x,Caf\u00e9\r\n".encode("latin-1")
    report = import_practices(data, "l.csv", dry_run=True)
    assert problems(report) == [(152, "", "")]
    assert "byte 0xe9 on line 152" in reasons(report)[0]
    report = import_practices(good + "x,Caf\u00e9".encode()[:-1], "c.csv", dry_run=True)
    assert "byte 0xc3 on line 152" in reasons(report)[0]


def test_invalid_json_is_reported_with_its_line_and_column():
    text = '{"practices": [\n  {"slug": "a"},\n  {"slug": "b" "title": "B"}\n]}'
    report = import_practices(text.encode(), "broken.json")
    assert problems(report) == [(3, "", "")]
    assert "line 3, column 16" in report.problems[0].reason


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"  \n", "the file is empty."),
        (b'{"metadata": {}, "practices": []}', "holds no practices"),
        (b'{"records": []}', "a JSON file holds"),
    ],
)
def test_empty_or_unexpected_files(data, reason):
    report = import_practices(data, "odd.json")
    assert reason in report.problems[0].reason


# --- the workflow and permissions -----------------------------------------------------


def test_a_status_change_on_update_must_be_a_workflow_move():
    make_practice(slug="export-desk", status=Status.PUBLISHED)
    data = json_file([record(status="in_review")])
    report = import_practices(data, "back.json", update=True)
    assert problems(report) == [(3, "export-desk", "status")]
    assert "cannot go from Published to In review" in report.problems[0].reason
    assert Practice.objects.get(slug="export-desk").status == Status.PUBLISHED
    # Archiving is a move: allowed.
    report = import_practices(
        json_file([record(status="archived")]), "a.json", update=True
    )
    assert report.ok and report.updated == ["export-desk"]
    assert Practice.objects.get(slug="export-desk").status == Status.ARCHIVED


def test_an_update_that_publishes_is_gated_on_the_record_as_the_file_leaves_it():
    """The publishing gate (Practice.publication_gaps) looks at what the import
    writes: a file that gives a draft its missing theme and publishes it is
    imported; one that takes the theme away while publishing is refused, with the
    gap named and nothing written (it answered 500 when the gate ran on write)."""
    practice = make_practice(slug="export-desk", status=Status.IN_REVIEW)
    report = import_practices(
        json_file([record(themes=[])]), "no-theme.json", update=True
    )
    assert problems(report) == [(3, "export-desk", "status")]
    assert "it needs a theme" in report.problems[0].reason
    practice.refresh_from_db()
    assert practice.status == Status.IN_REVIEW and not practice.themes.exists()
    report = import_practices(json_file([record()]), "complete.json", update=True)
    assert report.ok, reasons(report)
    assert Practice.objects.get(slug="export-desk").status == Status.PUBLISHED


def test_a_curator_needs_the_permission_to_publish_to_import_published_records(
    editor, reviewer
):
    data = json_file(
        [record(), record(slug="draft", status="draft", published_on=None)]
    )
    report = import_practices(data, "e.json", user=editor)
    assert reasons(report) == [
        "line 3 (slug 'export-desk'): you may not add a practice as published: "
        "that needs the permission to publish (add it as a draft)"
    ]
    assert not Practice.objects.exists()
    report = import_practices(data, "r.json", user=reviewer)
    assert report.ok and report.created == ["export-desk", "draft"]
    assert Practice.objects.get(slug="draft").history.get().history_user == reviewer


def test_an_editor_may_update_content_but_not_publication_dates(editor):
    make_practice(slug="export-desk", status=Status.PUBLISHED)
    stored = stored_record(Practice.objects.for_export().get())
    new_summary = json_file([{**stored, "summary": "New."}])
    assert import_practices(new_summary, "s.json", update=True, user=editor).ok
    new_date = json_file([{**stored, "summary": "New.", "published_on": "2026-03-01"}])
    report = import_practices(new_date, "d.json", update=True, user=editor)
    assert [p.field for p in report.problems] == ["published_on"]


def test_a_status_move_on_update_needs_the_move_s_permission(editor):
    make_practice(
        slug="export-desk",
        status=Status.IN_REVIEW,
        published_on=None,
        **publishable_parts(),
    )
    stored = stored_record(Practice.objects.for_export().get())
    publish = json_file(
        [{**stored, "status": "published", "published_on": "2026-03-01"}]
    )
    report = import_practices(publish, "p.json", update=True, user=editor)
    assert "you may not make the move “Publish”" in reasons(report)[0]
    send_back = json_file([{**stored, "status": "draft"}])
    report = import_practices(send_back, "p.json", update=True, user=editor)
    assert reasons(report) == [
        "line 3 (slug 'export-desk'): you may not make the move “Send back to "
        "draft” (status In review → Draft)"
    ]
    assert Practice.objects.get().status == Status.IN_REVIEW


def test_staff_without_the_add_permission_imports_nothing():
    report = import_practices(json_file([record()]), "x.json", user=make_user())
    assert "you may not add practices" in reasons(report)[0]


# --- statuses: drafts unless the file's are kept --------------------------------------


def test_an_import_of_rows_that_say_published_creates_drafts():
    """Issue 20: the file's status and published_on are ignored by default, even
    where they are wrong (a status the workflow does not know)."""
    data = json_file([record(), record(slug="odd", status="live", published_on="x")])
    report = imports.import_practices(data, "p.json")
    assert report.ok and report.created == ["export-desk", "odd"]
    assert not report.keep_status
    assert set(Practice.objects.values_list("status", "published_on")) == {
        (Status.DRAFT, None)
    }


def test_a_stored_practice_keeps_its_status_whatever_the_file_says(reviewer):
    make_practice(slug="export-desk", status=Status.PUBLISHED, **publishable_parts())
    was = Practice.objects.get().published_on
    data = json_file([record(status="draft", published_on="2020-01-01", title="New")])
    report = imports.import_practices(data, "p.json", update=True, user=reviewer)
    assert report.ok and report.updated == ["export-desk"]
    practice = Practice.objects.get()
    assert (practice.status, practice.published_on) == (Status.PUBLISHED, was)
    assert practice.title == "New"
    # Its status and date are not compared either: the same record is unchanged.
    again = imports.import_practices(data, "p.json", update=True, user=reviewer)
    assert again.unchanged == ["export-desk"]


def test_kept_statuses_publish_only_what_passes_the_publishing_gate():
    """A new published row too (creating is not a move, but an import that keeps
    statuses must not publish what a curator could not): each gap is named."""
    report = import_practices(
        json_file([record(sources=[], themes=[]), record(slug="second")]), "p.json"
    )
    assert problems(report) == [(3, "export-desk", "status")]
    assert "cannot be published yet: it needs a source; a theme" in reasons(report)[0]
    assert not Practice.objects.exists()
    assert import_practices(json_file([record()]), "p.json").ok
    assert Practice.objects.get().status == Status.PUBLISHED


def test_a_curator_without_the_publish_permission_cannot_keep_published_statuses(
    editor,
):
    data = json_file([record()])
    report = import_practices(data, "e.json", user=editor)
    assert "that needs the permission to publish" in reasons(report)[0]
    assert not Practice.objects.exists()
    assert imports.import_practices(data, "e.json", user=editor).ok  # a draft
    assert Practice.objects.get().status == Status.DRAFT


def test_the_fields_that_differ_are_named_for_skipped_and_updated_rows():
    import_practices(json_file([record()]), "p.json")
    changed = json_file([record(title="Renamed", themes=[])])
    report = import_practices(changed, "p.json")
    assert report.practices["skip"] == [
        ("export-desk", Practice.objects.get().pk, ["title", "themes"])
    ]
    report = import_practices(changed, "p.json", update=True)
    assert report.practices["update"][0][2] == ["title", "themes"]


# --- idempotence and curators' edits --------------------------------------------------


def test_importing_the_same_file_twice_changes_nothing_the_second_time():
    second = record(slug="second", title="Second", sources=[], status="draft")
    data = csv_file([record(), second])
    first = import_practices(data, "p.csv")
    versions = Practice.history.count()
    second = import_practices(data, "p.csv")
    assert first.created == second.unchanged == ["export-desk", "second"]
    assert second.created == second.updated == second.skipped == []
    assert Practice.objects.count() == 2
    assert Practice.history.count() == versions


def test_curators_edits_are_kept_unless_update_is_given(reviewer):
    data = csv_file([record()])
    import_practices(data, "p.csv")
    practice = Practice.objects.get(slug="export-desk")
    practice.title = "Export desk (checked by a curator)"
    practice.save()
    PracticeSource.objects.create(practice=practice, url="https://b.org/", title="B")

    report = import_practices(data, "p.csv")
    assert report.skipped == ["export-desk"] and report.ok
    practice.refresh_from_db()
    assert practice.title == "Export desk (checked by a curator)"
    assert practice.sources.count() == 2

    versions = practice.history.count()
    report = import_practices(data, "p.csv", update=True, user=reviewer)
    assert report.updated == ["export-desk"]
    assert practice.history.count() == versions + 1  # one version for the update
    practice.refresh_from_db()
    assert practice.title == "Export desk"
    assert [s.url for s in practice.sources.all()] == ["https://example.org/desk"]
    latest = practice.history.latest()
    assert latest.history_change_reason == "Imported from p.csv"
    assert latest.history_user == reviewer
    assert latest.prev_record.title == "Export desk (checked by a curator)"


def test_a_dry_run_reports_what_would_happen_and_writes_nothing():
    make_practice(slug="export-desk", title="Different")
    data = json_file([record(), record(slug="new")])
    report = import_practices(data, "p.json", dry_run=True, update=True)
    assert report.ok and report.dry_run
    assert (report.created, report.updated) == (["new"], ["export-desk"])
    assert Practice.objects.get(slug="export-desk").title == "Different"
    assert not Practice.objects.filter(slug="new").exists()


def test_a_failure_while_writing_rolls_back_every_row(monkeypatch):
    write, calls = imports._write, []

    def fail_on_the_second(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return write(*args, **kwargs)

    monkeypatch.setattr(imports, "_write", fail_on_the_second)
    data = json_file([record(), record(slug="second"), record(slug="third")])
    with pytest.raises(RuntimeError):
        import_practices(data, "p.json")
    assert len(calls) == 2
    assert not Practice.objects.exists()
    assert not PracticeSource.objects.exists()


def test_a_change_between_validation_and_writing_imports_nothing(monkeypatch):
    checked = imports.validate

    def validate_then_a_curator_adds_one(*args, **kwargs):
        actions = checked(*args, **kwargs)
        make_practice(slug="second", title="Added meanwhile")
        return actions

    monkeypatch.setattr(imports, "validate", validate_then_a_curator_adds_one)
    report = import_practices(json_file([record(), record(slug="second")]), "p.json")
    assert not report.ok
    assert "the catalogue changed during the import" in report.problems[0].reason
    # All undone; here the curator's row too, added in the import's transaction.
    assert not Practice.objects.exists()


def test_a_problem_in_a_later_batch_undoes_the_batches_written(monkeypatch):
    """Batches are written as they are checked, in one transaction: a problem
    further on undoes them, and nothing more is written after it."""
    write, written = imports._write, []

    def counted(action, *args):
        written.append(action.slug)
        return write(action, *args)

    monkeypatch.setattr(imports, "BATCH_SIZE", 2)
    monkeypatch.setattr(imports, "_write", counted)
    rows = [record(slug=f"p-{n}") for n in range(4)] + [record(slug="x", title="")]
    rows += [record(slug="p-5")]
    report = import_practices(json_file(rows), "p.json")
    assert problems(report) == [(7, "x", "title")] and report.rows == 6
    assert written == ["p-0", "p-1", "p-2", "p-3"]
    assert not Practice.objects.exists() and not PracticeSource.objects.exists()


# --- cost -----------------------------------------------------------------------------


def queries_to_validate(count, user=None):
    if user is not None:
        user = User.objects.get(pk=user.pk)  # without the permissions cached
    for n in range(0, count, 2):  # half of the slugs exist already
        make_practice(slug=f"p-{n}", countries=[make_country(code="IT")])
    data = json_file([record(slug=f"p-{n}") for n in range(count)])
    rows = list(read_file(data, "p.json"))
    with CaptureQueriesContext(connection) as queries:
        actions = validate(rows, {}, update=True, user=user)
    assert [a.problems for a in actions] == [[]] * count
    Practice.objects.all().delete()
    return len(queries)


def test_a_dry_run_takes_a_few_times_the_memory_of_its_file():
    """Not each row's form (ten times the row): its instance and cleaned data."""
    rows = [record(slug=f"p-{n}", description="Word " * 300) for n in range(200)]
    data = json_file(rows)
    tracemalloc.start()
    try:
        report = import_practices(data, "big.json", dry_run=True)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert report.counts[CREATE] == 200
    assert peak < 10 * len(data), peak / len(data)


@pytest.mark.parametrize("write", [json_file, csv_file])
def test_a_dry_run_holds_a_batch_of_rows_not_the_file(write, monkeypatch):
    """Memory stays near one batch of rows whatever the file's size: a 6 MB file
    in batches of 3 rows of 100 KB each (before streaming: 2 to 6 times the file)."""
    monkeypatch.setattr(imports, "BATCH_SIZE", 3)
    data = write(
        [record(slug=f"p-{n}", description="Words " * 16_000) for n in range(60)]
    )
    tracemalloc.start()
    try:
        report = import_practices(data, f"big.{write.__name__[:-5]}", dry_run=True)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert report.ok and report.counts[CREATE] == 60
    assert peak < len(data) / 2, peak / len(data)


def test_validation_reads_the_database_a_fixed_number_of_times_per_batch(
    reviewer, monkeypatch
):
    # Countries, regions, themes, instruments, projects: one query each; the stored
    # practices: one, plus one per prefetched relation (countries, regions, themes,
    # instruments, sources, outcome figures); the user's permissions: two, once.
    assert queries_to_validate(5) == queries_to_validate(50) == 12
    assert queries_to_validate(5, reviewer) == queries_to_validate(50, reviewer) == 14
    # A file is checked a batch at a time: the same queries for each batch.
    monkeypatch.setattr(imports, "BATCH_SIZE", 10)
    data = json_file([record(slug=f"p-{n}") for n in range(50)])
    with CaptureQueriesContext(connection) as queries:
        assert import_practices(data, "p.json", dry_run=True).ok
    # None stored: no relations to prefetch. And the savepoint, made and released.
    assert len(queries) == 5 * 6 + 2


# --- values and files the checks once let through ------------------------------------


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[" * 100_000 + "]" * 100_000, "nested too deeply to be read"),
        ('[{"slug": "a", "start_year": 1' + "0" * 5000 + "}]", "more than 4300 digits"),
    ],
)
def test_json_too_deep_or_with_a_huge_number_is_a_problem_with_the_file(text, reason):
    report = import_practices(text.encode(), "odd.json")
    assert problems(report) == [(None, "", "")]
    assert reason in report.problems[0].reason
    assert report.problems[0].reason.startswith("the file cannot be read as JSON")


def test_a_repeated_practices_key_is_read_as_json_reads_it():
    # json.loads keeps the last "practices": the line-finding walk must too.
    text = '{"practices": 5,\n"practices": [\n' + json.dumps(record()) + "\n]}"
    rows = read_file(text.encode(), "p.json")
    assert [(row.line, row.record["slug"]) for row in rows] == [(3, "export-desk")]


@pytest.mark.parametrize(
    ("changes", "field", "what"),
    [
        ({"slug": "desk\ud800"}, "slug", "lone surrogate"),
        ({"slug": "desk\x00"}, "slug", "NUL character"),
        ({"countries": ["I\udc80"]}, "countries", "lone surrogate"),
        ({"themes": ["first\x00steps"]}, "themes", "NUL character"),
        ({"project": "ergo\ud800"}, "project", "lone surrogate"),
        ({"project": "er\x00go"}, "project", "NUL character"),
        ({"title": "Desk \ud800"}, "title", "lone surrogate"),
        ({"description": "A\x00B"}, "description", "NUL character"),
        ({"status": "published\x00"}, "status", "NUL character"),
        ({"uncertain_fields": ["budget\ud800"]}, "uncertain_fields", "surrogate"),
        ({"sources": [{"url": "https://a.org/\x00", "title": "A"}]}, "sources", "NUL"),
        ({"sources": [{"url": "https://a.org/", "title": "\udfff"}]}, "sources", "sur"),
    ],
)
@pytest.mark.parametrize("dry_run", [True, False])
def test_strings_the_database_cannot_hold_are_one_problem_on_their_field(
    changes, field, what, dry_run
):
    with CaptureQueriesContext(connection) as queries:
        report = import_practices(
            json_file([record(**changes)]), "p.json", dry_run=dry_run
        )
    assert [(p.line, p.field) for p in report.problems] == [(3, field)]
    assert what in report.problems[0].reason
    # Shown as escapes: the admin page and the terminal can print it.
    for problem in report.problems:
        str(problem).encode("utf-8")
        assert "\x00" not in str(problem)
    # The bad value was never put in a query (a surrogate would have raised).
    assert not any("\x00" in query["sql"] for query in queries)
    assert not Practice.objects.exists()


def test_an_error_of_the_database_while_writing_is_a_problem(monkeypatch):
    write = imports._write

    def refused(action, *args, **kwargs):
        if action.slug == "second":
            raise DataError("invalid byte sequence for encoding")
        return write(action, *args, **kwargs)

    monkeypatch.setattr(imports, "_write", refused)
    report = import_practices(json_file([record(), record(slug="second")]), "p.json")
    assert problems(report) == [(None, "", "")]
    assert "the database refused the import" in report.problems[0].reason
    assert report.created == [] and report.rows == 2
    assert not Practice.objects.exists()


@pytest.mark.parametrize("slug", ["feed", "compare"])
def test_a_reserved_slug_is_a_problem_on_its_row(slug):
    report = import_practices(
        json_file([record(), record(slug=slug)]), "p.json", dry_run=True
    )
    assert reasons(report) == [
        f"line 4 (slug '{slug}'): slug '{slug}' is the address of a page of the "
        "site: choose another"
    ]


def test_columns_left_out_of_a_csv_keep_what_is_stored_on_update():
    assert import_practices(csv_file([record()]), "full.csv").ok
    columns = ["slug", "title", "summary", "attribution", "status"]
    same = csv_file([record()], columns=columns)
    report = import_practices(same, "same.csv", update=True)
    assert report.unchanged == ["export-desk"], reasons(report)

    versions = Practice.history.count()
    edited = csv_file([record(title="Export desk, renamed")], columns=columns)
    report = import_practices(edited, "edited.csv", update=True)
    assert report.updated == ["export-desk"], reasons(report)
    assert Practice.history.count() == versions + 1
    practice = Practice.objects.for_export().get(slug="export-desk")
    assert stored_record(practice) == {
        **stored(record()),
        "title": "Export desk, renamed",
    }


def test_keys_left_out_of_a_json_record_keep_what_is_stored_on_update():
    assert import_practices(json_file([record()]), "full.json").ok
    # Not even the required fields: only what changes.
    report = import_practices(
        json_file([{"slug": "export-desk", "city": "Modena"}]), "p.json", update=True
    )
    assert report.updated == ["export-desk"], reasons(report)
    practice = Practice.objects.for_export().get(slug="export-desk")
    assert stored_record(practice) == {
        **stored(record()),
        "city": "Modena",
    }
    # Without `update`, a differing record is skipped, an equal one unchanged.
    partial = json_file([{"slug": "export-desk", "city": "Parma"}])
    assert import_practices(partial, "p.json").skipped == ["export-desk"]
    partial = json_file([{"slug": "export-desk", "themes": ["first-steps"]}])
    assert import_practices(partial, "p.json").unchanged == ["export-desk"]


def test_present_but_empty_values_are_empty_and_left_out_ones_empty_on_create():
    assert import_practices(json_file([record()]), "full.json").ok
    columns = ["slug", "description", "themes", "source_urls", "source_titles"]
    empty = csv_file([record(description="", themes=[], sources=[])], columns)
    report = import_practices(empty, "empty.csv", update=True)
    assert report.updated == ["export-desk"], reasons(report)
    practice = Practice.objects.get(slug="export-desk")
    assert practice.description == ""
    assert not practice.themes.exists() and not practice.sources.exists()
    assert practice.title == "Export desk" and practice.countries.exists()
    # A new practice: what is left out is empty, and the required fields needed.
    report = import_practices(json_file([{"slug": "new"}]), "new.json")
    assert [p.field for p in report.problems] == ["title", "summary", "attribution"]


def test_the_rules_between_fields_see_the_stored_values_left_out_of_the_file():
    assert import_practices(json_file([record()]), "full.json").ok  # 2016-2020
    partial = json_file([{"slug": "export-desk", "end_year": 2010}])
    report = import_practices(partial, "p.json", update=True)
    assert [p.reason for p in report.problems] == [
        "end_year 2010 is before start_year 2016"
    ]
    # A published practice stays so: a file without the status moves nothing.
    partial = json_file([{"slug": "export-desk", "title": "Renamed"}])
    assert import_practices(partial, "p.json", update=True).updated == ["export-desk"]
    assert Practice.objects.get().status == Status.PUBLISHED


def test_a_curator_without_the_permission_to_publish_adds_no_publication_date(
    editor, reviewer
):
    data = json_file([record(status="draft", published_on="2026-01-01")])
    report = import_practices(data, "e.json", user=editor)
    assert problems(report) == [(3, "export-desk", "published_on")]
    assert "you may not set publication dates" in report.problems[0].reason
    assert not Practice.objects.exists()
    undated = json_file([record(status="draft", published_on=None)])
    assert import_practices(undated, "e.json", user=editor).ok
    Practice.objects.all().delete()
    report = import_practices(data, "r.json", user=reviewer)
    assert report.ok and Practice.objects.get().published_on == date(2026, 1, 1)


def test_a_csv_cell_longer_than_the_csv_module_s_limit_round_trips(client):
    description = "A long description.\n\n" + "x" * 200_000
    data = csv_file([record(description=description)])
    report = import_practices(data, "long.csv")
    assert report.ok, reasons(report)
    practice = Practice.objects.for_export().get()
    assert practice.description == description
    # The CSV export writes it; imported again, it is the same record.
    response = client.get("/practices/export.csv")
    again = b"".join(response.streaming_content)
    assert description.encode() in again
    assert import_practices(again, "export.csv").unchanged == ["export-desk"]
