"""The record format: the formula guard of CSV cells, and CSV rows read back."""

import pytest

from opendata.records import (
    CSV_COLUMNS,
    csv_row,
    guard_cell,
    markdown_text,
    plain_text,
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


@pytest.mark.parametrize(
    "markdown, plain",
    [
        ("- one\n- two", "• one\n• two"),
        ("Intro:\r\n\r\n- one\r\n  - nested", "Intro:\r\n\r\n• one\r\n  • nested"),
        ("-5 % a year, not a list", "-5 % a year, not a list"),
        ("A dash - inside a line", "A dash - inside a line"),
        ("", ""),
    ],
)
def test_markdown_lists_are_plain_text_in_csv_and_read_back(markdown, plain):
    assert plain_text(markdown) == plain
    assert markdown_text(plain) == markdown


def test_a_csv_row_holds_plain_text_and_reads_back_as_markdown():
    record = dict.fromkeys(CSV_COLUMNS, "")
    record.update(
        {name: [] for name in ["countries", "regions", "themes", "instruments"]},
        uncertain_fields=[],
        sources=[],
        description="What it does:\n\n- advice\n- a voucher",
        evidence="- 40 firms",
    )
    row = dict(zip(CSV_COLUMNS, csv_row(record), strict=True))
    assert row["description"] == "What it does:\n\n• advice\n• a voucher"
    assert row["evidence"] == "• 40 firms"  # no formula guard needed
    back = record_from_csv(row)
    assert back["description"] == record["description"]
    assert back["evidence"] == record["evidence"]


def test_an_older_csv_with_markdown_and_guarded_cells_still_reads():
    back = record_from_csv({"slug": "s", "evidence": "'- 40 firms\n- 3 fairs"})
    assert back["evidence"] == "- 40 firms\n- 3 fairs"
