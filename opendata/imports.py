"""Bulk import of practices from the CSV and JSON the exports write: the one code
path of `manage.py import_practices`, of the admin's import page and of the
catalogue content loader (practices.content).

    report = import_practices(data, "practices.csv", update=False, dry_run=False)

1. read_file (import_files.py): the records, each with the line it starts on.
2. validate: each record is checked by a ModelForm (PracticeRecordForm) and every
   problem collected with its line. The reference rows (countries, regions,
   themes, instrument types, projects) and the stored practices are read in a
   few bulk queries, whatever the number of rows. Per row, the plan says: create,
   update, unchanged (the catalogue holds the same record) or skip (the stored
   record differs: curators' edits are kept unless `update` is given).
3. apply: the plan in one transaction. Any problem in any row, and nothing is
   written; an error while writing rolls everything back.

Import matches records on slug, so importing the same file twice changes nothing
the second time. It never creates reference rows: an unknown code is a problem.

A column the CSV does not have, or a key a JSON record does not have, means "keep
what is stored" when the record updates a practice (the form then has no such
field) and "empty" when it creates one. An empty cell or value means empty.
"""

from dataclasses import dataclass, field
from itertools import islice

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import URLValidator
from django.db import DatabaseError, IntegrityError, transaction

from practices.models import (
    RESERVED_SLUGS,
    Country,
    InstrumentType,
    Practice,
    PracticeSource,
    Project,
    Region,
    Status,
    Theme,
)
from publishing.workflow import label, may, move_between, perm

from .import_files import UNSAFE, FileProblems, Problem, Row, about_the_file, read_file
from .records import COLUMNS, DERIVED, practice_record

__all__ = ["Problem", "Row", "apply", "import_practices", "read_file", "validate"]

CREATE, UPDATE, UNCHANGED, SKIP = "create", "update", "unchanged", "skip"
CHUNK_SIZE = 500  # codes or slugs per bulk query
PUBLISH = perm(Practice, "publish")
FIRST_YEAR, LAST_YEAR = 1900, 2100  # a plausible range for a practice's years

# Every key of a record, in the JSON shape; derived ones are accepted and ignored.
FIELDS = [c.name for c in COLUMNS if "json" in c.formats and not c.derived]
KINDS = {c.name: c.kind for c in COLUMNS}
MODEL_FIELDS = [name for name in FIELDS if name != "sources"]
RELATIONS = ["countries", "regions", "themes", "instruments"]
UNCERTAIN = [name for name, _ in Practice.UNCERTAIN_CHOICES]


# --- one record: a ModelForm ----------------------------------------------------------


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
    return ", ".join(map(_show, values))


class _LookedUp:
    """Codes matched against the rows read once for the whole file (the form's
    `found`: {field: {code: row}}), not with a query per row."""

    def __init__(self, model, key, noun):
        super().__init__(model.objects.all(), to_field_name=key, required=False)
        self.noun = noun

    def _clean_bound_field(self, bound):  # Field.clean, with the bound field
        value, found = self.prepare_value(bound.data), bound.form.found[bound.name]
        if value in self.empty_values:
            return self.rows([])
        if missing := [code for code in self.codes(value) if code not in found]:
            noun = self.noun + ("s" if len(missing) > 1 else "")
            raise ValidationError(f"unknown {noun} {_list(missing)}", code="unknown")
        return self.rows([found[code] for code in self.codes(value)])


class CodesField(_LookedUp, forms.ModelMultipleChoiceField):
    def codes(self, value):
        if not isinstance(value, list):
            raise ValidationError("", code="invalid_list")
        return value

    rows = staticmethod(list)


class CodeField(_LookedUp, forms.ModelChoiceField):
    codes = staticmethod(lambda value: [value])
    rows = staticmethod(lambda rows: rows[0] if rows else None)


class UncertainField(forms.MultipleChoiceField):
    def __init__(self):
        super().__init__(choices=Practice.UNCERTAIN_CHOICES, required=False)

    def clean(self, value):
        return list(dict.fromkeys(super().clean(value)))  # stored order, once each

    def validate(self, value):  # every unknown name, not only the first
        if unknown := [name for name in value if not self.valid_value(name)]:
            raise ValidationError(
                f"{_list(unknown)} cannot be flagged as unconfirmed (the fields "
                f"that can: {', '.join(UNCERTAIN)})",
                code="unknown",
            )


def _year():
    return forms.IntegerField(min_value=FIRST_YEAR, max_value=LAST_YEAR, required=False)


def _date():
    return forms.DateField(input_formats=["%Y-%m-%d"], required=False)


class PracticeRecordForm(forms.ModelForm):
    """One record's fields as a practice holds them. Codes and slugs name the
    reference rows (`to_field_name`); a blank status is a new record's draft."""

    status = forms.ChoiceField(choices=Status.choices, required=False)
    published_on, last_verified_on, review_by = _date(), _date(), _date()
    start_year, end_year = _year(), _year()
    still_running = forms.TypedChoiceField(
        choices=[("true", "true"), ("false", "false")],
        coerce="true".__eq__,
        empty_value=False,
        required=False,
    )
    countries = CodesField(Country, "code", "country code")
    regions = CodesField(Region, "code", "NUTS region code")
    themes = CodesField(Theme, "slug", "theme")
    instruments = CodesField(InstrumentType, "slug", "instrument type")
    project = CodeField(Project, "slug", "project")
    uncertain_fields = UncertainField()

    class Meta:
        model = Practice
        fields = MODEL_FIELDS

    def __init__(self, data, *, instance, fields, found, update):
        super().__init__(data, instance=instance)
        self.found, self.update = found, update
        for name in set(self.fields) - set(fields):
            del self.fields[name]  # left out of the file: the stored value stays

    def clean_slug(self):
        if self.cleaned_data["slug"] in RESERVED_SLUGS:  # said on the row
            raise ValidationError("", code="reserved")
        return self.cleaned_data["slug"]

    def clean_status(self):
        return self.cleaned_data["status"] or Status.DRAFT

    def clean(self):
        # No unique or constraint checks here (a query per row): the slugs were
        # looked up in bulk, and the database enforces the rest when writing.
        return self.cleaned_data

    def _get_validation_exclusions(self):
        # The model would check that the project exists, with a query per row:
        # CodeField found it among the rows read once for the file. A status
        # change must be a workflow move (the model's rule) only if written.
        exclude = super()._get_validation_exclusions() | {"project"}
        return exclude if self.update else exclude | {"status"}


class _Fields(dict):
    def __deepcopy__(self, memo):
        return dict(self)


# A form copies its fields for each instance, and a file has thousands of records:
# these fields are never changed by a form, so every form shares them.
PracticeRecordForm.base_fields = _Fields(PracticeRecordForm.base_fields)

# A source's fields (sources are rows of their own, replaced as a whole).
SOURCE_FIELDS = {
    "url": forms.CharField(
        max_length=500, validators=[URLValidator(schemes=["http", "https"])]
    ),
    "title": PracticeSource._meta.get_field("title").formfield(),
}


# How a form's error reads in a problem: by error code, and for invalid values by
# the kind of value (records.KINDS); `shown` is the value as the file gave it.
MESSAGES = {
    "required": "{name} is missing: every record needs one",
    "max_length": "{name} is {show_value} characters long; at most {limit_value} "
    "are allowed",
    "min_value": f"{{name}} {{value}} is not a year between {FIRST_YEAR} and "
    f"{LAST_YEAR}",
    "invalid_list": "{name} must be a list of codes, not {shown}",
    "reserved": "{name} {shown} is the address of a page of the site: choose another",
}
MESSAGES["max_value"] = MESSAGES["min_value"]
INVALID = {
    "year": "{name} {shown} is not a year",
    "date": "{name} {shown} is not a date (YYYY-MM-DD)",
    "flag": "{name} {shown} is not true or false",
    "choice": "{name} {shown} is not one of: {allowed}",
    "slug": "{name} {shown} is not a valid slug: use lower-case letters, digits "
    "and hyphens only",
}
SOURCE_MESSAGES = {
    ("url", "required"): "has no URL",
    ("url", "invalid"): "URL {shown} is not an http(s) address",
    ("title", "required"): "has no title",
}


def _errors(form):
    for name, errors in form.errors.as_data().items():
        for error in errors:
            yield ("" if name == NON_FIELD_ERRORS else name), error


def _reason(form, name, error, value, label=None):
    kind = KINDS.get(name)
    params = {"name": label or name, "shown": _show(value), **(error.params or {})}
    if error.code == "unknown":
        return f"{name}: {error.message}"
    if kind == "choice":
        params["allowed"] = ", ".join(k for k, _ in form.fields[name].choices if k)
    if error.code in ("invalid", "invalid_choice") and kind in INVALID:
        return INVALID[kind].format(**params)
    if error.code in MESSAGES:
        return MESSAGES[error.code].format(**params)
    # The model's own validation: Practice.clean(), the workflow's moves.
    return f"{label or name or 'record'}: {' '.join(error.messages)}"


def _sources(value):
    """A record's sources as (url, title) pairs, and the problems with them."""
    if value in (None, ""):
        return [], []
    if not isinstance(value, list):
        return [], [f"sources must be a list, not {_show(value)}"]
    sources, problems, first = [], [], {}
    for n, source in enumerate(value, 1):
        if not isinstance(source, dict):
            problems.append(f"source {n} must be an object with a url and a title")
            continue
        if unknown := sorted(set(source) - {"url", "title"}):
            problems.append(f"source {n} has unknown fields {_list(unknown)}")
        values = {key: source.get(key) or "" for key in ("url", "title")}
        if not all(isinstance(text, str) for text in values.values()):
            problems.append(f"source {n}: the url and title must be text")
            continue
        cleaned = {}
        for name, source_field in SOURCE_FIELDS.items():
            try:
                cleaned[name] = source_field.clean(values[name])
            except ValidationError as errors:
                value, label = values[name], "URL" if name == "url" else name
                for error in errors.error_list:
                    template = SOURCE_MESSAGES.get((name, error.code), "")
                    reason = template.format(shown=_show(value))
                    reason = reason or _reason(None, name, error, value, label)
                    problems.append(f"source {n} {reason}")
        url = cleaned.get("url")
        if url in first:
            problems.append(f"source {n} repeats the URL of source {first[url]}")
        elif url:
            first[url] = n
        sources.append((url, cleaned.get("title")))
    return sources, problems


# --- reading a row --------------------------------------------------------------------


@dataclass
class Checked:
    """A row and what is wrong with it; `data` is the form's data (None when the
    row is not a record at all)."""

    line: int
    slug: str = ""
    data: dict | None = None
    problems: list = field(default_factory=list)  # (field, reason)

    def add(self, name, reason):
        self.problems.append((name, reason))

    @property
    def failed(self):
        return {name for name, _ in self.problems}


def _unsafe(value):
    """What in `value` the database cannot hold (NUL, a lone surrogate), if any."""
    items = value if isinstance(value, list) else [value]
    for item in items:
        for text in item.values() if isinstance(item, dict) else [item]:
            if isinstance(text, str) and (found := UNSAFE.search(text)):
                character = found.group()
                if character == "\x00":
                    return "a NUL character"
                return f"a lone surrogate ({character}), which is not a character"
    return None


def _prepare(row):
    """The row as form data: JSON's values as the form reads them (CSV gives text
    already), after the checks forms cannot make: unknown fields, values of the
    wrong JSON type, strings the database cannot hold (never put in a query)."""
    record = row.record
    slug = record.get("slug") if isinstance(record, dict) else None
    checked = Checked(row.line, slug[:120] if isinstance(slug, str) else "")
    if row.error:
        checked.add("", row.error)
    elif not isinstance(record, dict):
        checked.add("", f"the record is not an object with fields ({_show(record)})")
    else:
        for name in sorted(set(record) - set(FIELDS) - DERIVED):
            checked.add(name, f"unknown field “{name}” (see the fields on /data/)")
        checked.data = {
            name: _value(checked, name, record[name])
            for name in FIELDS
            if name in record
        }
    return checked


def _value(checked, name, value):
    kind = KINDS[name]
    if what := _unsafe(value):
        reason = f"{name} contains {what}: the catalogue cannot store it"
    elif name == "sources" or kind == "year" or value in (None, ""):
        return value
    elif kind == "codes":
        if isinstance(value, list) and all(
            isinstance(code, str) and code.strip() for code in value
        ):
            upper = name in ("countries", "regions")  # ISO and NUTS codes
            return [code.strip().upper() if upper else code.strip() for code in value]
        reason = f"{name} must be a list of codes, not {_show(value)}"
    elif kind == "flag":
        return str(value).strip().lower()  # JSON's true is Python's True
    elif isinstance(value, str):
        return value.strip() if name == "project" else value
    elif kind == "date":
        reason = INVALID["date"].format(name=name, shown=_show(value))
    else:
        reason = f"{name} must be text, not {_show(value)}"
    checked.add(name, reason)
    return None


# --- the plan -------------------------------------------------------------------------


@dataclass
class Action:
    kind: str  # CREATE, UPDATE, UNCHANGED or SKIP
    line: int
    slug: str
    form: PracticeRecordForm  # valid; its instance holds the record's values
    sources: list | None  # (url, title) pairs; None: left out of the file
    was: dict | None  # the stored practice's values, comparable with the form's

    @property
    def practice(self):
        return self.form.instance


@dataclass
class Report:
    """What an import did, or would do (dry run), or why it did nothing."""

    name: str = ""
    rows: int = 0
    problems: list = field(default_factory=list)  # sorted by line
    problem_rows: int = 0  # rows with at least one problem
    actions: list = field(default_factory=list)  # in file order; none if problems
    dry_run: bool = False

    ok = property(lambda self: not self.problems)
    created = property(lambda self: self._slugs(CREATE))
    updated = property(lambda self: self._slugs(UPDATE))
    unchanged = property(lambda self: self._slugs(UNCHANGED))
    skipped = property(lambda self: self._slugs(SKIP))

    def _slugs(self, kind):
        return [action.slug for action in self.actions if action.kind == kind]

    @property
    def ids(self):
        """slug -> pk of each stored practice (the admin links to them)."""
        return {a.slug: a.practice.pk for a in self.actions if a.practice.pk}


def import_practices(
    data,
    name,
    *,
    update=False,
    dry_run=False,
    user=None,
    progress=None,
    max_writes=None,
):
    """Read, validate and (unless dry_run, and only when no row has a problem)
    apply the file `data` (bytes) called `name`. `user`: the admin's curator,
    whose permissions are checked row by row (None: manage.py, trusted).
    `progress(done, total, stage)` is called as rows are checked and written.
    `max_writes`: refuse (as a problem, writing nothing) a file that would create
    or update more practices than that."""
    try:
        rows = read_file(data, name)
    except FileProblems as error:
        return Report(name=name, problems=error.problems, dry_run=dry_run)
    plan = validate(rows, update=update, user=user, progress=progress)
    plan.name, plan.dry_run = name, dry_run
    if plan.problems or dry_run:
        return plan
    writes = sum(1 for action in plan.actions if action.kind in (CREATE, UPDATE))
    if max_writes is not None and writes > max_writes:
        reason = (
            f"this file would create or update {writes} practices, and at most "
            f"{max_writes} can be written here at a time; nothing was imported. "
            "Split the file, or import it with manage.py import_practices."
        )
    else:
        try:
            return apply(plan, name=name, user=user, progress=progress)
        except IntegrityError as error:
            # Something changed between validation and writing (e.g. a curator
            # added a practice with one of the file's slugs): all rolled back.
            reason = (
                f"the catalogue changed during the import ({error}); nothing was "
                "imported. Import the file again."
            )
        except DatabaseError as error:
            # A value the checks let through and the database refuses: a problem
            # to report, not a server error. All of it was rolled back.
            reason = f"the database refused the import ({error}); nothing was imported."
    return Report(name, plan.rows, [about_the_file(reason)])


def validate(rows, *, update=False, user=None, progress=None):
    """Check every row; return the plan: a Report with the actions to take, or
    with every problem (sorted by line) and no actions."""
    checked = [_prepare(row) for row in rows]
    found, stored = _look_up(checked)
    first, actions = {}, []
    for done, row in enumerate(checked, 1):
        if row.data is not None:
            action = _check(row, stored.get(row.data.get("slug")), found, update)
            if row.slug in first:
                again = f"appears again (first on line {first[row.slug]})"
                row.add("slug", f"slug '{row.slug}' {again}")
            elif row.slug and "slug" not in row.failed:
                first[row.slug] = row.line
            if not row.problems:
                _check_write(row, action, user)
                actions.append(action)
        if progress:
            progress(done, len(checked), "Validating")
    problems = sorted(
        (
            Problem(row.line, row.slug, *problem)
            for row in checked
            for problem in row.problems
        ),
        key=lambda problem: problem.line,
    )
    return Report(
        rows=len(rows),
        actions=[] if problems else actions,
        problems=problems,
        problem_rows=sum(1 for row in checked if row.problems),
    )


def _look_up(checked):
    """The reference rows the records name and the stored practices with the
    file's slugs: a query per kind (per CHUNK_SIZE codes), not per row."""
    found = {}
    for name in [*RELATIONS, "project"]:
        field = PracticeRecordForm.base_fields[name]
        codes = set()
        for row in checked:
            if row.data and name not in row.failed:
                value = row.data.get(name) or []
                codes.update(value if isinstance(value, list) else [value])
        key = field.to_field_name
        found[name] = {
            getattr(obj, key): obj
            for chunk in _chunks(codes)
            for obj in field.queryset.filter(**{f"{key}__in": chunk})
        }
    slugs = {
        row.data["slug"]
        for row in checked
        if row.data
        and isinstance(row.data.get("slug"), str)
        and "slug" not in row.failed
    }
    stored = {
        practice.slug: practice
        for chunk in _chunks(slugs)
        for practice in Practice.objects.for_export().filter(slug__in=chunk)
    }
    return found, stored


def _chunks(values):
    values = iter(sorted(values))
    while chunk := list(islice(values, CHUNK_SIZE)):
        yield chunk


def stored_record(practice):
    """A stored practice as a record (without the derived fields)."""
    record = practice_record(practice, absolute_url=str)
    return {name: value for name, value in record.items() if name not in DERIVED}


def _comparable(name, value):
    if name in RELATIONS:
        return sorted(
            row.pk for row in (value if isinstance(value, list) else value.all())
        )
    return value.pk if name == "project" and value else value


def _check(row, practice, found, update):
    """Check a row with the form; return its Action (to take if no problem)."""
    was = None
    if practice is not None:  # what is stored, before the form changes it
        was = {
            name: _comparable(name, getattr(practice, name)) for name in MODEL_FIELDS
        }
        was["sources"] = [(s.url, s.title) for s in practice.sources.all()]
    form = PracticeRecordForm(
        row.data,
        instance=practice or Practice(),
        fields=MODEL_FIELDS if practice is None else [*row.data, "slug"],
        found=found,
        update=update,
    )
    form.is_valid()
    failed = row.failed  # those values were never given to the form
    for name, error in _errors(form):
        if name not in failed:
            row.add(name, _reason(form, name, error, row.data.get(name)))
    new = {name: _comparable(name, value) for name, value in form.cleaned_data.items()}
    sources = None
    if "sources" in row.data and "sources" not in failed:
        sources, problems = _sources(row.data["sources"])
        new["sources"] = sources
        row.problems += [("sources", reason) for reason in problems]
    _check_together(row, form.instance)
    if practice is None:
        kind = CREATE
    elif all(new[name] == was[name] for name in new):
        kind = UNCHANGED
    else:
        kind = UPDATE if update else SKIP
    return Action(kind, row.line, row.slug, form, sources, was)


def _check_together(row, practice):
    """The rules between fields, on the record as it would be stored (the fields
    the file leaves out are the stored practice's)."""
    failed = row.failed
    status, published_on = practice.status, practice.published_on
    if status in (Status.PUBLISHED, Status.ARCHIVED) and not published_on:
        if not failed & {"status", "published_on"}:
            reason = f"status '{status}' needs a published_on date (YYYY-MM-DD)"
            row.add("published_on", reason)
    for earlier, later in [
        ("start_year", "end_year"),
        ("last_verified_on", "review_by"),
    ]:
        first, then = getattr(practice, earlier), getattr(practice, later)
        if first and then and then < first and not failed & {earlier, later}:
            row.add(later, f"{later} {then} is before {earlier} {first}")


def _check_write(row, action, user):
    """What a curator (the admin's `user`) may write: what the admin's own forms
    would let them. The command (user None) is trusted, as the content loader is.
    A status change must be a move of the workflow: the model says so (above)."""
    if user is None or action.kind not in (CREATE, UPDATE):
        return
    status, published_on = action.practice.status, action.practice.published_on
    if action.kind == UPDATE:
        if not user.has_perm(perm(Practice, "change")):
            row.add("", "you may not change practices")
        before = action.was["status"]
        move = move_between(before, status)
        if move is not None and not may(user, action.practice, move):
            row.add(
                "status",
                f"you may not make the move “{move.label}” (status {label(before)} "
                f"→ {label(status)})",
            )
        if published_on != action.was["published_on"] and not user.has_perm(PUBLISH):
            # As in the admin, where only reviewers may set a publication date.
            reason = "you may not change publication dates (published_on)"
            row.add("published_on", reason)
        return
    # A new record may start in any status (as the loaders' may), but a curator
    # adds a published or archived one only with the permission to publish, and
    # one in review only with the permission to submit. A publication date, too,
    # needs the permission to publish, as in the admin.
    if not user.has_perm(perm(Practice, "add")):
        row.add("", "you may not add practices")
        return
    if status in (Status.PUBLISHED, Status.ARCHIVED) and not user.has_perm(PUBLISH):
        row.add(
            "status",
            f"you may not add a practice as {status}: that needs the permission "
            "to publish (add it as a draft)",
        )
    elif status == Status.IN_REVIEW and not user.has_perm(perm(Practice, "submit")):
        row.add("status", "you may not submit practices for review")
    if published_on and not user.has_perm(PUBLISH) and "status" not in row.failed:
        reason = "you may not set publication dates (published_on): leave it empty"
        row.add("published_on", reason)


def apply(plan, *, name="a file", user=None, progress=None):
    """Write the plan's creates and updates in one transaction; return the Report.
    Refuses a plan with problems: an import is all or nothing. The history records
    `user` and "Imported from <name>" with each version."""
    if plan.problems:
        raise ValueError("This plan has problems: nothing may be written.")
    reason = f"Imported from {name}"[:100]  # the history's change reason field
    writes = [action for action in plan.actions if action.kind in (CREATE, UPDATE)]
    with transaction.atomic():
        for done, action in enumerate(writes, 1):
            _write(action, user, reason)
            if progress:
                progress(done, len(writes), "Importing")
    return plan


def _write(action, user, reason):
    practice = action.form.save(commit=False)
    creating = practice.pk is None
    practice._history_user = user
    # One version in the history per imported record, saying who and why:
    # simple-history would add a version for the new row and another for each
    # relation set, so those are not recorded, and the last save records the
    # record with all its relations at once.
    practice.skip_history_when_saving = True
    try:
        if creating:
            practice.save()
        action.form.save_m2m()  # the relations the file gives
        if action.sources is not None:
            _replace_sources(practice, action.sources, user, reason, creating)
    finally:
        del practice.skip_history_when_saving
    practice._change_reason = reason
    if creating:
        practice.save(update_fields=["updated_at"])
        # That version is the record's first: label it "Created", as the admin's.
        Practice.history.filter(id=practice.pk).update(history_type="+")
    else:
        practice.save()


def _replace_sources(practice, sources, user, reason, creating):
    """The sources in the file's order; left alone when they are the same."""
    current = [] if creating else list(practice.sources.all())
    if [(s.url, s.title) for s in current] == sources:
        return
    for source in current:
        source._history_user, source._change_reason = user, reason
        source.delete()
    for position, (url, title) in enumerate(sources):
        source = PracticeSource(
            practice=practice, position=position, url=url, title=title
        )
        source._history_user, source._change_reason = user, reason
        source.save()
