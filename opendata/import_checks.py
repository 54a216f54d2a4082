"""The checks of one imported record (opendata.imports runs them on every row).

The kinds of value come from records.COLUMNS and the limits from the models
(required fields, lengths, choices), so the import accepts what the export writes
and nothing the catalogue cannot hold. Each check adds a plain, specific problem
("start_year 'abc' is not a year") and carries on, so one run reports them all.

A record is first normalised to the shape records.practice_record gives a stored
practice (codes upper-cased where they are, lists sorted, years as numbers, blank
status as draft): two records are equal exactly when the catalogue holds the
same facts, which is how re-importing a file is recognised as "unchanged".

A field the file leaves out (a CSV without the column, a JSON record without the
key) is not an empty one: `complete` fills it in from the stored practice, if the
slug names one, before the checks between fields; for a new practice it is empty.
A present but empty cell or value is empty.

Every string a record holds is checked first for what the database cannot hold
or even be asked about (NUL, lone surrogates): such a value gets that one problem
and is never looked up.
"""

import re
from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import URLValidator, validate_slug

from practices.models import (
    RESERVED_SLUGS,
    Country,
    ImplementationLevel,
    InstrumentType,
    Practice,
    PracticeSource,
    Project,
    Region,
    Status,
    Theme,
)

from .import_files import UNSAFE, Problem
from .records import COLUMNS, DERIVED

# Every key of a record, in the JSON shape; derived ones are accepted and ignored.
FIELDS = [c.name for c in COLUMNS if "json" in c.formats and not c.derived]
KINDS = {c.name: c.kind for c in COLUMNS}
TEXT = [name for name in FIELDS if KINDS[name] in ("text", "markdown")]
REQUIRED = [name for name in TEXT if not Practice._meta.get_field(name).blank]
CHOICES = {"status": Status.values, "level": ImplementationLevel.values}
YEARS = [name for name in FIELDS if KINDS[name] == "year"]
FLAGS = [name for name in FIELDS if KINDS[name] == "flag"]
FLAG_WORDS = {"true": True, "false": False}
DATES = [name for name in FIELDS if KINDS[name] == "date"]
FIRST_YEAR, LAST_YEAR = 1900, 2100  # a plausible range for a practice's years
UNCERTAIN = [name for name, _ in Practice.UNCERTAIN_CHOICES]
DATE_FORMAT = re.compile(r"\d{4}-\d{2}-\d{2}")
SOURCE_KEYS = {"url", "title"}
is_web_address = URLValidator(schemes=["http", "https"])


@dataclass(frozen=True)
class Reference:
    """A column naming rows the import does not create (reference data)."""

    model: type
    key: str  # the model field the codes are matched on
    noun: str  # for messages
    upper: bool = False  # ISO and NUTS codes are stored upper-case


REFERENCES = {
    "countries": Reference(Country, "code", "country code", upper=True),
    "regions": Reference(Region, "code", "NUTS region code", upper=True),
    "themes": Reference(Theme, "slug", "theme"),
    "instruments": Reference(InstrumentType, "slug", "instrument type"),
    "project": Reference(Project, "slug", "project"),
}
RELATIONS = ["countries", "regions", "themes", "instruments"]


@dataclass
class Checked:
    """A row after its checks: the normalised record and what is wrong with it."""

    line: int
    slug: str = ""
    record: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)
    provided: frozenset = frozenset()  # the fields the file gives (FIELDS' names)
    unsafe: set = field(default_factory=set)  # fields the database cannot hold

    def problem(self, name, reason):
        if name in self.unsafe:
            return  # a value the database cannot hold: that one problem says it
        self.problems.append(Problem(self.line, self.slug, name, reason))

    def reported(self, name):
        return any(p.field == name for p in self.problems)

    def codes(self, name):
        """The codes this record names in a reference column."""
        value = self.record.get(name)
        return value if isinstance(value, list) else [value] if value else []


def check_record(row):
    """Normalise and check one Row on its own (no database): what the database
    cannot hold, types, formats, lengths and choices. The fields the file leaves
    out get their empty value here; `complete` then fills them in from a stored
    practice and checks the rules between fields."""
    record = row.record
    slug = record.get("slug") if isinstance(record, dict) else None
    checked = Checked(row.line, slug[:120] if isinstance(slug, str) else "")
    if row.error:
        checked.problem("", row.error)
        return checked
    if not isinstance(record, dict):
        checked.problem(
            "", f"the record is not an object with fields ({_show(record)})"
        )
        return checked
    for name in sorted(set(record) - set(FIELDS) - DERIVED):
        checked.problem(name, f"unknown field “{name}” (see the fields on /data/)")
    checked.provided = frozenset(name for name in FIELDS if name in record)
    _check_strings(checked, record)
    values = checked.record
    values["slug"] = _slug(checked, record.get("slug"))
    for name in TEXT:
        values[name] = _text(checked, name, record.get(name))
    for name, allowed in CHOICES.items():
        text = _text(checked, name, record.get(name))
        values[name] = _choice(checked, name, text, allowed)
    for name in YEARS:
        values[name] = _year(checked, name, record.get(name))
    for name in FLAGS:
        values[name] = _flag(checked, name, record.get(name))
    for name in DATES:
        values[name] = _date(checked, name, record.get(name))
    for name in [*RELATIONS, "uncertain_fields"]:
        values[name] = _codes(checked, name, record.get(name))
    values["project"] = _text(checked, "project", record.get("project")).strip()
    values["sources"] = _sources(checked, record.get("sources"))
    checked.record = {name: values[name] for name in FIELDS}  # the stored order
    return checked


def complete(checked, stored):
    """The record as it would be stored: the fields the file leaves out are kept
    from `stored` (the stored practice's record, or None for a new one, whose
    left-out fields are empty). Then the checks of the whole record: the required
    fields and the rules between fields."""
    if stored is not None:
        checked.record = {
            name: checked.record[name] if name in checked.provided else stored[name]
            for name in FIELDS
        }
    for name in REQUIRED:
        if not checked.record[name].strip() and not checked.reported(name):
            checked.problem(name, f"{name} is missing: every record needs one")
    _check_together(checked, checked.record)


def _check_strings(checked, record):
    """Every string of every field, looked at before anything else: a NUL
    character (PostgreSQL refuses it in text) or a lone surrogate (a JSON escape
    such as "\\ud800", which cannot even be encoded for a query) gets one problem
    on its field, and the field no other."""
    for name in FIELDS:
        value = record.get(name)
        items = value if isinstance(value, list) else [value]
        strings = [
            text
            for item in items
            for text in (item.values() if isinstance(item, dict) else [item])
            if isinstance(text, str)
        ]
        for text in strings:
            if found := UNSAFE.search(text):
                character = found.group()
                what = (
                    "a NUL character"
                    if character == "\x00"
                    else f"a lone surrogate ({character}), which is not a character"
                )
                checked.problem(
                    name, f"{name} contains {what}: the catalogue cannot store it"
                )
                checked.unsafe.add(name)
                break


def _check_together(checked, values):
    if values["status"] in (Status.PUBLISHED, Status.ARCHIVED) and not (
        values["published_on"] or checked.reported("published_on")
    ):
        checked.problem(
            "published_on",
            f"status '{values['status']}' needs a published_on date (YYYY-MM-DD)",
        )
    start, end = values["start_year"], values["end_year"]
    if start and end and end < start:
        checked.problem("end_year", f"end_year {end} is before start_year {start}")
    verified, review = values["last_verified_on"], values["review_by"]
    if verified and review and review < verified:
        checked.problem(
            "review_by", f"review_by {review} is before last_verified_on {verified}"
        )
    unknown = [name for name in values["uncertain_fields"] if name not in UNCERTAIN]
    if unknown:
        checked.problem(
            "uncertain_fields",
            f"uncertain_fields: {_list(unknown)} cannot be flagged as unconfirmed "
            f"(the fields that can: {', '.join(UNCERTAIN)})",
        )


# --- one value at a time --------------------------------------------------------------


def _slug(checked, value):
    if value in (None, ""):
        checked.problem("slug", "slug is missing: every record needs one")
        return ""
    if not isinstance(value, str):
        checked.problem("slug", f"slug must be text, not {_show(value)}")
        return ""
    limit = Practice._meta.get_field("slug").max_length
    if len(value) > limit:
        checked.problem("slug", _too_long("slug", value, limit))
    elif not validate_slug.regex.match(value):
        checked.problem(
            "slug",
            f"slug {_show(value)} is not a valid slug: use lower-case letters, "
            "digits and hyphens only",
        )
    elif value in RESERVED_SLUGS:
        # The database refuses them too (practice_slug_not_reserved), but only
        # when writing: said here, on the row.
        checked.problem(
            "slug",
            f"slug {_show(value)} is the address of a page of the site: choose another",
        )
    return value


def _text(checked, name, value):
    if value is None:
        value = ""
    if not isinstance(value, str):
        checked.problem(name, f"{name} must be text, not {_show(value)}")
        return ""
    model_field = Practice._meta.get_field(name)
    limit = getattr(model_field, "max_length", None)
    if limit and len(value) > limit:
        checked.problem(name, _too_long(name, value, limit))
    return value


def _choice(checked, name, value, allowed):
    if name == "status" and not value:
        return Status.DRAFT  # a new record starts as a draft unless it says otherwise
    if value and value not in allowed and not checked.reported(name):
        checked.problem(
            name, f"{name} {_show(value)} is not one of: {', '.join(allowed)}"
        )
    return value


def _year(checked, name, value):
    if value in (None, ""):
        return None
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,9}", value.strip()):
        year = int(value.strip())
    elif isinstance(value, int) and not isinstance(value, bool):
        year = value
    else:
        checked.problem(name, f"{name} {_show(value)} is not a year")
        return None
    if not FIRST_YEAR <= year <= LAST_YEAR:
        checked.problem(
            name, f"{name} {year} is not a year between {FIRST_YEAR} and {LAST_YEAR}"
        )
        return None
    return year


def _flag(checked, name, value):
    """True or false; an empty cell is false (the default)."""
    if isinstance(value, bool):
        return value
    if value in (None, ""):
        return False
    if isinstance(value, str) and value.strip().lower() in FLAG_WORDS:
        return FLAG_WORDS[value.strip().lower()]
    checked.problem(name, f"{name} {_show(value)} is not true or false")
    return False


def _date(checked, name, value):
    """The date as YYYY-MM-DD text (as records hold it), or None."""
    if value in (None, ""):
        return None
    try:
        if not (isinstance(value, str) and DATE_FORMAT.fullmatch(value.strip())):
            raise ValueError
        return date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        checked.problem(name, f"{name} {_show(value)} is not a date (YYYY-MM-DD)")
        return None


def _codes(checked, name, value):
    """A list of codes: sorted and without repeats, like a stored record's (the
    unconfirmed facts keep their order, as stored)."""
    if value in (None, ""):
        return []
    if not isinstance(value, list) or not all(
        isinstance(code, str) and code.strip() for code in value
    ):
        checked.problem(name, f"{name} must be a list of codes, not {_show(value)}")
        return []
    reference = REFERENCES.get(name)
    codes = [code.strip() for code in value]
    if reference and reference.upper:
        codes = [code.upper() for code in codes]
    if name == "uncertain_fields":
        return list(dict.fromkeys(codes))
    return sorted(set(codes))


def _sources(checked, value):
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        checked.problem("sources", f"sources must be a list, not {_show(value)}")
        return []
    sources, first = [], {}
    url_limit = PracticeSource._meta.get_field("url").max_length
    title_limit = PracticeSource._meta.get_field("title").max_length
    for n, source in enumerate(value, 1):
        if not isinstance(source, dict):
            checked.problem(
                "sources", f"source {n} must be an object with a url and a title"
            )
            continue
        unknown = sorted(set(source) - SOURCE_KEYS)
        if unknown:
            checked.problem(
                "sources", f"source {n} has unknown fields {_list(unknown)}"
            )
        url, title = source.get("url") or "", source.get("title") or ""
        if not isinstance(url, str) or not isinstance(title, str):
            checked.problem("sources", f"source {n}: the url and title must be text")
            continue
        if not url:
            checked.problem("sources", f"source {n} has no URL")
        elif len(url) > url_limit:
            checked.problem("sources", _too_long(f"source {n} URL", url, url_limit))
        elif not _is_web_address(url):
            checked.problem(
                "sources", f"source {n} URL {_show(url)} is not an http(s) address"
            )
        elif url in first:
            checked.problem(
                "sources", f"source {n} repeats the URL of source {first[url]}"
            )
        first.setdefault(url, n)
        if not title.strip():
            checked.problem("sources", f"source {n} has no title")
        elif len(title) > title_limit:
            checked.problem(
                "sources", _too_long(f"source {n} title", title, title_limit)
            )
        sources.append({"url": url, "title": title})
    return sources


def _is_web_address(url):
    try:
        is_web_address(url)
    except ValidationError:
        return False
    return True


# --- with the database's reference rows -----------------------------------------------


def check_references(checked, found):
    """Report the codes that name no row; `found` is {column: {code: row}}, with
    the codes of the columns without a problem (the others were not looked up)."""
    for name, reference in REFERENCES.items():
        if checked.reported(name):
            continue
        missing = [code for code in checked.codes(name) if code not in found[name]]
        if missing:
            noun = reference.noun + ("s" if len(missing) > 1 else "")
            checked.problem(name, f"{name}: unknown {noun} {_list(missing)}")


def model_values(record, found):
    """The Practice field values of a checked record (not its relations)."""
    values = {name: record[name] for name in [*TEXT, "status", "level", *YEARS, *FLAGS]}
    for name in DATES:
        values[name] = date.fromisoformat(record[name]) if record[name] else None
    values["slug"] = record["slug"]
    values["uncertain_fields"] = record["uncertain_fields"]
    values["project"] = found["project"].get(record["project"])
    return values


def relations(record, found, names=RELATIONS):
    """{relation: [rows]} of a checked record whose codes all exist, for the
    relations `names`."""
    return {name: [found[name][code] for code in record[name]] for name in names}


def check_model(checked, found):
    """The model's own validation (field validators, Practice.clean), as a safety
    net for anything the checks above do not cover. Constraints are checked above
    and by the database (validating them here would query once per row), and the
    project was looked up already."""
    practice = Practice(**model_values(checked.record, found))
    reported = {p.field for p in checked.problems}
    exclude = {"project", "search_text", "search_vector", *reported}
    try:
        practice.full_clean(
            exclude=exclude, validate_unique=False, validate_constraints=False
        )
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            if name not in reported:
                label = "record" if name == NON_FIELD_ERRORS else name
                for message in messages:
                    checked.problem(name, f"{label}: {message}")


# --- wording --------------------------------------------------------------------------


def _show(value, limit=60):
    """A value as a message quotes it: 'text' (shortened), or its JSON kind."""
    if isinstance(value, str):
        return f"'{value[:limit]}…'" if len(value) > limit else f"'{value}'"
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    if isinstance(value, int | float):
        return f"the number {value}"
    return "a list" if isinstance(value, list) else "an object"


def _list(values):
    return ", ".join(_show(value) for value in values)


def _too_long(name, value, limit):
    return f"{name} is {len(value)} characters long; at most {limit} are allowed"
