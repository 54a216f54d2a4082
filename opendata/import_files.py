"""Reading a practice file for the import (opendata.imports): the CSV and JSON the
exports write, each record with the line it starts on. A problem with the file as
a whole raises FileProblems; the records' own problems are left to the validation."""

import csv
import io
import json
import re
import sys
from collections import Counter
from dataclasses import dataclass
from json.decoder import JSONArray
from json.scanner import py_make_scanner

from .records import CSV_COLUMNS, record_from_csv

# What no string of the catalogue may hold: PostgreSQL refuses NUL in text, and a
# lone surrogate (only a JSON escape such as "\\ud800" makes one) cannot be
# encoded as UTF-8, so neither queried nor shown.
UNSAFE = re.compile("[\x00\ud800-\udfff]")
# How many problems of each kind a report lists, and names a problem quotes: the
# rest are counted, so that a file with a problem on every row stays readable.
MAX_SHOWN = 50


def _escape(found):
    return found.group().encode("unicode_escape").decode()


@dataclass(frozen=True)
class Problem:
    """One reason a file cannot be imported (`line` None: the file as a whole)."""

    reason: str
    line: int | None = None
    slug: str = ""
    field: str = ""

    def __post_init__(self):
        # A problem quotes what the file holds, which may be a character a page
        # or a terminal cannot show (NUL, a lone surrogate): written as escapes.
        for name in ("slug", "field", "reason"):
            object.__setattr__(self, name, UNSAFE.sub(_escape, getattr(self, name)))

    def __str__(self):
        where = "file" if self.line is None else f"line {self.line}"
        if self.slug:
            where += f" (slug '{self.slug}')"
        return f"{where}: {self.reason}"


class FileProblems(Exception):
    """The problems with a file as a whole (or its header): its args."""


@dataclass(frozen=True)
class Row:
    """One record (a dict in the JSON shape, values possibly still text, or what
    the file held instead); `error`: why a CSV row could not be read."""

    line: int
    record: object = None
    error: str = ""


def read_file(data, name):
    """The records in `data` (the file's bytes); `name` (the file's name) tells CSV
    from JSON by its extension, else the first character does ("{" or "[")."""
    try:
        text = data.decode("utf-8-sig")  # spreadsheets often start UTF-8 with a BOM
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        byte = data[error.start : error.start + 1].hex()
        reason = (
            f"the file is not UTF-8 text (byte 0x{byte} on line {line}). Save it "
            "as UTF-8 (in a spreadsheet: “CSV UTF-8”) and import it again."
        )
        raise FileProblems(Problem(reason, line)) from error
    if not text.strip():
        raise FileProblems(Problem("the file is empty."))
    lower = name.lower()
    sniffed = not lower.endswith(".csv") and text.lstrip()[:1] in ("{", "[")
    rows = _read_json(text) if lower.endswith(".json") or sniffed else _read_csv(text)
    if not rows:
        raise FileProblems(Problem("the file holds no practices: nothing to import."))
    return rows


# The csv module refuses cells longer than 131,072 characters by default, yet a long
# description exports fine. A file is read whole, so no cell outgrows the file.
csv.field_size_limit(sys.maxsize)


def _read_csv(text):
    # Not DictReader, which fills short rows silently: a row with a missing or
    # extra cell is reported, and each row's first line counted.
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip() for name in next(reader)]
        _check_header(header, reader.line_num)
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
            else:
                record = record_from_csv(dict(zip(header, cells, strict=True)))
                rows.append(Row(line, record))
    except csv.Error as error:
        reason = f"the CSV cannot be read: {error}."
        raise FileProblems(Problem(reason, reader.line_num)) from error
    return rows


def _check_header(header, line):
    problems = []
    if "slug" not in header:
        reason = (
            "the header row has no “slug” column: the first row must name the "
            "columns, as in the CSV export."
        )
        problems.append(Problem(reason, line, field="slug"))
    known, columns = set(CSV_COLUMNS), Counter(header)  # each name once, in order
    if unknown := [name for name in columns if name not in known]:
        reason = (
            f"unknown columns {_quoted(unknown)}. The columns are those of the CSV "
            f"export: {', '.join(CSV_COLUMNS)}."
        )
        problems.append(Problem(reason, line))
    if repeated := sorted(name for name, count in columns.items() if count > 1):
        reason = f"columns appear more than once: {_quoted(repeated)}."
        problems.append(Problem(reason, line))
    if problems:
        raise FileProblems(*problems)


def _quoted(names):
    more = len(names) - MAX_SHOWN
    quoted = ", ".join(f"“{name}”" for name in names[:MAX_SHOWN])
    return f"{quoted} and {more:,} more" if more > 0 else quoted


def _read_json(text):
    """The records of {"metadata": …, "practices": [records]} or of a bare list,
    each with the line it starts on, wherever the file puts it: the export writes
    one record per line, but a file edited by hand may be laid out otherwise."""
    # json's pure-Python scanner lets us see where each array item starts (the
    # C scanner does not); strings are still read by the C code, so a 10 MB file
    # takes a fraction of a second.
    starts = {}

    def parse_array(s_and_end, scan_once, **kwargs):
        items = []

        def scan(string, index):
            items.append(index)
            return scan_once(string, index)

        array, end = JSONArray(s_and_end, scan, **kwargs)
        starts[id(array)] = items  # a later array with a freed one's id replaces it
        return array, end

    decoder = json.JSONDecoder()
    decoder.parse_array = parse_array
    decoder.scan_once = py_make_scanner(decoder)
    try:
        data = decoder.decode(text)
    except json.JSONDecodeError as error:
        reason = (
            f"the file is not valid JSON: {error.msg} (line {error.lineno}, "
            f"column {error.colno})."
        )
        raise FileProblems(Problem(reason, error.lineno)) from error
    except (ValueError, RecursionError) as error:
        if isinstance(error, RecursionError):
            reason = "its lists and objects are nested too deeply to be read"
        elif "integer string conversion" in str(error):
            digits = sys.get_int_max_str_digits()
            reason = f"it holds a number of more than {digits} digits"
        else:
            reason = str(error)
        reason = f"the file cannot be read as JSON: {reason}."
        raise FileProblems(Problem(reason)) from error
    if isinstance(data, dict) and isinstance(data.get("practices"), list):
        records = data["practices"]
    elif isinstance(data, list):
        records = data
    else:
        reason = (
            'a JSON file holds {"metadata": …, "practices": [records]}, as the JSON '
            "export writes it, or a list of records."
        )
        raise FileProblems(Problem(reason))
    rows, line, position = [], 1, 0
    for start, record in zip(starts[id(records)], records, strict=True):
        line += text.count("\n", position, start)  # starts increase: count once
        position = start
        rows.append(Row(line, record))
    return rows
