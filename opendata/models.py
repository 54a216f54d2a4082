"""A file checked with a dry run on the admin's import page, kept so that its
"Import these N" button imports it without the file being chosen again."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

# How long a checked file is kept for its button; it is deleted once imported.
KEPT_FOR = timedelta(hours=1)


def new_token():
    return secrets.token_urlsafe(32)


class CheckedFileQuerySet(models.QuerySet):
    def expired(self):
        return self.filter(checked_at__lt=timezone.now() - KEPT_FOR)

    def current(self):
        return self.filter(checked_at__gte=timezone.now() - KEPT_FOR)


class CheckedFile(models.Model):
    """In the database, which every app server shares (they keep nothing on disk
    between requests), for one curator, under a random token; with the options
    it was checked with, which the import uses too."""

    token = models.CharField(
        primary_key=True, max_length=43, default=new_token, editable=False
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    name = models.CharField(max_length=255)
    data = models.BinaryField()
    update = models.BooleanField()
    keep_status = models.BooleanField()
    checked_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = CheckedFileQuerySet.as_manager()

    class Meta:
        ordering = ["checked_at"]

    def __str__(self):
        return f"{self.name} (checked {self.checked_at:%Y-%m-%d %H:%M})"
