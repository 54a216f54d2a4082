"""Keep each practice's search index current on every change, including a rename
of a country, region, theme, instrument type or project it points at."""

from contextlib import contextmanager
from contextvars import ContextVar

from django.db.models.signals import m2m_changed, post_save
from django.dispatch import receiver
from django.utils import timezone

from .models import Country, InstrumentType, Practice, Project, Region, Theme
from .search import refresh_search_index

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
    if not raw:
        request_refresh([instance.pk])


def relations_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if action not in {"post_add", "post_remove", "post_clear"}:
        return
    if not reverse:
        ids = [instance.pk]
    elif pk_set:
        ids = list(pk_set)
    else:  # a term's practices were cleared: the ids are gone, refresh all it had
        ids = list(Practice.objects.values_list("pk", flat=True))
    # A relation change is a change of the practice: it moves the catalogue
    # version that facet indexes and caches key on.
    Practice.objects.filter(pk__in=ids).update(updated_at=timezone.now())
    request_refresh(ids)


for relation in ("countries", "regions", "themes", "instruments"):
    m2m_changed.connect(
        relations_changed,
        sender=getattr(Practice, relation).through,
        dispatch_uid=f"practice-search-{relation}",
    )


@receiver(post_save, sender=Country)
@receiver(post_save, sender=Region)
@receiver(post_save, sender=Theme)
@receiver(post_save, sender=InstrumentType)
@receiver(post_save, sender=Project)
def name_saved(sender, instance, created, raw=False, **kwargs):
    if raw or created:
        return
    ids = list(instance.practices.values_list("pk", flat=True))
    if ids:
        Practice.objects.filter(pk__in=ids).update(updated_at=timezone.now())
        request_refresh(ids)
