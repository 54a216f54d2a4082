from datetime import datetime, time, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone
from django.utils.text import Truncator

DESCRIPTION_MAX_LENGTH = 2000


class Feedback(models.Model):
    """A report sent through the feedback form of the accessibility statement:
    a barrier someone met, or a request for content in an accessible form."""

    page_url = models.CharField(
        "page address",
        max_length=500,
        blank=True,
        help_text="The page the report is about, as the sender gave it.",
    )
    description = models.TextField(
        "description of the problem", max_length=DESCRIPTION_MAX_LENGTH
    )
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(max_length=254, blank=True)
    is_handled = models.BooleanField("handled", default=False)
    handled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField("received", auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "accessibility feedback"
        verbose_name_plural = "accessibility feedback"
        constraints = [
            models.CheckConstraint(
                condition=~Q(description=""),
                name="feedback_description_not_empty",
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(
                    Length("description"), DESCRIPTION_MAX_LENGTH
                ),
                name="feedback_description_max_length",
            ),
            models.CheckConstraint(
                condition=Q(is_handled=False) | Q(handled_at__isnull=False),
                name="feedback_handled_has_date",
            ),
        ]
        indexes = [
            models.Index(
                fields=["is_handled", "-created_at"], name="feedback_queue_idx"
            )
        ]

    def __str__(self):
        return Truncator(" ".join(self.description.split())).chars(60)


def local_midnight(days=0):
    """The midnight that starts today, or `days` later, in the site's time zone."""
    day = timezone.localdate() + timedelta(days=days)
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def daily_cap_reached_at():
    """When today's report number FEEDBACK_DAILY_CAP arrived (the form refuses
    reports from then until midnight); None while today is under the cap. Read from
    the stored reports, so every worker and instance agrees with the admin, and
    deleting reports reopens the form. Requests sent at the very same moment may
    each find today under the cap: one extra report per request in flight at most."""
    cap = settings.FEEDBACK_DAILY_CAP
    today = Feedback.objects.filter(created_at__gte=local_midnight())
    arrivals = today.order_by("created_at").values_list("created_at", flat=True)
    return arrivals[cap - 1 : cap].first()
