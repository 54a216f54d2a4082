"""Keep derived state current, once per transaction, whatever path changed the data
(admin, import, shell, revert, workflow, term rename or delete): each practice's
search index and facet values, and the catalogue version that caches key on
(practices/caching.py).

Each change only notes the practices it touched (`refresh_on_commit`); when the
transaction commits, one callback re-indexes them all and bumps the version once.
Writes that bypass signals (QuerySet.update, bulk_create, raw SQL) must call
refresh_on_commit() themselves, as generate_practices does.
"""

import threading

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete
from django.dispatch import receiver

from .listing import catalogue_counts, catalogue_holdings
from .models import CatalogueVersion, FacetValue, Practice, PracticeSource
from .search import refresh_search_index

# This thread's practices to re-index, or None when nothing is due. A rolled-back
# transaction leaves its ids here; the next commit re-indexes them too, harmlessly.
_pending = threading.local()


def refresh_on_commit(practice_ids=()):
    """Re-index these practices and bump the catalogue version when the current
    transaction commits (at once outside one), however often it is called."""
    if getattr(_pending, "ids", None) is None:
        _pending.ids = set()
    _pending.ids.update(practice_ids)
    # One callback per call: a callback registered in a savepoint that is rolled
    # back is dropped, so an earlier one cannot stand for this change.
    transaction.on_commit(_refresh)


def _refresh():
    if _pending.ids is None:
        return  # an earlier callback of this transaction did the work
    # The index, the facet values and the version change together, so a reader
    # who sees the new version also searches and filters the new state. Should the
    # process die before this commits, `manage.py rebuild_search_index` brings all
    # three up to date.
    with transaction.atomic():
        ids = sorted(_pending.ids)
        refresh_search_index(ids)
        FacetValue.refresh(ids)
        CatalogueVersion.bump()
    _pending.ids = None
    # The list's unfiltered counts and what the home and data pages count, for the
    # new version: the writer waits for them, so the next reader does not.
    version = CatalogueVersion.current()
    catalogue_counts(version)
    catalogue_holdings(version)


@receiver(post_save, sender=Practice)
@receiver(post_delete, sender=Practice)  # its row in SQLite's full-text index goes
def practice_changed(sender, instance, raw=False, **kwargs):
    refresh_on_commit([] if raw else [instance.pk])


@receiver(post_save, sender=PracticeSource)  # sources are listed on the page
@receiver(post_delete, sender=PracticeSource)
def bump_only(sender, **kwargs):
    refresh_on_commit()


def linked_practice_ids(term):
    return list(term.practices.values_list("pk", flat=True))


def relations_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if action == "pre_clear":  # while the links are still there to read
        refresh_on_commit(linked_practice_ids(instance) if reverse else [instance.pk])
    elif action in {"post_add", "post_remove"}:
        refresh_on_commit(pk_set if reverse else [instance.pk])


def term_saved(sender, instance, created, raw=False, **kwargs):
    # Names show on pages and in the linked practices' index.
    refresh_on_commit([] if raw or created else linked_practice_ids(instance))


def term_deleting(sender, instance, **kwargs):
    # Cascades remove the links without m2m signals: note whose index to rebuild.
    refresh_on_commit(linked_practice_ids(instance))


# Whatever a practice is linked to: its links, and the terms themselves.
for relation in ("countries", "regions", "themes", "instruments", "project"):
    field = Practice._meta.get_field(relation)
    if field.many_to_many:
        m2m_changed.connect(relations_changed, sender=field.remote_field.through)
    post_save.connect(term_saved, sender=field.related_model)
    pre_delete.connect(term_deleting, sender=field.related_model)
