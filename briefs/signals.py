"""Briefs are public pages too: every change to a brief, its sections or its featured
practices bumps the catalogue version when it commits (practices/signals.py)."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from practices.signals import refresh_on_commit

from .models import Brief, BriefSection, FeaturedPractice


@receiver(post_save, sender=Brief)
@receiver(post_delete, sender=Brief)
@receiver(post_save, sender=BriefSection)
@receiver(post_delete, sender=BriefSection)
@receiver(post_save, sender=FeaturedPractice)
@receiver(post_delete, sender=FeaturedPractice)
def brief_changed(sender, **kwargs):
    refresh_on_commit()
