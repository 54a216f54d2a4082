"""A grade is one of the values the list filters and counts by (FacetValue's
facet "evidence") and shows on cards; figures show on practice pages. Each change
re-indexes its practice in the same once-per-transaction refresh as every other
change (practices.signals)."""

from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from practices.signals import bump_only, refresh_on_commit

from .models import Grade, OutcomeFigure


@receiver(post_save, sender=Grade)
@receiver(post_delete, sender=Grade)
def grade_changed(sender, instance, raw=False, **kwargs):
    refresh_on_commit([] if raw else [instance.practice_id])


post_save.connect(bump_only, sender=OutcomeFigure)
post_delete.connect(bump_only, sender=OutcomeFigure)
m2m_changed.connect(bump_only, sender=Grade.sources.through)
