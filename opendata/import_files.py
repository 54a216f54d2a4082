"""Reading a practice file for the import (opendata.imports): the CSV and JSON the
exports write, each record with the line of the file it starts on, so that every
problem the import reports can name its line.

A problem with the file as a whole (not UTF-8, not valid JSON, unknown columns,
empty) raises FileProblems; a problem with one record is left to the validation,
which reports all of them at once.
"""

import csv
import io
import json
import re
import sys
import threading
from dataclasses import dataclass, field

from .records import CSV_COLUMNS, record_from_csv


@dataclass(frozen=True)
class Problem:
    """One reason a file cannot be imported. `line` is None for the file as a
    whole; `slug` and `field` are "" when they do not apply."""

    line: int | None
    slug: str
    field: str
    reason: str

    def __post_init__(self):
        # A problem quotes what the file holds, which may be a character a page
        # or a terminal cannot show (NUL, a lone surrogate): written as escapes.
        for name in ("slug", "field", "reason"):
            object.__setattr__(self, name, printable(getattr(self, name)))

    def __str__(self):
        where = "file" if self.line is None else f"line {self.line}"
        if self.slug:
            where += f" (slug '{self.slug}')"
        return f"{where}: {self.reason}"


# What no string of the catalogue may hold: PostgreSQL refuses NUL in text, and a
# lone surrogate (only a JSON escape such as "\\ud800" makes one) cannot be
# encoded as UTF-8, so neither queried nor shown.
UNSAFE = re.compile("[\x00\ud800-\udfff]")


def printable(text):
    """`text` with NUL characters and lone surrogates written as escapes."""
    if not UNSAFE.search(text):
        return text
    return UNSAFE.sub(
        lambda found: found.group().encode("unicode_escape").decode(), text
    )


class FileProblems(Exception):
    def __init__(self, *problems):
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = list(problems)


@dataclass(frozen=True)
class Row:
    """One record of the file: a dict in the JSON shape of records.practice_record
    (values possibly still text), or whatever the file held instead (reported by
    the validation). `error` says why a CSV row could not be read as a record."""

    line: int
    record: object = None
    error: str = field(default="")


def read_file(data, name):
    """The records in `data` (the file's bytes); `name` (the file's name) tells CSV
    from JSON by its extension, else the first character does ("{" or "[")."""
    try:
        text = data.decode("utf-8-sig")  # spreadsheets often start UTF-8 with a BOM
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        byte = data[error.start : error.start + 1].hex()
        raise FileProblems(
            Problem(
                line,
                "",
                "",
                f"the file is not UTF-8 text (byte 0x{byte} on line {line}). Save "
                "it as UTF-8 (in a spreadsheet: “CSV UTF-8”) and import it again.",
            )
        ) from error
    if not text.strip():
        raise FileProblems(Problem(None, "", "", "the file is empty."))
    lower = name.lower()
    if lower.endswith(".json") or (
        not lower.endswith(".csv") and text.lstrip()[:1] in ("{", "[")
    ):
        rows = _read_json(text)
    else:
        rows = _read_csv(text)
    if not rows:
        raise FileProblems(
            Problem(None, "", "", "the file holds no practices: nothing to import.")
        )
    return rows


# --- CSV ------------------------------------------------------------------------------


# Python's csv module refuses a cell longer than csv.field_size_limit() (131,072
# characters by default), yet a long Markdown description exports fine. The limit
# is process-wide: it is raised for the time of one read (no cell can be longer
# than the file) and restored after, under a lock so that two imports at once
# cannot restore it under each other's feet.
_FIELD_LIMIT_LOCK = threading.Lock()


def _read_csv(text):
    with _FIELD_LIMIT_LOCK:
        previous = csv.field_size_limit()
        csv.field_size_limit(max(previous, len(text) + 1))
        try:
            return _read_csv_rows(text)
        finally:
            csv.field_size_limit(previous)


def _read_csv_rows(text):
    # csv.reader rather than DictReader: DictReader skips blank lines and fills
    # short rows silently; here each row's first line is counted exactly and a
    # row with a missing or extra cell is reported.
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
        header_line = reader.line_num
        header = [name.strip() for name in header]
        _check_header(header, header_line)
        rows, read = [], reader.line_num
        for cells in reader:
            line, read = read + 1, reader.line_num
            if not any(cells):  # a blank line, or a spreadsheet's empty row
                continue
            if len(cells) != len(header):
                error = (
                    f"the row has {len(cells)} cells but the header has "
                    f"{len(header)}: check its quotes and separators"
                )
                rows.append(Row(line, error=error))
                continue
            rows.append(
                Row(line, record_from_csv(dict(zip(header, cells, strict=True))))
            )
    except csv.Error as error:
        raise FileProblems(
            Problem(reader.line_num, "", "", f"the CSV cannot be read: {error}.")
        ) from error
    return rows


def _check_header(header, line):
    problems = []
    if "slug" not in header:
        problems.append(
            Problem(
                line,
                "",
                "slug",
                "the header row has no “slug” column: the first row must name "
                "the columns, as in the CSV export.",
            )
        )
    unknown = [name for name in header if name not in CSV_COLUMNS]
    if unknown:
        problems.append(
            Problem(
                line,
                "",
                "",
                f"unknown columns {_quoted(unknown)}. The columns are those of the "
                f"CSV export: {', '.join(CSV_COLUMNS)}.",
            )
        )
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        problems.append(
            Problem(
                line, "", "", f"columns appear more than once: {_quoted(repeated)}."
            )
        )
    if problems:
        raise FileProblems(*problems)


def _quoted(names):
    return ", ".join(f"“{name}”" for name in names)


# --- JSON -----------------------------------------------------------------------------

_WHITESPACE = re.compile(r"[ \t\n\r]*")  # JSON's own whitespace
_decoder = json.JSONDecoder()


def _read_json(text):
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise FileProblems(_json_problem(error)) from error
    if isinstance(data, dict) and isinstance(data.get("practices"), list):
        records = data["practices"]
    elif isinstance(data, list):
        records = data
    else:
        raise FileProblems(
            Problem(
                None,
                "",
                "",
                'a JSON file holds {"metadata": …, "practices": [records]}, as the '
                "JSON export writes it, or a list of records.",
            )
        )
    # The export writes one record per line, but a file edited by hand may not
    # be laid out so: find where each record really starts. The walk decodes the
    # values again: should it fail as json.loads can, a problem, never a 500.
    try:
        starts = _record_starts(text)
    except (ValueError, RecursionError) as error:
        raise FileProblems(_json_problem(error)) from error
    lines, line, position = [], 1, 0
    for start in starts:  # in increasing order: count each newline once
        line += text.count("\n", position, start)
        position = start
        lines.append(line)
    return [Row(line, record) for line, record in zip(lines, records, strict=True)]


def _json_problem(error):
    """Why json.loads refused the text: a syntax error (with its line and column),
    nesting too deep for the parser, or a number too long to convert."""
    if isinstance(error, json.JSONDecodeError):
        return Problem(
            error.lineno,
            "",
            "",
            f"the file is not valid JSON: {error.msg} (line {error.lineno}, "
            f"column {error.colno}).",
        )
    if isinstance(error, RecursionError):
        reason = "its lists and objects are nested too deeply to be read"
    elif "integer string conversion" in str(error):
        reason = f"it holds a number of more than {sys.get_int_max_str_digits()} digits"
    else:
        reason = str(error)
    return Problem(None, "", "", f"the file cannot be read as JSON: {reason}.")


def _record_starts(text):
    """The offsets where the records begin in `text`, a valid JSON document that
    is either an array of records or an object whose "practices" is one.

    A small walk over the document's top level: json.loads has checked the syntax
    already, and raw_decode (the C scanner) skips every value in one call."""
    i = _skip(text, 0)
    if text[i] == "[":
        return _array_items(text, i)[0]
    starts, i = [], _skip(text, i + 1)  # inside the top-level object
    while text[i] != "}":
        key, i = _decoder.raw_decode(text, i)
        i = _skip(text, _skip(text, i) + 1)  # past the colon
        if key == "practices" and text[i] == "[":
            # If repeated, json.loads keeps the last (read_file checked that it is
            # a list): so do we.
            starts, i = _array_items(text, i)
        else:
            i = _decoder.raw_decode(text, i)[1]
        i = _skip(text, i)
        if text[i] == ",":
            i = _skip(text, i + 1)
    return starts


def _array_items(text, i):
    """The start offsets of the items of the array opening at text[i], and the
    offset just past the array."""
    starts, i = [], _skip(text, i + 1)
    while text[i] != "]":
        starts.append(i)
        i = _skip(text, _decoder.raw_decode(text, i)[1])
        if text[i] == ",":
            i = _skip(text, i + 1)
    return starts, i + 1


def _skip(text, i):
    return _WHITESPACE.match(text, i).end()
