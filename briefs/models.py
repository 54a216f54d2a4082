from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Prefetch
from django.urls import reverse
from simple_history.models import HistoricalRecords

from practices.cards import attach_card_terms
from practices.models import (
    Practice,
    PublishableQuerySet,
    Status,
    publication_constraints,
)
from practices.workflow import WorkflowMixin, permissions


class Brief(WorkflowMixin, models.Model):
    title = models.CharField(max_length=255)
    slug = models.SlugField(max_length=120)
    standfirst = models.TextField(help_text="The short introduction under the title.")
    source_url = models.URLField("original brief", max_length=500)
    source_published_on = models.DateField(
        "original brief published on",
        null=True,
        blank=True,
        help_text="When the original brief came out, if a source says so; shown "
        "as not recorded otherwise. (published_on is this page's own date.)",
    )
    attribution = models.TextField(help_text="Attribution and licence line.")
    status = models.CharField(max_length=20, choices=Status, default=Status.DRAFT)
    published_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PublishableQuerySet.as_manager()
    history = HistoricalRecords()  # who changed what and when; revert in the admin

    class Meta:
        ordering = ["-published_on", "title"]
        permissions = permissions("brief", "briefs")  # workflow moves
        constraints = [
            models.UniqueConstraint(fields=["slug"], name="brief_unique_slug"),
            *publication_constraints("brief"),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("briefs:detail", kwargs={"slug": self.slug})

    def get_preview_url(self):
        """The staff-only preview on the public templates, whatever the status."""
        return reverse("briefs:preview", kwargs={"slug": self.slug})

    def published_features(self):
        """Featured practices a reader may see, in order, ready for cards."""
        features = list(
            self.featured.filter(practice__in=Practice.objects.published())
            .select_related("section")
            .prefetch_related(
                Prefetch("practice", queryset=Practice.objects.for_listing())
            )
        )
        attach_card_terms(feature.practice for feature in features)
        return features


class BriefSection(models.Model):
    brief = models.ForeignKey(Brief, on_delete=models.CASCADE, related_name="sections")
    heading = models.CharField(max_length=255)
    anchor = models.SlugField(
        max_length=80, help_text="The #fragment that links to this section."
    )
    body = models.TextField(help_text="Markdown; rendered through a sanitiser.")
    position = models.PositiveSmallIntegerField(default=0)

    history = HistoricalRecords()

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["brief", "anchor"], name="briefsection_unique_anchor"
            )
        ]

    # ids the brief page itself uses; a section anchor must not collide with them.
    RESERVED_ANCHORS = {
        "main",
        "toc-heading",
        "featured-practices",
        "in-figures",
        "site-search-q",
    }

    def __str__(self):
        return self.heading

    def clean(self):
        if self.anchor in self.RESERVED_ANCHORS:
            message = f"“{self.anchor}” is used by the page itself; choose another."
            raise ValidationError({"anchor": message})

    def get_absolute_url(self):
        return f"{self.brief.get_absolute_url()}#{self.anchor}"


class FeaturedPractice(models.Model):
    brief = models.ForeignKey(Brief, on_delete=models.CASCADE, related_name="featured")
    practice = models.ForeignKey(
        Practice, on_delete=models.PROTECT, related_name="featured_in"
    )
    section = models.ForeignKey(
        BriefSection,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="featured",
        help_text="The section of the brief this practice illustrates.",
    )
    note = models.TextField(blank=True, help_text="What this practice illustrates.")
    position = models.PositiveSmallIntegerField(default=0)

    history = HistoricalRecords()

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = "featured practice"
        constraints = [
            models.UniqueConstraint(
                fields=["brief", "practice"], name="featuredpractice_unique_practice"
            )
        ]

    def __str__(self):
        return f"{self.practice} in {self.brief}"

    def clean(self):
        # The database refuses it too (trigger featuredpractice_section_in_brief,
        # migration 0005): a form says it on the field first.
        if self.section_id and self.section.brief_id != self.brief_id:
            raise ValidationError(
                {"section": "Choose a section of this brief, or none."}
            )
