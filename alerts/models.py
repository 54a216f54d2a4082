from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.http import QueryDict
from django.utils import timezone

# A cron job started a little earlier than last time still finds its alerts due.
DUE_SLACK = timedelta(hours=1)


class Frequency(models.TextChoices):
    WEEKLY = "weekly", "Weekly"
    MONTHLY = "monthly", "Monthly"

    @property
    def period(self):
        return {"weekly": timedelta(days=7), "monthly": timedelta(days=30)}[self]


class AlertQuerySet(models.QuerySet):
    def active(self):
        """Confirmed and not unsubscribed: the alerts digests go to."""
        return self.filter(confirmed_at__isnull=False, unsubscribed_at__isnull=True)

    def lapsed(self, now=None):
        """Never confirmed within ALERT_CONFIRMATION_DAYS: their link has expired,
        so nothing will ever be sent to them (deleted by send_alerts)."""
        return self.filter(
            confirmed_at__isnull=True,
            unsubscribed_at__isnull=True,
            created_at__lt=(now or timezone.now()) - confirmation_max_age(),
        )

    def open(self, now=None):
        """Active, or waiting for a confirmation that may still come: what an
        address's limits count."""
        waiting = Q(confirmed_at__isnull=True) & Q(
            created_at__gte=(now or timezone.now()) - confirmation_max_age()
        )
        return self.filter(unsubscribed_at__isnull=True).filter(
            Q(confirmed_at__isnull=False) | waiting
        )

    def due(self, now, frequency=None):
        """Active alerts whose period has passed since their last digest (or their
        confirmation), of one frequency or all."""
        since = Coalesce(F("last_sent_at"), F("confirmed_at"))
        due = Q()
        for choice in [Frequency(frequency)] if frequency else Frequency:
            due |= Q(frequency=choice, since__lte=now - choice.period + DUE_SLACK)
        return self.active().alias(since=since).filter(due)


def confirmation_max_age():
    return timedelta(days=settings.ALERT_CONFIRMATION_DAYS)


class Alert(models.Model):
    """New matches of a list (its query string) sent by e-mail, weekly or monthly,
    once the address's owner has confirmed it. The address is kept only while the
    alert is pending or active: unsubscribing erases it, and send_alerts deletes
    alerts never confirmed in time. It is shown nowhere but in the admin."""

    email = models.EmailField(
        "e-mail address",
        max_length=254,
        blank=True,
        help_text="In lower case. Erased when the alert is unsubscribed.",
    )
    query = models.TextField(
        blank=True,
        help_text="The list's filters as a query string (alerts.views.alert_query): "
        "empty for the whole catalogue.",
    )
    frequency = models.CharField(max_length=10, choices=Frequency)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    last_sent_at = models.DateTimeField(
        "last digest sent at",
        null=True,
        blank=True,
        help_text="The next digest holds what changed after this (or after the "
        "confirmation, before the first).",
    )
    unsubscribed_at = models.DateTimeField(null=True, blank=True)

    objects = AlertQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(frequency__in=Frequency.values),
                name="alert_valid_frequency",
            ),
            # One pending or active alert per address, list and frequency.
            models.UniqueConstraint(
                fields=["email", "query", "frequency"],
                condition=Q(unsubscribed_at__isnull=True),
                name="alert_unique_open",
            ),
            # An address while the alert lasts, none once it is unsubscribed.
            models.CheckConstraint(
                condition=Q(unsubscribed_at__isnull=True) & ~Q(email="")
                | Q(unsubscribed_at__isnull=False, email=""),
                name="alert_address_while_open",
            ),
            models.CheckConstraint(
                condition=Q(last_sent_at__isnull=True) | Q(confirmed_at__isnull=False),
                name="alert_sent_once_confirmed",
            ),
        ]

    def __str__(self):
        return f"{self.get_frequency_display()} alert {self.pk}"

    @property
    def filters(self):
        """The list's query string as list_practices reads it."""
        return QueryDict(self.query)

    @property
    def since(self):
        """What the next digest starts from."""
        return self.last_sent_at or self.confirmed_at
