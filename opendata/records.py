"""The one definition of an exported practice record, for the exports, the data
dictionary on /data/ and the import: its columns and how a practice becomes a record
(JSON shape), and a record a CSV row and back."""

import re
from dataclasses import dataclass
from datetime import date
from itertools import zip_longest
from operator import attrgetter

from django.apps import apps
from django.conf import settings
from django.utils.text import capfirst

from evidence.models import OutcomeFigure, amount, cost_per_firm, grade_of, noted

# The reuse terms of Interreg Europe material, shown with every export: not an open
# licence, so our records are not relabelled as one (see record_licence).
LICENCE = {
    "name": "Non-commercial reuse with acknowledgement",
    "url": "https://www.interregeurope.eu/help/legal-notice-privacy-policy/",
    "note": (
        f"{settings.SITE_NAME} writes each record in its own words from the sources "
        "it lists. Where those include Interreg Europe pages, Interreg Europe's "
        "legal notice allows reproduction for non-commercial purposes with "
        "acknowledgement; for the other sources no reuse terms are recorded. Reuse "
        "the data on those terms, non-commercially: credit "
        f"{settings.SITE_NAME} and the sources, and keep each record's attribution "
        "line."
    ),
}


def record_licence(practice):
    """Interreg Europe's terms when one of the sources is an Interreg Europe page,
    else none recorded (""). Needs with_source_terms() (for_detail has it)."""
    return LICENCE["url"] if practice.cites_interreg_europe else ""


# How each kind of value is written: (description, JSON type).
KINDS = {
    "slug": ("short identifier: lower-case letters, digits and hyphens", "string"),
    "text": ("plain text", "string"),
    "markdown": (
        "Markdown text (paragraphs and lists); in CSV plain text, each list item "
        "a line starting “• ”",
        "string",
    ),
    "choice": ("one of the listed values, or empty", "string"),
    "year": ("four-digit year, or empty", "integer or null"),
    "flag": ("true or false (in CSV: “true” or “false”)", "boolean"),
    "date": ("date as YYYY-MM-DD, or empty", "string or null"),
    "url": ("absolute URL", "string"),
    "codes": ("list of codes; in CSV separated by “;”", "array of strings"),
    "names": (
        "list of names, in the order of the codes before it; in CSV separated by “; ”",
        "array of strings",
    ),
    "sources": ("list of sources, each with a URL and a title", "array of objects"),
    "lines": ("in CSV only: one value per line, in source order", "—"),
    "level": (
        "whole number on the evidence scale (see /evidence/), or empty",
        "integer or null",
    ),
    "figures": (
        "list of figures; in CSV plain text, each a line starting “• ”",
        "array of objects",
    ),
}

LIST_SEPARATOR = ";"  # codes and slugs never contain it
LINE_SEPARATOR = "\n"  # source URLs may contain ";", never a line break


@dataclass(frozen=True)
class Column:
    """One exported value, described by the verbose name and help text of its
    `field` ("Model.field"), or by `about`. Derived columns are computed on export
    and ignored on import."""

    name: str
    kind: str
    field: str = ""
    about: str = ""
    derived: bool = False
    heading: str = ""  # the label, when the model field's would mislead
    key: str = ""  # a relation's: the field a record names its rows by
    names: str = ""  # a names column's: the column whose codes it names

    @property
    def model_field(self):
        # "Model.field" of the practices app, or "app.Model.field".
        *app, model_name, field_name = self.field.split(".")
        model = apps.get_model(app[0] if app else "practices", model_name)
        return model._meta.get_field(field_name)

    @property
    def label(self):
        if self.heading or not self.field:
            return self.heading or self.name.capitalize()
        return capfirst(self.model_field.verbose_name)

    @property
    def description(self):
        return str(self.model_field.help_text) if self.field else self.about

    @property
    def choices(self):
        if self.name in FACT_LISTS:  # a list of field names, not a choice
            return list(self.model_field.model.UNCERTAIN_CHOICES)
        return list(self.model_field.choices or []) if self.field else []

    @property
    def formats(self):
        # Sources are a list of objects in JSON, two columns of lines in CSV.
        return {"sources": ("json",), "lines": ("csv",)}.get(self.kind, ("csv", "json"))

    type_note = property(lambda self: KINDS[self.kind][0])
    json_type = property(lambda self: KINDS[self.kind][1])


# Columns that list facts of the record by name (Practice.UNCERTAIN_FIELDS).
FACT_LISTS = ("uncertain_fields", "declared_none")

# In CSV column order; JSON records have the same keys, except that CSV's
# source_urls and source_titles are JSON's `sources`.
COLUMNS = [
    Column("slug", "slug", "Practice.slug"),
    Column("title", "text", "Practice.title"),
    Column(
        "url",
        "url",
        about="The practice's page in the catalogue.",
        derived=True,
        heading="Page URL",
    ),
    Column("status", "choice", "Practice.status"),
    Column("published_on", "date", "Practice.published_on"),
    Column("summary", "text", "Practice.summary"),
    Column("description", "markdown", "Practice.description"),
    Column("resources", "markdown", "Practice.resources"),
    Column("evidence", "markdown", "Practice.evidence"),
    Column("transfer", "markdown", "Practice.transfer"),
    Column("beneficiaries", "text", "Practice.beneficiaries"),
    Column("level", "choice", "Practice.level"),
    Column(
        "level_name",
        "text",
        about="The implementation level in words, as the catalogue shows it.",
        derived=True,
        heading="Level name",
        names="level",
    ),
    Column("institution", "text", "Practice.institution"),
    Column("city", "text", "Practice.city"),
    Column("start_year", "year", "Practice.start_year"),
    Column("end_year", "year", "Practice.end_year"),
    Column("still_running", "flag", "Practice.still_running"),
    Column("budget", "text", "Practice.budget"),
    Column("budget_scale", "choice", "Practice.budget_scale"),
    Column(
        "budget_scale_name",
        "text",
        about="The budget scale in words, as the catalogue shows it.",
        derived=True,
        heading="Budget scale name",
        names="budget_scale",
    ),
    Column("funding_source", "text", "Practice.funding_source"),
    Column("legal_basis", "text", "Practice.legal_basis"),
    Column("staff", "text", "Practice.staff"),
    Column("countries", "codes", "Practice.countries", key="code"),
    Column(
        "country_names",
        "names",
        about="The names of the countries in countries, in the same order.",
        derived=True,
        heading="Country names",
        names="countries",
    ),
    Column("regions", "codes", "Practice.regions", key="code"),
    Column(
        "region_names",
        "names",
        about="The names of the regions in regions, in the same order.",
        derived=True,
        heading="Region names",
        names="regions",
    ),
    Column("themes", "codes", "Practice.themes", key="slug"),
    Column(
        "theme_names",
        "names",
        about="The names of the themes in themes, in the same order.",
        derived=True,
        heading="Theme names",
        names="themes",
    ),
    Column("instruments", "codes", "Practice.instruments", key="slug"),
    Column(
        "instrument_names",
        "names",
        about="The names of the instrument types in instruments, in the same order.",
        derived=True,
        heading="Instrument names",
        names="instruments",
    ),
    Column("project", "slug", "Practice.project", key="slug"),
    Column("uncertain_fields", "codes", "Practice.uncertain_fields"),
    Column(
        "sources",
        "sources",
        about="Where the record's facts come from, in order: each source's URL and "
        "title (in CSV: source_urls and source_titles).",
    ),
    Column("source_urls", "lines", "PracticeSource.url", heading="Source URLs"),
    Column("source_titles", "lines", "PracticeSource.title", heading="Source titles"),
    Column(
        "evidence_level",
        "level",
        "evidence.Grade.level",
        derived=True,
        heading="Evidence level",
    ),
    Column(
        "evidence_level_name",
        "text",
        about="The evidence level in words, as the catalogue shows it; empty when "
        "the practice is not graded yet.",
        derived=True,
        heading="Evidence level name",
    ),
    Column("evidence_basis", "text", "evidence.Grade.basis", derived=True),
    Column(
        "evidence_unconfirmed",
        "flag",
        "evidence.Grade.unconfirmed",
        derived=True,
        heading="Evidence level unconfirmed",
    ),
    Column(
        "figures",
        "figures",
        about="The outcome figures its sources report, each with its metric (and "
        "metric_name), value, currency (money only), period_start and period_end "
        "(years, empty when not recorded), the URL of its source, our description "
        "and whether it is unconfirmed.",
        derived=True,
        heading="Outcome figures",
    ),
    Column(
        "cost_per_firm",
        "figures",
        about="Public cost per firm supported, only where a public budget and a "
        "count of firms supported cover the same years, in one currency: value, "
        "currency, period_start, period_end, the method in words and whether it "
        "is unconfirmed (either figure is).",
        derived=True,
        heading="Public cost per firm supported",
    ),
    Column("last_verified_on", "date", "Practice.last_verified_on"),
    Column("review_by", "date", "Practice.review_by"),
    Column("declared_none", "codes", "Practice.declared_none"),
    Column("attribution", "text", "Practice.attribution"),
    Column(
        "licence",
        "url",
        about="The reuse terms of the record's source material: Interreg Europe's "
        "legal notice when one of its sources is an Interreg Europe page; empty "
        "when no terms are recorded for its sources (see the data page).",
        derived=True,
    ),
]
CSV_COLUMNS = [c.name for c in COLUMNS if "csv" in c.formats]
LISTS = [c.name for c in COLUMNS if c.kind == "codes"]  # joined by ";" in CSV
JSON_COLUMNS = [c.name for c in COLUMNS if "json" in c.formats]
DERIVED = {c.name for c in COLUMNS if c.derived}
KEYS = {c.name: c.key for c in COLUMNS if c.key}  # the relations
NAMED = {c.name: c.names for c in COLUMNS if c.names}  # names column: codes column
NAME_LISTS = [c.name for c in COLUMNS if c.kind == "names"]  # joined by "; " in CSV
MARKDOWN = [c.name for c in COLUMNS if c.kind == "markdown"]
FIGURES = [c.name for c in COLUMNS if c.kind == "figures"]  # "• " lines in CSV


def practice_record(practice, absolute_url):
    """A practice from for_export() as a record (JSON shape); `absolute_url(path)`
    makes its page's address absolute. Other columns are the model's fields."""
    grade = grade_of(practice)
    figures = list(practice.figures.all())
    values = {
        "evidence_level": grade.level if grade else None,
        "evidence_level_name": grade.label if grade else "",
        "evidence_basis": grade.basis if grade else "",
        "evidence_unconfirmed": grade.unconfirmed if grade else False,
        "figures": [_figure(figure) for figure in figures],
        "cost_per_firm": [_cost(cost) for cost in cost_per_firm(figures)],
        "url": absolute_url(practice.get_absolute_url()),
        "sources": [{"url": s.url, "title": s.title} for s in practice.sources.all()],
        "licence": record_licence(practice),
        **{name: _names(practice, codes) for name, codes in NAMED.items()},
    }
    record = {}
    for name in JSON_COLUMNS:
        value = values[name] if name in values else getattr(practice, name)
        record[name] = record_value(name, value)
    return record


def _number(value):
    """A Decimal as JSON's number: whole amounts as integers."""
    return int(value) if value == value.to_integral() else float(value)


def _figure(figure):
    return {
        "metric": figure.metric,
        "metric_name": figure.get_metric_display(),
        "value": _number(figure.value),
        "currency": figure.currency,
        "period_start": figure.period_start,
        "period_end": figure.period_end,
        "source": figure.source.url,
        "description": figure.description,
        "unconfirmed": figure.unconfirmed,
    }


def _cost(cost):
    return {
        "value": _number(cost.value),
        "currency": cost.currency,
        "period_start": cost.budget.period_start,
        "period_end": cost.budget.period_end,
        "method": cost.method,
        "unconfirmed": cost.unconfirmed,
    }


def figure_lines(name, items):
    """A figures column's CSV cell: a "• " line per item, worded as on the pages
    (OutcomeFigure.summary, CostPerFirm.summary)."""
    lines = []
    for item in items:
        if name == "cost_per_firm":
            cost = amount(item["value"], item["currency"])
            text = noted(cost, item["method"], item["unconfirmed"])
        else:
            kept = ["metric", "value", "currency", "period_start", "period_end"]
            figure = OutcomeFigure(
                **{key: item[key] for key in kept}, unconfirmed=item["unconfirmed"]
            )
            text = (
                f"{figure.get_metric_display()}: {figure.summary}. "
                f"{item['description']} Source: {item['source']}"
            )
        lines.append(f"• {text}")
    return LINE_SEPARATOR.join(lines)


def _names(practice, name):
    """The names of what the column `name` holds, in the order of its codes."""
    if name not in KEYS:  # a choice (level, budget scale): its label
        return getattr(practice, f"get_{name}_display")()
    rows = sorted(getattr(practice, name).all(), key=attrgetter(KEYS[name]))
    return [row.name for row in rows]


def record_value(name, value):
    """A practice's value as its record holds it (the importer compares them so):
    a relation's rows (its manager's, or those a form cleaned) by their code or
    slug, sorted (a record's content, not the order rows happened to be linked in)."""
    if name == "project":
        return value.slug if value else ""
    if name in KEYS:
        rows = value.all() if hasattr(value, "all") else value
        return sorted(getattr(row, KEYS[name]) for row in rows)
    return value.isoformat() if isinstance(value, date) else value


# A cell a spreadsheet would run as a formula starts with one of these: it is
# written after an apostrophe (shown as text), which reading removes again.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _needs_guard(text):
    # Past apostrophes we did not add (kept intact). Every leading "-", Markdown
    # lists included: spreadsheets read "- 2+3" as a formula too.
    return text.lstrip("'").startswith(FORMULA_STARTS)


def guard_cell(text):
    return "'" + text if text and _needs_guard(text) else text


def unguard_cell(text):
    return text[1:] if text.startswith("'") and _needs_guard(text[1:]) else text


# Markdown's list items ("- item", as curators write them) are "• item" lines in a
# CSV cell: plain text, which no spreadsheet reads as a formula. Reading a cell
# turns such lines back into list items; lines of an older export, still "- item",
# are left as they are. (A stored line that starts "• " itself would come back as
# a list item: the catalogue holds none.)
MARKDOWN_ITEM = re.compile(r"^([ \t]*)- ", re.MULTILINE)
PLAIN_ITEM = re.compile(r"^([ \t]*)• ", re.MULTILINE)


def plain_text(markdown):
    return MARKDOWN_ITEM.sub(r"\1• ", markdown)


def markdown_text(text):
    return PLAIN_ITEM.sub(r"\1- ", text)


def csv_row(record):
    """A record as CSV cells, in CSV_COLUMNS order (a record without names or
    other derived values, as older files hold them, with empty cells)."""
    cells = {**dict.fromkeys(DERIVED, ""), **record}
    for name in LISTS:
        cells[name] = LIST_SEPARATOR.join(record.get(name, []))
    for name in NAME_LISTS:  # for readers only: the import ignores them
        cells[name] = "; ".join(cells[name])
    for name in MARKDOWN:
        cells[name] = plain_text(record[name])
    for name in FIGURES:
        cells[name] = figure_lines(name, record.get(name, []))
    cells["source_urls"] = LINE_SEPARATOR.join(s["url"] for s in record["sources"])
    cells["source_titles"] = LINE_SEPARATOR.join(s["title"] for s in record["sources"])
    return [guard_cell(_cell(cells[name])) for name in CSV_COLUMNS]


def _cell(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def record_from_csv(row):
    """A CSV row ({column: cell}) back in the JSON shape, values still as text
    (the importer checks them). Lists are split; empty cells become "" or []."""
    record = {name: unguard_cell(value or "") for name, value in row.items()}
    for name in MARKDOWN:
        if name in record:
            record[name] = markdown_text(record[name])
    for name in LISTS:
        if name in record:
            values = (v.strip() for v in record[name].split(LIST_SEPARATOR))
            record[name] = [v for v in values if v]
    if "source_urls" in record or "source_titles" in record:
        urls = _lines(record.pop("source_urls", ""))
        titles = _lines(record.pop("source_titles", ""))
        record["sources"] = [
            {"url": url, "title": title}
            for url, title in zip_longest(urls, titles, fillvalue="")
        ]
    return record


def _lines(text):
    # Stripping each line also drops the "\r" of a "\r\n" line break.
    return [line.strip() for line in text.split(LINE_SEPARATOR)] if text else []
