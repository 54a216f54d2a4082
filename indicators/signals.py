"""Region and country pages show the figures: a curator's correction reaches them
at the next request, like any change to the catalogue (practices.signals)."""

from django.db.models.signals import post_delete, post_save

from practices.signals import bump_only

from .models import IndicatorValue

post_save.connect(bump_only, sender=IndicatorValue)
post_delete.connect(bump_only, sender=IndicatorValue)
