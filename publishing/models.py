from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from .workflow import Status, TransitionNotAllowed, check_status_change


class PublishableQuerySet(models.QuerySet):
    """The one publication rule, shared by practices and briefs.

    - published(): public and current. Every list, count, facet, search, chart,
      related list, feed, export and sitemap starts here, and only here.
    - reachable(): what answers at its own public address: the published records
      plus the archived ones that were public once (kept for reference, shown with
      an "archived" banner). Only detail pages use it.
    Drafts, records in review and scheduled ones are in neither (staff see them
    through the preview pages, which never go through the page cache)."""

    def published(self):
        return self.filter(
            status=Status.PUBLISHED, published_on__lte=timezone.localdate()
        )

    def reachable(self):
        return self.filter(
            status__in=[Status.PUBLISHED, Status.ARCHIVED],
            published_on__lte=timezone.localdate(),
        )


class Publishable(models.Model):
    """A record that follows the curation workflow (publishing.workflow): practices
    and briefs. It remembers its status as loaded and refuses, on save(), a change
    of it that is not a workflow move. Subclasses add `*Publishable.Meta.constraints`
    and `workflow.permissions()` to their Meta, and have a `slug` that the URLs
    "<app_label>:detail" and "<app_label>:preview" take."""

    status = models.CharField(
        max_length=20,
        choices=Status,
        default=Status.DRAFT,
        help_text="Where the record is in the curation workflow. Only published "
        "records are public (and exported).",
    )
    published_on = models.DateField(
        null=True,
        blank=True,
        help_text="The day the record is public from (set when it is published).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PublishableQuerySet.as_manager()

    class Meta:
        abstract = True
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=Status.values), name="%(class)s_valid_status"
            ),
            models.CheckConstraint(
                # An archived record was published once and keeps its date.
                condition=~Q(status__in=[Status.PUBLISHED, Status.ARCHIVED])
                | Q(published_on__isnull=False),
                name="%(class)s_published_has_date",
            ),
        ]

    def get_absolute_url(self):
        return reverse(f"{self._meta.app_label}:detail", kwargs={"slug": self.slug})

    def get_preview_url(self):
        """The staff-only preview on the public templates, whatever the status."""
        return reverse(f"{self._meta.app_label}:preview", kwargs={"slug": self.slug})

    @classmethod
    def from_db(cls, db, field_names, values, **kwargs):
        instance = super().from_db(db, field_names, values, **kwargs)
        instance._saved_status = instance.__dict__.get("status")  # None if deferred
        return instance

    def refresh_from_db(self, *args, **kwargs):
        super().refresh_from_db(*args, **kwargs)
        fields = kwargs.get("fields")
        if fields is None or "status" in fields:
            self._saved_status = self.__dict__.get("status")

    def clean_fields(self, exclude=None):
        """A form that edits `status` reports a status change that is not a move
        as an error on the field, before save() would refuse it."""
        super().clean_fields(exclude=exclude)
        if exclude is None or "status" not in exclude:
            try:
                check_status_change(self)
            except TransitionNotAllowed as error:
                raise ValidationError({"status": error.messages}) from error

    def save(self, *args, **kwargs):
        update_fields = kwargs.get("update_fields")
        if update_fields is None or "status" in update_fields:
            check_status_change(self)
        super().save(*args, **kwargs)
        self._saved_status = self.status
        # A change reason describes one save only (simple-history reads it).
        self.__dict__.pop("_change_reason", None)
