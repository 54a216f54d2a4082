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
from json.decoder import WHITESPACE

from .records import CSV_COLUMNS, record_from_csv

DECODER = json.JSONDecoder()

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


CHUNK_SIZE = 64 * 1024  # characters read at a time


def read_file(file, name):
    """The rows of `file` (a binary file, or its bytes), read as they are needed,
    so that memory does not grow with the file; `name` (the file's name) tells CSV
    from JSON by its extension, else the first character does ("{" or "["). Reading
    raises FileProblems when it reaches a problem with the file as a whole."""
    file = io.BytesIO(file) if isinstance(file, bytes) else file
    file.seek(0)
    # Spreadsheets often start UTF-8 with a BOM; newline="": the csv module's rule.
    text = io.TextIOWrapper(file, "utf-8-sig", newline="")
    try:
        while (start := text.read(CHUNK_SIZE)) and not start.strip():
            pass
        if not start:
            raise FileProblems(Problem("the file is empty."))
        text.seek(0)
        lower = name.lower()
        sniffed = not lower.endswith(".csv") and start.lstrip()[:1] in ("{", "[")
        read = _read_json if lower.endswith(".json") or sniffed else _read_csv
        rows = read(text)
        if (row := next(rows, None)) is None:
            reason = "the file holds no practices: nothing to import."
            raise FileProblems(Problem(reason))
        yield row
        yield from rows
    except UnicodeDecodeError as error:
        line, byte = _first_not_utf8(file)
        reason = (
            f"the file is not UTF-8 text (byte 0x{byte} on line {line}). Save it "
            "as UTF-8 (in a spreadsheet: “CSV UTF-8”) and import it again."
        )
        raise FileProblems(Problem(reason, line)) from error
    finally:
        text.detach()  # the caller's file stays open


def _first_not_utf8(file):
    """The line and the (hex) byte where `file` first stops being UTF-8 (lines
    split at b"\\n", which no UTF-8 character contains)."""
    file.seek(0)
    for number, line in enumerate(file, 1):
        try:
            line.decode()
        except UnicodeDecodeError as error:
            return number, line[error.start : error.start + 1].hex()


# The csv module refuses cells longer than 131,072 characters by default, yet a long
# description exports fine. A cell is at most as long as the file.
csv.field_size_limit(sys.maxsize)


def _read_csv(text):
    # Not DictReader, which fills short rows silently: a row with a missing or
    # extra cell is reported, and each row's first line counted.
    reader = csv.reader(text)
    try:
        header = [name.strip() for name in next(reader)]
        _check_header(header, reader.line_num)
        read = reader.line_num
        for cells in reader:
            line, read = read + 1, reader.line_num
            if not any(cells):  # a blank line, or a spreadsheet's empty row
                continue
            if len(cells) != len(header):
                error = (
                    f"the row has {len(cells)} cells but the header has "
                    f"{len(header)}: check its quotes and separators"
                )
                yield Row(line, error=error)
            else:
                yield Row(line, record_from_csv(dict(zip(header, cells, strict=True))))
    except csv.Error as error:
        reason = f"the CSV cannot be read: {error}."
        raise FileProblems(Problem(reason, reader.line_num)) from error


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


SHAPE = (
    'a JSON file holds {"metadata": …, "practices": [records]}, as the JSON export '
    "writes it, or a list of records."
)


def _read_json(text):
    """The records of {"metadata": …, "practices": [records]} or of a bare list,
    each with the line it starts on, wherever the file puts it: the export writes
    one record per line, but a file edited by hand may be laid out otherwise."""
    try:
        try:
            yield from _json_records(_JSONText(text))
        except json.JSONDecodeError:
            # Why and where in json's own words, from reading the whole file again
            # (valid JSON, it has another shape). Only a bad file is read whole.
            text.seek(0)
            json.load(text)
            raise FileProblems(Problem(SHAPE)) from None
    except json.JSONDecodeError as error:
        reason = (
            f"the file is not valid JSON: {error.msg} (line {error.lineno}, "
            f"column {error.colno})."
        )
        raise FileProblems(Problem(reason, error.lineno)) from error
    except UnicodeDecodeError:
        raise
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


def _json_records(text):
    # Anything unexpected raises JSONDecodeError, for _read_json to explain.
    if text.take("[{") == "[":
        for _ in _members(text, "]"):
            yield Row(*text.value())
        return
    found = False
    for _ in _members(text, "}"):
        key = text.value()[1]
        if not isinstance(key, str) or key == "practices" and found:
            text.fail()  # json keeps the last "practices": one was read already
        text.take(":")
        if key == "practices" and text.peek() == "[":
            text.take("[")
            for _ in _members(text, "]"):
                yield Row(*text.value())
            found = True
        else:
            text.value()  # the metadata, or anything else: left aside
    if not found or text.peek():
        text.fail()


def _members(text, close):
    """Step through a list or object whose opening bracket was taken: once before
    each member (which the caller reads), over the commas and the `close`."""
    if text.peek() == close:
        text.take(close)
        return
    yield
    while text.take("," + close) == ",":
        yield


class _JSONText:
    """A JSON file read a value at a time: only the text not parsed yet is held
    (a chunk, or a value longer than one), and the line it has reached counted."""

    def __init__(self, file):
        self.file, self.text, self.pos, self.ended = file, "", 0, False
        self.line, self.counted = 1, 0  # the line of self.text[self.counted]

    def peek(self):
        """The next character that is not white space ("" at the end)."""
        while True:
            self.pos = WHITESPACE.match(self.text, self.pos).end()
            if self.pos < len(self.text) or self.ended:
                return self.text[self.pos : self.pos + 1]
            self._read()

    def take(self, chars):
        """Step over the next character, one of `chars`; return it."""
        if (char := self.peek()) and char in chars:
            self.pos += 1
            return char
        self.fail()

    def value(self):
        """The next value, and the line it starts on."""
        self.peek()
        self.line += self.text.count("\n", self.counted, self.pos)
        self.counted, line = self.pos, self.line
        while True:
            try:
                value, end = DECODER.raw_decode(self.text, self.pos)
            except json.JSONDecodeError:
                if self.ended:
                    raise
            else:  # a number that ends the text may go on in the next chunk
                if end < len(self.text) or self.ended:
                    self.pos = end
                    return line, value
            self._read()

    def fail(self):
        raise json.JSONDecodeError("unexpected", self.text, self.pos)

    def _read(self):
        # Twice what is held, if more: a value of any length is read in linear time.
        self.line += self.text.count("\n", self.counted, self.pos)
        rest = self.text[self.pos :]
        more = self.file.read(max(CHUNK_SIZE, len(rest)))
        self.text, self.pos, self.counted, self.ended = rest + more, 0, 0, not more
