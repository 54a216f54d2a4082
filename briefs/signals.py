"""Briefs are public pages too: every change to a brief, its sections or its featured
practices bumps the catalogue version when it commits (practices/signals.py)."""

from django.db.models.signals import post_delete, post_save

from practices.signals import bump_only

from .models import Brief, BriefSection, FeaturedPractice

for model in (Brief, BriefSection, FeaturedPractice):
    post_save.connect(bump_only, sender=model)
    post_delete.connect(bump_only, sender=model)
