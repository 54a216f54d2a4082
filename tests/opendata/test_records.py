"""The record format: the formula guard of CSV cells, and CSV rows read back."""

import pytest

from opendata.records import (
    CSV_COLUMNS,
    csv_row,
    guard_cell,
    record_from_csv,
    unguard_cell,
)


@pytest.mark.parametrize(
    "text, written",
    [
        ("=HYPERLINK(1)", "'=HYPERLINK(1)"),
        ("+1", "'+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("- 2+3+cmd|' /C calc'!A0", "'- 2+3+cmd|' /C calc'!A0"),  # a Markdown list too
        ("-5", "'-5"),
        ("\tx", "'\tx"),
        ("'=x", "''=x"),  # an apostrophe of the author's own is kept
        ("'quoted'", "'quoted'"),
        ("Plain text", "Plain text"),
        ("", ""),
    ],
)
def test_cells_a_spreadsheet_would_run_are_guarded_and_read_back(text, written):
    assert guard_cell(text) == written
    assert unguard_cell(written) == text


def test_a_csv_row_reads_back_as_the_record():
    record = dict.fromkeys(CSV_COLUMNS, "")
    record.update(
        slug="s",
        title="=Title",
        start_year=2019,
        published_on=None,
        countries=["ES", "IT"],
        regions=[],
        themes=["a-theme"],
        instruments=[],
        uncertain_fields=["city"],
        sources=[
            {"url": "https://one.example/a;b", "title": "One"},
            {"url": "https://two.example/", "title": "- Two"},
        ],
    )
    row = dict(zip(CSV_COLUMNS, csv_row(record), strict=True))
    assert row["countries"] == "ES;IT" and row["title"] == "'=Title"
    assert row["source_urls"] == "https://one.example/a;b\nhttps://two.example/"
    back = record_from_csv(row)
    assert back["title"] == "=Title"
    assert back["countries"] == ["ES", "IT"] and back["regions"] == []
    assert back["sources"] == record["sources"]
    assert back["start_year"] == "2019" and back["published_on"] == ""
