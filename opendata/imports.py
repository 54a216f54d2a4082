"""Bulk import of practices from the CSV and JSON the exports write (manage.py
import_practices, the admin's import page, practices.content). The file is read as a
stream, a batch of rows at a time: validate() plans each row of a batch: create,
update, unchanged or skip (curators' edits are kept unless `update`); the batch is
written while no row has a problem, all in one transaction, undone if any has. A
field the file leaves out keeps what is stored (empty on create); an empty value
empties. The file's status and published_on are ignored (new rows are drafts,
stored ones keep theirs) unless `keep_status`; then the workflow's rules apply."""

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from itertools import batched

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import DatabaseError, IntegrityError, transaction
from django.template.defaultfilters import pluralize

from evidence.models import OutcomeFigure
from practices.models import RESERVED_SLUGS, Practice, PracticeSource, Status
from publishing.workflow import (
    check_publishable,
    check_status_change,
    label,
    may,
    move_between,
    perm,
)

from .import_files import MAX_SHOWN, UNSAFE, FileProblems, Problem, read_file
from .records import COLUMNS, DERIVED, JSON_COLUMNS, KEYS, practice_record, record_value

CREATE, UPDATE, UNCHANGED, SKIP = "create", "update", "unchanged", "skip"
CHUNK_SIZE = 500  # codes or slugs per bulk query
# Rows read, checked and written together: the lookups are per batch, and memory
# holds one batch (its records, forms' values and stored practices).
BATCH_SIZE = 200
FIRST_YEAR, LAST_YEAR = 1900, 2100  # a plausible range for a practice's years
# Every key of a record (JSON shape); the derived ones are accepted and ignored.
FIELDS = [name for name in JSON_COLUMNS if name not in DERIVED]
KINDS = {c.name: c.kind for c in COLUMNS}
NOUNS = {  # what a record's codes for each relation are called
    "countries": "country code",
    "regions": "NUTS region code",
    "themes": "theme",
    "instruments": "instrument type",
    "project": "project",
}
# The permission a curator needs to add a practice in a status other than draft.
NEEDED = {"in_review": "submit", "published": "publish", "archived": "publish"}
# Whether and since when a practice is published: read from the file only when the
# import keeps the file's statuses (keep_status); else publishing is the workflow's.
PUBLICATION = {"status", "published_on"}
# Years and dates that, when both are given, are in this order (model constraints).
IN_ORDER = [("start_year", "end_year"), ("last_verified_on", "review_by")]


def _show(value):
    """A value as a problem quotes it: 'text' (shortened), or its JSON kind."""
    if isinstance(value, str):
        return f"'{value[:60]}…'" if len(value) > 60 else f"'{value}'"
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    if isinstance(value, int | float):
        return f"the number {value}"
    return "a list" if isinstance(value, list) else "an object"


def _codes(value):
    return value if isinstance(value, list) else [value] if value else []


class FlagField(forms.Field):
    """true or false, in any case (JSON's true and false too); empty is false."""

    def to_python(self, value):
        flag = "false" if value in self.empty_values else str(value).strip().lower()
        if flag not in ("true", "false"):
            raise ValidationError("Enter true or false.", code="invalid")
        return flag == "true"


class FactNamesField(forms.MultipleChoiceField):
    """Names of a practice's facts (Practice.UNCERTAIN_FIELDS), each kept once."""

    def __init__(self, what):
        super().__init__(
            choices=Practice.UNCERTAIN_CHOICES,
            required=False,
            error_messages={
                "invalid_choice": f"%(value)r cannot be {what} (the fields that can: "
                f"{', '.join(Practice.UNCERTAIN_FIELDS)})"
            },
        )

    def clean(self, value):
        return list(dict.fromkeys(super().clean(value)))


class SourceForm(forms.Form):
    url = forms.CharField(
        label="URL", max_length=500, validators=[URLValidator(["http", "https"])]
    )
    title = PracticeSource._meta.get_field("title").formfield(label="title")


class SourcesField(forms.Field):
    """A record's sources: a list of {"url", "title"} objects, each URL once. Its
    errors are whole problems (code "problem"), one per bad source."""

    def to_python(self, value):
        if value in (None, ""):
            return []
        if not isinstance(value, list):
            raise ValidationError(
                f"sources must be a list, not {_show(value)}", "problem"
            )
        sources, problems, first = [], [], {}
        for n, source in enumerate(value, 1):
            if not isinstance(source, dict) or not all(
                key in SourceForm.base_fields and isinstance(text, str | None)
                for key, text in source.items()
            ):
                problems.append(f"source {n} must be an object with a url and a title")
                continue
            form = SourceForm(source)
            problems += [
                f"source {n} has no {form.fields[name].label}"
                if error.code == "required"
                else f"source {n} {name}: {' '.join(error.messages)}"
                for name, errors in form.errors.as_data().items()
                for error in errors
            ]
            if (url := form.cleaned_data.get("url")) in first:
                problems.append(f"source {n} repeats the URL of source {first[url]}")
            elif url:
                first[url] = n
            sources.append(form.cleaned_data)
        if problems:
            raise ValidationError([ValidationError(p, "problem") for p in problems])
        return sources


class PracticeRecordForm(forms.ModelForm):
    """One record as a practice holds it. `fields`: those the record gives (the
    others keep what is stored). Codes and slugs name reference rows, found in
    `found` ({field: {code: row}}): the rows read once for a batch of records."""

    status = forms.TypedChoiceField(
        choices=Status.choices, required=False, empty_value=Status.DRAFT
    )
    published_on, last_verified_on, review_by = (
        forms.DateField(input_formats=["%Y-%m-%d"], required=False) for _ in "123"
    )
    start_year, end_year = (
        forms.IntegerField(min_value=FIRST_YEAR, max_value=LAST_YEAR, required=False)
        for _ in "12"
    )
    still_running = FlagField(required=False)
    countries, regions, themes, instruments, project = (
        forms.Field(required=False) for _ in KEYS
    )
    uncertain_fields = FactNamesField("flagged as unconfirmed")
    declared_none = FactNamesField("declared unpublished")
    sources = SourcesField(required=False)
    field_order = FIELDS

    class Meta:
        model = Practice
        # Not status and project, which clean() sets: the model would check a
        # status change (a workflow move only when written: _check_write) and
        # look the project up with a query per row. Sources are not a field.
        fields = [n for n in FIELDS if n not in ("status", "project", "sources")]

    def __init__(self, data, *, instance, fields, found):
        super().__init__(data, instance=instance)
        self.found = found
        for name in set(self.fields) - set(fields):
            del self.fields[name]

    def clean_slug(self):
        if (slug := self.cleaned_data["slug"]) in RESERVED_SLUGS:
            reason = f"slug {_show(slug)} is the address of a page of the site"
            raise ValidationError(f"{reason}: choose another", "problem")
        return slug

    def clean(self):
        # Not ModelForm.clean(), which checks unique fields and constraints with
        # queries per row: slugs are looked up in bulk, the database does the rest.
        data = self.cleaned_data
        for name in [name for name in KEYS if name in data]:
            found, codes = self.found[name], _codes(data[name])
            if missing := [code for code in codes if code not in found]:
                noun = NOUNS[name] + ("s" if len(missing) > 1 else "")
                self.add_error(name, f"unknown {noun} {', '.join(map(_show, missing))}")
            else:
                data[name] = [found[code] for code in codes]
        if "project" in data:
            data["project"] = next(iter(data["project"]), None)
        for name in [name for name in ("status", "project") if name in data]:
            setattr(self.instance, name, data[name])
        return data


# How a form's error reads in a problem: by its code, or for a value that cannot be
# read, by its kind (records.KINDS); else the field's name and Django's words.
MESSAGES = {
    "required": "{name} is missing: every record needs one",
    "max_length": "{name} is {show_value} characters long; at most {limit_value} "
    "are allowed",
    "min_value": f"{{name}} {{value}} is not a year between {FIRST_YEAR} and "
    f"{LAST_YEAR}",
}
MESSAGES["max_value"] = MESSAGES["min_value"]
INVALID = {
    "year": "is not a year",
    "date": "is not a date (YYYY-MM-DD)",
    "flag": "is not true or false",
    "choice": "is not one of: {allowed}",
    "slug": "is not a valid slug: use lower-case letters, digits and hyphens only",
}


def _reason(form, name, error, value):
    if error.code == "problem":  # the field's own words, a whole problem
        return error.message
    if error.code in MESSAGES:
        return MESSAGES[error.code].format(name=name, **(error.params or {}))
    if error.code in ("invalid", "invalid_choice") and KINDS[name] in INVALID:
        choices = getattr(form.fields[name], "choices", [])
        allowed = ", ".join(str(key) for key, _ in choices if key)
        return f"{name} {_show(value)} {INVALID[KINDS[name]].format(allowed=allowed)}"
    return f"{name}: {' '.join(error.messages)}"


@dataclass
class Action:
    """A row, its problems, and what importing it does (`kind`). `data`: the
    form's data (None if the row is not a record); `was`: the stored record;
    `practice` and `values`: the form's instance and cleaned data (not the form,
    which takes ten times the memory of its row). Kept until its batch is done."""

    line: int
    slug: str = ""
    data: dict | None = None
    problems: list = field(default_factory=list)
    kind: str = ""
    differs: list = field(default_factory=list)  # fields that differ from `was`
    practice: Practice | None = None
    values: dict = field(default_factory=dict)
    was: dict = field(default_factory=dict)

    failed = property(lambda self: {problem.field for problem in self.problems})

    def add(self, name, reason):
        self.problems.append(Problem(reason, self.line, self.slug, name))


@dataclass
class Report:
    """What an import did, or would do (dry run), or why it did nothing. Counts of
    everything; of the problems and the practices, only the first MAX_SHOWN of each
    kind are kept, so that a report of any file stays small."""

    name: str = ""
    rows: int = 0
    problems: list = field(default_factory=list)  # in file order
    problem_rows: int = 0  # rows with at least one problem
    dry_run: bool = False
    keep_status: bool = False
    problem_counts: Counter = field(default_factory=Counter)  # by field (kind)
    counts: Counter = field(default_factory=Counter)  # rows by action kind
    # (slug, pk, the fields that differ from the catalogue) by action kind
    practices: dict = field(default_factory=lambda: defaultdict(list))

    ok = property(lambda self: not self.problems)
    writes = property(lambda self: self.counts[CREATE] + self.counts[UPDATE])
    problem_count = property(lambda self: self.problem_counts.total())
    created = property(lambda self: self.slugs(CREATE))
    updated = property(lambda self: self.slugs(UPDATE))
    unchanged = property(lambda self: self.slugs(UNCHANGED))
    skipped = property(lambda self: self.slugs(SKIP))

    def __post_init__(self):
        problems, self.problems = self.problems, []
        for problem in problems:
            self.add_problem(problem)

    def add_problem(self, problem):
        # Those about a whole row or an unknown field count as one kind.
        kind = problem.field if problem.field in KINDS else ""
        self.problem_counts[kind] += 1
        if self.problem_counts[kind] <= MAX_SHOWN:
            self.problems.append(problem)

    def add(self, action):
        """Count a checked (and written, if it was) row."""
        for problem in action.problems:
            self.add_problem(problem)
        if action.problems:
            self.problem_rows += 1
            self.counts.clear()  # a file with problems imports nothing
            self.practices.clear()
        elif self.ok:
            self.counts[action.kind] += 1
            if self.counts[action.kind] <= MAX_SHOWN:
                listed = (action.slug, action.practice.pk, action.differs)
                self.practices[action.kind].append(listed)

    def slugs(self, kind):
        return [slug for slug, *_ in self.practices[kind]]

    def more(self, kind):
        """How many practices of this kind are not listed."""
        return self.counts[kind] - len(self.practices[kind])

    @property
    def notes(self):
        """For each kind of problem with more than are listed, how many more."""
        return [
            f"and {count - MAX_SHOWN:,} more problem{pluralize(count - MAX_SHOWN)} "
            f"with {kind or 'whole rows or unknown fields'} (only the first "
            f"{MAX_SHOWN} are listed)"
            for kind, count in self.problem_counts.items()
            if count > MAX_SHOWN
        ]

    @property
    def summary(self):
        would = "would be " if self.dry_run else ""
        created, updated, unchanged, skipped = (
            self.counts[kind] for kind in (CREATE, UPDATE, UNCHANGED, SKIP)
        )
        return (
            f"{created} {would}created, {updated} {would}updated, "
            f"{unchanged} unchanged, {skipped} skipped"
        )


def import_practices(
    file,
    name,
    *,
    update=False,
    dry_run=False,
    keep_status=False,
    gate=True,
    user=None,
    progress=None,
    max_writes=None,
):
    """Read and check the file `file` (a binary file, or its bytes) called `name`,
    a batch of rows at a time, and unless dry_run write each batch, in one
    transaction, undone if any row has a problem: from the first, nothing more is
    written but every row is still checked. `keep_status`: take each row's status
    and published_on from the file (else new rows are drafts and stored ones keep
    theirs); a new published row must pass the publishing gate unless not `gate`
    (only the catalogue loader: creating is not a move). `user`: the admin's
    curator, whose permissions are checked (None: manage.py, trusted).
    `progress(rows)`: called after each batch. `max_writes`: more writes than this
    are a problem."""
    report = Report(name, dry_run=dry_run, keep_status=keep_status)
    options = {"update": update, "keep_status": keep_status, "gate": gate}
    # How many rows may be written: none in a dry run.
    limit = 0 if dry_run else math.inf if max_writes is None else max_writes
    try:
        with transaction.atomic():
            _run(report, file, options, user, progress, limit)
            over = not dry_run and report.writes > limit
            transaction.set_rollback(over or not report.ok)
    except FileProblems as error:
        return Report(
            name, problems=list(error.args), dry_run=dry_run, keep_status=keep_status
        )
    except IntegrityError as error:  # e.g. a curator added one of the slugs
        reason = (
            f"the catalogue changed during the import ({error}); nothing was "
            "imported. Import the file again."
        )
    except DatabaseError as error:  # a value the database refuses
        reason = f"the database refused the import ({error}); nothing was imported."
    else:
        if not over or not report.ok:
            return report
        reason = (
            f"this file would create or update {report.writes} practices, and at "
            f"most {max_writes} can be written here at a time; nothing was "
            "imported. Split the file, or import it with manage.py import_practices."
        )
    return Report(name, report.rows, [Problem(reason)], keep_status=keep_status)


def _run(report, file, options, user, progress, limit):
    """Check the file a batch at a time (`options`: validate()'s); write each batch
    while no row has had a problem and at most `limit` rows are to be written. The
    history records `user` and "Imported from <name>" with each version."""
    first, reason = {}, f"Imported from {report.name}"[:100]  # history's field
    for rows in batched(read_file(file, report.name), BATCH_SIZE):
        report.rows += len(rows)
        actions = validate(rows, first, user=user, **options)
        writes = [action for action in actions if action.kind in (CREATE, UPDATE)]
        if (
            report.ok
            and not any(action.problems for action in actions)
            and report.writes + len(writes) <= limit
        ):
            for action in writes:
                _write(action, user, reason)
        for action in actions:  # then only its slug and kind are kept
            report.add(action)
            if action.practice is not None:
                # Prefetched sources point back at their practice: a cycle the
                # collector frees late. Broken, the batch is freed once done.
                action.practice._prefetched_objects_cache = {}
        if progress:
            progress(report.rows)


def validate(rows, first, *, update=False, keep_status=False, gate=True, user=None):
    """Check a batch of rows; return their actions, each with its problems.
    `first`: the line of each slug read so far in the file (updated)."""
    ignored = set() if keep_status else PUBLICATION
    actions = [_prepare(row, ignored) for row in rows]
    found, stored = _look_up([action.data for action in actions if action.data])
    for action in actions:
        if action.data is None:
            continue
        if action.slug in first:  # a row that may be written already: not compared
            again = f"appears again (first on line {first[action.slug]})"
            action.add("slug", f"slug '{action.slug}' {again}")
            continue
        _check(action, stored.get(action.data.get("slug")), found, update)
        if action.slug and "slug" not in action.failed:
            first[action.slug] = action.line
        if not action.problems:
            _check_write(action, user, gate)
    return actions


def _prepare(row, ignored):
    """The row as form data, after the checks a form cannot make: unknown keys,
    values of the wrong JSON type, strings the database cannot hold (which must
    never reach a query). A value with a problem is left out of the data, and so
    are the `ignored` fields."""
    record = row.record
    slug = record.get("slug") if isinstance(record, dict) else None
    action = Action(row.line, slug[:120] if isinstance(slug, str) else "")
    if row.error:
        action.add("", row.error)
    elif not isinstance(record, dict):
        action.add("", f"the record is not an object with fields ({_show(record)})")
    else:
        for name in sorted(set(record) - set(FIELDS) - DERIVED):
            action.add(name, f"unknown field “{name}” (see the fields on /data/)")
        action.data = {}
        for name in [n for n in FIELDS if n in record and n not in ignored]:
            try:
                action.data[name] = _value(name, record[name])
            except ValueError as error:
                action.add(name, f"{name} {error}")
    return action


def _value(name, value):
    """`value` as the form takes it; ValueError says what is wrong with it."""
    for item in value if isinstance(value, list) else [value]:
        for text in item.values() if isinstance(item, dict) else [item]:
            if isinstance(text, str) and (found := UNSAFE.search(text)):
                what = f"a lone surrogate ({found.group()}), which is not a character"
                if found.group() == "\x00":
                    what = "a NUL character"
                raise ValueError(f"contains {what}: the catalogue cannot store it")
    if KINDS[name] == "codes" and value not in (None, ""):
        if not isinstance(value, list) or not all(
            isinstance(code, str) and code.strip() for code in value
        ):
            raise ValueError(f"must be a list of codes, not {_show(value)}")
        upper = name in ("countries", "regions")  # ISO and NUTS codes
        return [code.strip().upper() if upper else code.strip() for code in value]
    if value is not None and not isinstance(value, str):
        if KINDS[name] not in ("year", "flag", "sources"):
            raise ValueError(f"must be text, not {_show(value)}")
    return value.strip() if name == "project" and value else value


def _look_up(records):
    """The reference rows the records name and the stored practices with their
    slugs: a query per kind (per CHUNK_SIZE codes) for a batch, not per row."""

    def read(queryset, key, values):
        return {
            getattr(row, key): row
            for chunk in batched(sorted(values), CHUNK_SIZE)
            for row in queryset.filter(**{f"{key}__in": chunk})
        }

    found = {}
    for name, key in KEYS.items():
        model = Practice._meta.get_field(name).related_model
        codes = {code for record in records for code in _codes(record.get(name))}
        found[name] = read(model.objects, key, codes)
    slugs = {r["slug"] for r in records if isinstance(r.get("slug"), str)}
    return found, read(Practice.objects.for_export(), "slug", slugs)


def _check(action, practice, found, update):
    """Check a row with the form and the rules between its fields (on the record
    as it would be stored); decide what importing it does."""
    data = action.data
    if practice is not None:  # its record, before the form changes it
        action.was = practice_record(practice, absolute_url=str)
    fields = [*data, "slug"] if practice else set(FIELDS) - action.failed
    form = PracticeRecordForm(
        data, instance=practice or Practice(), fields=fields, found=found
    )
    for name, errors in form.errors.as_data().items():
        for error in errors:
            action.add(name, _reason(form, name, error, data.get(name)))
    action.practice, action.values = form.instance, form.cleaned_data
    # A form and its bound fields are a cycle, which would keep the row's values
    # until the collector comes by: broken, they go with the row's batch.
    form._bound_fields_cache.clear()
    new = {name: record_value(name, value) for name, value in action.values.items()}
    failed, record = action.failed, form.instance
    if record.status in (Status.PUBLISHED, Status.ARCHIVED) and not (
        record.published_on or failed & {"status", "published_on"}
    ):
        reason = f"status '{record.status}' needs a published_on date (YYYY-MM-DD)"
        action.add("published_on", reason)
    for earlier, later in IN_ORDER:
        first, then = getattr(record, earlier), getattr(record, later)
        if first and then and then < first and not failed & {earlier, later}:
            action.add(later, f"{later} {then} is before {earlier} {first}")
    if practice is not None:
        action.differs = [n for n, value in new.items() if value != action.was[n]]
    if practice is None:
        action.kind = CREATE
    elif not action.differs:
        action.kind = UNCHANGED
    else:
        action.kind = UPDATE if update else SKIP


# The relations the publishing gate asks about (Practice.publication_gaps).
GATED = ["sources", "themes", "instruments", "countries", "regions"]


def _check_sources_kept(action):
    """A source an outcome figure rests on cannot be removed by an import: the
    figure would lose its source. (A query only when the file drops a source.)"""
    if "sources" not in action.values:
        return
    kept = {source["url"] for source in action.values["sources"]}
    dropped = {s["url"] for s in action.was.get("sources", [])} - kept
    cited = OutcomeFigure.objects.filter(
        practice=action.practice, source__url__in=dropped
    )
    if dropped and (urls := sorted(set(cited.values_list("source__url", flat=True)))):
        action.add(
            "sources",
            f"sources: {', '.join(urls)} cannot be removed: outcome figures rest "
            "on it (change those figures in the admin first)",
        )


def _check_write(action, user, gate=True):
    """What is written: a status change must be a workflow move (the model's
    rule), a new published row must pass the publishing gate (if `gate`), and a
    curator (the admin's `user`) may write only what the admin's forms would let
    them. The command (user None) is trusted, as loaders are."""
    practice, creating = action.practice, action.kind == CREATE
    if action.kind == UPDATE:
        _check_sources_kept(action)
    # The gate sees the relations as the file leaves them (written later).
    given = {name: bool(action.values[name]) for name in GATED if name in action.values}
    published = creating and gate and practice.status == Status.PUBLISHED
    if action.kind == UPDATE or published:
        try:
            if creating:
                check_publishable(practice, field="status", relations=given)
            else:
                check_status_change(practice, relations=given)
        except ValidationError as error:
            action.add("status", f"status: {' '.join(error.messages)}")
            return
    if user is None or action.kind not in (CREATE, UPDATE):
        return
    if not user.has_perm(perm(Practice, "add" if creating else "change")):
        action.add("", f"you may not {'add' if creating else 'change'} practices")
        return
    status, before = practice.status, action.was.get("status")
    needed = NEEDED.get(status) if creating else None
    if needed and not user.has_perm(perm(Practice, needed)):
        reason = f"you may not add a practice as {status}: that needs the permission"
        action.add("status", f"{reason} to {needed} (add it as a draft)")
    elif (move := move_between(before, status)) and not may(user, practice, move):
        reason = f"(status {label(before)} → {label(status)})"
        action.add("status", f"you may not make the move “{move.label}” {reason}")
    elif record_value("published_on", practice.published_on) != action.was.get(
        "published_on"
    ) and not user.has_perm(perm(Practice, "publish")):  # as in the admin
        action.add("published_on", "you may not set publication dates (published_on)")


def _write(action, user, reason):
    practice, values = action.practice, action.values
    creating = practice.pk is None
    # One version in the history per record, saying who and why: simple-history
    # would add one for the new row and one per relation set, so those are not
    # recorded, and the last save records the record with all its relations.
    practice._history_user, practice.skip_history_when_saving = user, True
    try:
        if creating:
            practice.save()
        for relation in Practice._meta.many_to_many:  # those the file gives
            if relation.name in values:  # as the form's save_m2m() would
                relation.save_form_data(practice, values[relation.name])
        sources = values.get("sources")  # None: left out
        if sources is not None and sources != action.was.get("sources", []):
            # Matched on their URL: a source kept keeps what rests on it (the
            # evidence grade, outcome figures); _check_sources_kept() made sure
            # that no figure rests on one removed.
            kept = {} if creating else {s.url: s for s in practice.sources.all()}
            for position, values in enumerate(sources):
                source = kept.pop(values["url"], None) or PracticeSource(
                    practice=practice
                )
                if source.pk and (source.title, source.position) == (
                    values["title"],
                    position,
                ):
                    continue
                source.title, source.url, source.position = (
                    values["title"],
                    values["url"],
                    position,
                )
                source._history_user, source._change_reason = user, reason
                source.save()
            for source in kept.values():
                source._history_user, source._change_reason = user, reason
                source.delete()
    finally:
        del practice.skip_history_when_saving
    practice._change_reason = reason
    if creating:
        practice.save(update_fields=["updated_at"])
        # That version is the record's first: label it "Created", as the admin's.
        Practice.history.filter(id=practice.pk).update(history_type="+")
    else:
        practice.save()
