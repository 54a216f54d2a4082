from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from .workflow import Status, check_status_change


class PublishableQuerySet(models.QuerySet):
    """The one publication rule of practices and briefs: every list, count, feed,
    export and sitemap starts from published(). Detail pages use reachable(),
    which adds the archived records (shown under an "archived" banner)."""

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
    """A record that follows the workflow: save() refuses a status change that is
    not a move. Subclasses add these Meta.constraints and `workflow.permissions()`,
    have a `title` and a unique `slug` for the "<app_label>:detail" and "preview"
    URLs, and a `history` (simple-history: it says who submitted a record)."""

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
            models.UniqueConstraint(fields=["slug"], name="%(class)s_unique_slug"),
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

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse(f"{self._meta.app_label}:detail", kwargs={"slug": self.slug})

    def get_preview_url(self):
        return reverse(f"{self._meta.app_label}:preview", kwargs={"slug": self.slug})

    def publication_gaps(self, relations=None):
        """What the record still needs before it can be published, each named for
        the curator (workflow.check_publishable refuses to publish it until then)."""
        return []

    # _saved_status: the status as loaded, which a change is checked against.
    @classmethod
    def from_db(cls, db, field_names, values, **kwargs):
        instance = super().from_db(db, field_names, values, **kwargs)
        instance._saved_status = instance.__dict__.get("status")  # None if deferred
        return instance

    def refresh_from_db(self, *args, **kwargs):
        super().refresh_from_db(*args, **kwargs)
        if "status" in (kwargs.get("fields") or ["status"]):
            self._saved_status = self.__dict__.get("status")

    def clean_fields(self, exclude=None):
        # A form that edits the status says what save() would refuse, on the field.
        super().clean_fields(exclude=exclude)
        if "status" not in (exclude or ()):
            check_status_change(self)

    def save(self, *args, **kwargs):
        if "status" in (kwargs.get("update_fields") or ["status"]):
            check_status_change(self)
        super().save(*args, **kwargs)
        self._saved_status = self.status
        # A change reason describes one save only (simple-history reads it).
        self.__dict__.pop("_change_reason", None)
