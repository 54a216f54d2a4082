"""What an alert's digest holds: the practices of its list that became public
between two moments, and those changed meanwhile with the facts that changed,
read from the practices' change history (django-simple-history).

The list's own rules select the practices (practices.listing.list_practices:
published() and the filters); this module only asks which of them are new or
changed. Its queries do not grow with the number of practices: the history
records at both moments and their relations are read for all of them at once.
"""

from dataclasses import dataclass, field

from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from practices.models import Practice, Status

# What a reader does not see as a change of the practice: its workflow and the
# curators' bookkeeping. Everything else tracked is a fact its page shows.
UNCHANGED = {
    "status",
    "published_on",
    "slug",
    "uncertain_fields",
    "declared_none",
    "last_verified_on",
    "review_by",
    "attribution",
}


@dataclass
class Entry:
    practice: Practice
    is_new: bool
    changed: list[str] = field(default_factory=list)  # field labels, if not new


def entries(practices, since, now):
    """Entry for each of `practices` (a queryset, e.g. a Listing's) that became
    public after `since`, or changed after it in a fact its page shows, as of
    `now`; new ones first, then changed ones, each by title."""
    since_day = timezone.localdate(since)
    candidates = list(
        practices.filter(Q(updated_at__gt=since) | Q(published_on__gt=since_day))
        .order_by()
        .only("pk", "slug", "title", "published_on", "created_at")
    )
    if not candidates:
        return []
    ids = [practice.pk for practice in candidates]
    before, after = records_at(ids, since), records_at(ids, now)
    relations = related_ids([*before.values(), *after.values()])
    found = []
    for practice in candidates:
        old, new = before.get(practice.pk), after.get(practice.pk)
        if practice.published_on > since_day or not was_public(old, since_day):
            # Without a record then, new only if it did not exist yet (a practice
            # inserted without history, e.g. in bulk, cannot say what changed).
            if old is not None or practice.created_at > since:
                found.append(Entry(practice, is_new=True))
        elif new is not None and (changed := changes(old, new, relations)):
            found.append(Entry(practice, is_new=False, changed=changed))
    found.sort(key=lambda entry: (not entry.is_new, entry.practice.title.lower()))
    return found


def was_public(record, day):
    return (
        record is not None
        and record.status == Status.PUBLISHED
        and record.published_on is not None
        and record.published_on <= day
    )


def records_at(ids, moment):
    """{practice id: its latest history record at `moment`}, in one query."""
    history = Practice.history.model.objects
    latest = (
        history.filter(id=OuterRef("id"), history_date__lte=moment)
        .order_by("-history_date", "-history_id")
        .values("history_id")[:1]
    )
    records = history.filter(id__in=ids, history_id=Subquery(latest))
    return {record.id: record for record in records}


def m2m_fields():
    return Practice.history.model._history_m2m_fields


def related_ids(records):
    """{(history id, m2m field name): {related ids}} of the records: one query per
    tracked many-to-many field (countries, regions, themes, instruments)."""
    history_ids = [record.history_id for record in records]
    relations = {}
    for m2m in m2m_fields():
        through = Practice.history.model._meta.get_field(
            f"historicalpractice_{m2m.name}"
        ).related_model
        target = m2m.m2m_reverse_field_name()  # the related model's column
        rows = through.objects.filter(history_id__in=history_ids).values_list(
            "history_id", f"{target}_id"
        )
        for history_id, related_id in rows:
            relations.setdefault((history_id, m2m.name), set()).add(related_id)
    return relations


def changes(old, new, relations):
    """The labels of the facts that differ between two history records of one
    practice, in the form's order."""
    m2m_names = [m2m.name for m2m in m2m_fields()]
    delta = new.diff_against(old, excluded_fields=[*UNCHANGED, *m2m_names])
    changed = set(delta.changed_fields)
    changed.update(
        name
        for name in m2m_names
        if relations.get((old.history_id, name), set())
        != relations.get((new.history_id, name), set())
    )
    return [
        Practice.field_label(f.name)
        for f in Practice._meta.get_fields()
        if f.name in changed
    ]
