"""Keep derived state current, once per transaction, whatever path changed the data
(admin, import, shell, history revert, workflow move, term rename or delete):
- each practice's search index, including when a country, region, theme,
  instrument type or project it points at is renamed or deleted;
- the catalogue version (CatalogueVersion), which per-process caches and the
  page cache (practices/caching.py) key on: anything a public page shows bumps
  it (briefs ask for it in briefs/signals.py).

Each change only notes the practices it touched (`refresh_on_commit`); when the
transaction commits, one callback re-indexes them all and bumps the version once.
Outside a transaction (autocommit, a shell save) that happens at once.

Writes that bypass signals (QuerySet.update, bulk_create, raw SQL) must call
refresh_on_commit() themselves, as generate_practices does.
"""

import threading

from django.db import transaction
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

# This thread's practices to re-index, or None when nothing is due. A rolled-back
# transaction leaves its ids here; the next commit re-indexes them too, harmlessly
# (the index is rebuilt from what is stored).
_pending = threading.local()


def refresh_on_commit(practice_ids=()):
    """Re-index these practices and bump the catalogue version when the current
    transaction commits (at once outside a transaction); once per transaction,
    however many times it is called."""
    if getattr(_pending, "ids", None) is None:
        _pending.ids = set()
    _pending.ids.update(practice_ids)
    # One callback per call: a callback registered in a savepoint that is rolled
    # back is dropped, so an earlier one cannot stand for this change.
    transaction.on_commit(_refresh)


def _refresh():
    ids = getattr(_pending, "ids", None)
    if ids is None:
        return  # an earlier callback of this transaction did the work
    # After the commit, not inside the transaction: only then is every change known.
    # The index and the version change together, so a reader who sees the new
    # version (cache keys, ETags) searches the new index too. Until this block
    # commits, a few milliseconds after the data, the old version is current and
    # pages cached before may still be served; should the process die in between,
    # `manage.py rebuild_search_index` brings both up to date.
    with transaction.atomic():
        refresh_search_index(sorted(ids))
        CatalogueVersion.bump()
    _pending.ids = None


@receiver(post_save, sender=Practice)
def practice_saved(sender, instance, raw=False, **kwargs):
    refresh_on_commit([] if raw else [instance.pk])


@receiver(post_delete, sender=Practice)
@receiver(post_save, sender=PracticeSource)  # sources are listed on the page
@receiver(post_delete, sender=PracticeSource)
def bump_only(sender, **kwargs):
    refresh_on_commit()


def relations_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if action == "pre_clear":
        # The practices losing the links, while they are still there to read.
        ids = [instance.pk] if not reverse else _linked_practice_ids(instance)
    elif action in {"post_add", "post_remove"}:
        ids = [instance.pk] if not reverse else pk_set
    else:
        return
    refresh_on_commit(ids)


for relation in ("countries", "regions", "themes", "instruments"):
    m2m_changed.connect(
        relations_changed,
        sender=getattr(Practice, relation).through,
        dispatch_uid=f"practice-search-{relation}",
    )


def _linked_practice_ids(term):
    return list(term.practices.values_list("pk", flat=True))


def term_saved(sender, instance, created, raw=False, **kwargs):
    # Names and codes show in facets and on pages, and in the linked practices' index.
    linked = [] if raw or created else _linked_practice_ids(instance)
    refresh_on_commit(linked)


def term_deleting(sender, instance, **kwargs):
    # Cascades remove the links without m2m signals: note whose index to rebuild
    # (after the commit, when the links are gone).
    refresh_on_commit(_linked_practice_ids(instance))


for term in TERMS:
    post_save.connect(
        term_saved, sender=term, dispatch_uid=f"term-saved-{term.__name__}"
    )
    pre_delete.connect(
        term_deleting, sender=term, dispatch_uid=f"term-deleting-{term.__name__}"
    )
