"""Keep derived state current on every change:
- each practice's search index, including when a country, region, theme,
  instrument type or project it points at is renamed or deleted;
- the catalogue version (CatalogueVersion), which per-process caches and the
  page cache (practices/caching.py) key on: anything a public page shows bumps
  it (briefs bump it from briefs/signals.py).

Writes that bypass signals (QuerySet.update, bulk_create, raw SQL) must call
CatalogueVersion.bump() themselves, as generate_practices does. Status changes go
through practices.workflow.transition(), which saves, so its moves bump it here.
"""

from contextlib import contextmanager
from contextvars import ContextVar

from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete
from django.dispatch import receiver

from .models import (
    CatalogueVersion,
    Country,
    InstrumentType,
    Practice,
    PracticeSource,
    Project,
    Region,
    Theme,
)
from .search import refresh_search_index

TERMS = (Country, Region, Theme, InstrumentType, Project)

# Inside `batched_search_refresh()` ids are collected and refreshed once at the end.
_pending = ContextVar("pending_search_refresh", default=None)


@contextmanager
def batched_search_refresh():
    token = _pending.set(set())
    try:
        yield
        ids = _pending.get()
    finally:
        _pending.reset(token)
    refresh_search_index(sorted(ids))


def request_refresh(ids):
    pending = _pending.get()
    if pending is None:
        refresh_search_index(ids)
    else:
        pending.update(ids)


@receiver(post_save, sender=Practice)
def practice_saved(sender, instance, raw=False, **kwargs):
    CatalogueVersion.bump()
    if not raw:
        request_refresh([instance.pk])


@receiver(post_delete, sender=Practice)
def practice_deleted(sender, instance, **kwargs):
    CatalogueVersion.bump()


@receiver(post_save, sender=PracticeSource)
@receiver(post_delete, sender=PracticeSource)
def source_changed(sender, **kwargs):
    CatalogueVersion.bump()  # sources are listed on the practice's page


def relations_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if action == "pre_clear" and reverse:
        # A term's practices are about to be unlinked: remember which.
        instance._clearing_practice_ids = list(
            sender.objects.filter(
                **{sender._meta.get_field(_term_column(sender)).attname: instance.pk}
            ).values_list("practice_id", flat=True)
        )
        return
    if action not in {"post_add", "post_remove", "post_clear"}:
        return
    if not reverse:
        ids = [instance.pk]
    elif action == "post_clear":
        ids = getattr(instance, "_clearing_practice_ids", [])
    else:
        ids = list(pk_set or [])
    CatalogueVersion.bump()
    request_refresh(ids)


def _term_column(through):
    """The through table's foreign key to the term (not to the practice)."""
    return next(
        f.name
        for f in through._meta.get_fields()
        if f.many_to_one and f.related_model is not Practice
    )


for relation in ("countries", "regions", "themes", "instruments"):
    m2m_changed.connect(
        relations_changed,
        sender=getattr(Practice, relation).through,
        dispatch_uid=f"practice-search-{relation}",
    )


def _linked_practice_ids(term):
    return list(term.practices.values_list("pk", flat=True))


def term_saved(sender, instance, created, raw=False, **kwargs):
    CatalogueVersion.bump()  # names and codes show in facets and on pages
    if not raw and not created:
        ids = _linked_practice_ids(instance)
        if ids:
            request_refresh(ids)


def term_deleting(sender, instance, **kwargs):
    # Cascades remove the links without m2m signals: note whose index to rebuild.
    instance._linked_practice_ids = _linked_practice_ids(instance)


def term_deleted(sender, instance, **kwargs):
    CatalogueVersion.bump()
    ids = getattr(instance, "_linked_practice_ids", [])
    if ids:
        request_refresh(ids)


for term in TERMS:
    post_save.connect(
        term_saved, sender=term, dispatch_uid=f"term-saved-{term.__name__}"
    )
    pre_delete.connect(
        term_deleting, sender=term, dispatch_uid=f"term-deleting-{term.__name__}"
    )
    post_delete.connect(
        term_deleted, sender=term, dispatch_uid=f"term-deleted-{term.__name__}"
    )
