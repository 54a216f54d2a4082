"""Bulk import of practices from the CSV and JSON the exports write: the one code
path of `manage.py import_practices` and of the admin's import page.

    report = import_practices(data, "practices.csv", update=False, dry_run=False)

1. read_file (import_files.py): the records, each with the line it starts on.
2. validate: every row is checked (import_checks.py) and every problem collected,
   with its line and reason; the reference rows (countries, regions, themes,
   instrument types, projects) and the stored practices are read in a few bulk
   queries, whatever the number of rows. The plan says, per row: create, update,
   unchanged (the catalogue holds the same record) or skip (the stored record
   differs: curators' edits are kept unless `update` is given).
3. apply: the plan in one transaction. Any problem in any row, and nothing is
   written; an error while writing rolls everything back.

Import matches records on slug, so importing the same file twice changes nothing
the second time. It never creates reference rows: an unknown code is a problem.

A column the CSV does not have, or a key a JSON record does not have, means "keep
what is stored" when the record updates a practice (and "empty" when it creates
one): only the fields the file gives are compared with the stored practice and
written, relations and sources included. An empty cell or value, present in the
file, means empty.
"""

from dataclasses import dataclass, field
from itertools import islice

from django.db import DatabaseError, IntegrityError, transaction

from practices.models import Practice, PracticeSource, Status
from publishing.workflow import label, may, move_between, moves_from, perm

from .import_checks import (
    FIELDS,
    REFERENCES,
    RELATIONS,
    check_model,
    check_record,
    check_references,
    complete,
    model_values,
    relations,
)
from .import_files import FileProblems, Problem, Row, read_file
from .records import DERIVED, practice_record

__all__ = ["Problem", "Row", "apply", "import_practices", "read_file", "validate"]

CREATE, UPDATE, UNCHANGED, SKIP = "create", "update", "unchanged", "skip"
CHUNK_SIZE = 500  # codes or slugs per bulk query
PUBLISH = perm(Practice, "publish")


@dataclass
class Action:
    kind: str  # CREATE, UPDATE, UNCHANGED or SKIP
    line: int
    slug: str
    record: dict  # the normalised record (import_checks), complete
    practice: Practice | None = None  # the stored practice, if the slug exists
    fields: frozenset = frozenset(FIELDS)  # those to write: the file's, on update


@dataclass
class Report:
    """What an import did, or would do (dry run), or why it did nothing."""

    name: str
    rows: int = 0
    problems: list = field(default_factory=list)  # sorted by line
    problem_rows: int = 0  # rows with at least one problem
    created: list = field(default_factory=list)  # slugs, in file order
    updated: list = field(default_factory=list)
    unchanged: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    ids: dict = field(default_factory=dict)  # slug -> pk of each stored practice
    dry_run: bool = False

    @property
    def ok(self):
        return not self.problems


@dataclass
class Plan:
    rows: int
    actions: list
    problems: list
    problem_rows: int
    found: dict  # {reference column: {code: row}}

    def report(self, name, dry_run=False):
        report = Report(
            name=name,
            rows=self.rows,
            problems=self.problems,
            problem_rows=self.problem_rows,
            dry_run=dry_run,
        )
        lists = {
            CREATE: report.created,
            UPDATE: report.updated,
            UNCHANGED: report.unchanged,
            SKIP: report.skipped,
        }
        for action in self.actions:
            lists[action.kind].append(action.slug)
            if action.practice is not None and action.practice.pk:
                report.ids[action.slug] = action.practice.pk
        return report


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
    if plan.problems or dry_run:
        return plan.report(name, dry_run)
    writes = sum(1 for action in plan.actions if action.kind in (CREATE, UPDATE))
    if max_writes is not None and writes > max_writes:
        reason = (
            f"this file would create or update {writes} practices, and at most "
            f"{max_writes} can be written here at a time; nothing was imported. "
            "Split the file, or import it with manage.py import_practices."
        )
        return Report(
            name=name, rows=plan.rows, problems=[Problem(None, "", "", reason)]
        )
    try:
        return apply(plan, name=name, user=user, progress=progress)
    except IntegrityError as error:
        # Something changed between validation and writing (e.g. a curator added
        # a practice with one of the file's slugs): all of it was rolled back.
        reason = (
            f"the catalogue changed during the import ({error}); nothing was "
            "imported. Import the file again."
        )
    except DatabaseError as error:
        # A value the checks let through and the database refuses: a problem
        # to report, not a server error. All of it was rolled back.
        reason = f"the database refused the import ({error}); nothing was imported."
    return Report(name=name, rows=plan.rows, problems=[Problem(None, "", "", reason)])


def validate(rows, *, update=False, user=None, progress=None):
    """Check every row; return the Plan (with all problems, sorted by line)."""
    checked = [check_record(row) for row in rows]
    found, stored = _look_up(checked)  # only the values that passed the checks
    _check_repeated_slugs(checked)
    actions = []
    for done, row in enumerate(checked, 1):
        practice = stored.get(row.record.get("slug"))  # if its slug was looked up
        was = stored_record(practice) if practice is not None else None
        if row.record:
            check_references(row, found)
            complete(row, was)  # the fields the file leaves out, from `was`
            check_model(row, found)
        if not row.problems:
            action = _action(row, practice, was, update)
            _check_write(row, action, was, user)
            actions.append(action)
        if progress:
            progress(done, len(checked), "Validating")
    problems = sorted(
        (p for row in checked for p in row.problems), key=lambda p: p.line
    )
    return Plan(
        rows=len(rows),
        actions=[] if problems else actions,
        problems=problems,
        problem_rows=sum(1 for row in checked if row.problems),
        found=found,
    )


def _check_repeated_slugs(checked):
    first = {}
    for row in checked:
        slug = row.record.get("slug")
        if slug and slug in first:
            row.problem(
                "slug", f"slug '{slug}' appears again (first on line {first[slug]})"
            )
        elif slug:
            first[slug] = row.line


def _look_up(checked):
    """The reference rows every record names and the stored practices with the
    file's slugs: a query per kind (per CHUNK_SIZE codes), not per row."""
    found = {}
    for name, reference in REFERENCES.items():
        codes = {
            code
            for row in checked
            if not row.reported(name)
            for code in row.codes(name)
        }
        found[name] = {
            getattr(obj, reference.key): obj
            for chunk in _chunks(codes)
            for obj in reference.model.objects.filter(**{f"{reference.key}__in": chunk})
        }
    slugs = {
        row.record["slug"]
        for row in checked
        if row.record.get("slug") and not row.reported("slug")
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
    """A stored practice as a normalised record, for comparison with the file's."""
    record = practice_record(practice, absolute_url=str)
    return {name: value for name, value in record.items() if name not in DERIVED}


def _action(row, practice, was, update):
    """What to do with a checked row; `was` is the stored practice's record. The
    row's record is complete (the fields the file leaves out are `was`'s): it
    equals `was` exactly when the fields the file gives do."""
    if practice is None:
        return Action(CREATE, row.line, row.slug, row.record)
    kind = UNCHANGED if was == row.record else UPDATE if update else SKIP
    return Action(kind, row.line, row.slug, row.record, practice, row.provided)


def _check_write(row, action, was, user):
    """The rules for a row that will be written: a status change must be a move
    of the curation workflow, and a curator (the admin) needs the permissions
    the admin's own forms would ask for. The command (user None) is trusted, as
    the content loader is."""
    if action.kind == UPDATE and action.practice.status != action.record["status"]:
        _check_move(row, action.practice, action.record["status"], user)
    if user is None:
        return
    if action.kind == CREATE:
        _check_create(row, action.record, user)
    elif action.kind == UPDATE:
        if not user.has_perm(perm(Practice, "change")):
            row.problem("", "you may not change practices")
        stored_date = was["published_on"]
        if action.record["published_on"] != stored_date and not user.has_perm(PUBLISH):
            # As in the admin, where only reviewers may set a publication date.
            row.problem(
                "published_on", "you may not change publication dates (published_on)"
            )


def _check_move(row, practice, status, user):
    before = practice.status
    move = move_between(before, status)
    if move is None:
        moves = ", ".join(
            f"{m.label.lower()} ({label(m.target)})" for m in moves_from(before)
        )
        row.problem(
            "status",
            f"status cannot go from {label(before)} to {label(status)}: that is "
            f"not a move of the curation workflow (from {label(before)}: {moves})",
        )
    elif user is not None and not may(user, practice, move):
        row.problem(
            "status",
            f"you may not make the move “{move.label}” (status {label(before)} → "
            f"{label(status)})",
        )


def _check_create(row, record, user):
    """A new record may start in any status (as the loaders' may), but a curator
    adds a published or archived one only with the permission to publish, and
    one in review only with the permission to submit. A publication date, too,
    needs the permission to publish, as in the admin (where the field is
    read-only without it)."""
    status = record["status"]
    if not user.has_perm(perm(Practice, "add")):
        row.problem("", "you may not add practices")
        return
    if status in (Status.PUBLISHED, Status.ARCHIVED) and not user.has_perm(PUBLISH):
        row.problem(
            "status",
            f"you may not add a practice as {status}: that needs the permission "
            "to publish (add it as a draft)",
        )
    elif status == Status.IN_REVIEW and not user.has_perm(perm(Practice, "submit")):
        row.problem("status", "you may not submit practices for review")
    if (
        record["published_on"]
        and not user.has_perm(PUBLISH)
        and not row.reported("status")  # said already: a published record's date
    ):
        row.problem(
            "published_on",
            "you may not set publication dates (published_on): leave it empty",
        )


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
            action.practice = _write(action, plan.found, user, reason)
            if progress:
                progress(done, len(writes), "Importing")
    return plan.report(name)


def _write(action, found, user, reason):
    practice = action.practice or Practice()
    creating = practice.pk is None
    given = action.fields  # on update, only what the file gives: the rest is kept
    for name, value in model_values(action.record, found).items():
        if name in given:
            setattr(practice, name, value)
    practice._history_user = user
    # One version in the history per imported record, saying who and why:
    # simple-history would add a version for the new row and another for each
    # relation set, so those are not recorded, and the last save records the
    # record with all its relations at once.
    practice.skip_history_when_saving = True
    try:
        if creating:
            practice.save()
        names = [name for name in RELATIONS if name in given]
        for name, rows in relations(action.record, found, names).items():
            getattr(practice, name).set(rows)
        if "sources" in given:
            _replace_sources(practice, action.record["sources"], user, reason, creating)
    finally:
        del practice.skip_history_when_saving
    practice._change_reason = reason
    if creating:
        practice.save(update_fields=["updated_at"])
        # That version is the record's first: label it "Created", as the admin's.
        Practice.history.filter(id=practice.pk).update(history_type="+")
    else:
        practice.save()
    return practice


def _replace_sources(practice, sources, user, reason, creating):
    """The sources in the file's order; left alone when they are the same."""
    current = [] if creating else list(practice.sources.all())
    if [{"url": s.url, "title": s.title} for s in current] == sources:
        return
    for source in current:
        source._history_user, source._change_reason = user, reason
        source.delete()
    for position, values in enumerate(sources):
        source = PracticeSource(practice=practice, position=position, **values)
        source._history_user, source._change_reason = user, reason
        source.save()
