from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse
from simple_history.models import HistoricalRecords

from practices.models import Practice
from publishing.models import Publishable
from publishing.workflow import permissions

ORDER = "Lower numbers come first; leave gaps (10, 20, 30) to slot rows in later."


class Brief(Publishable):
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
    unconfirmed_note = models.TextField(
        "what this summary could not confirm",
        blank=True,
        help_text="Markdown. What the sources leave open (a date, a practice found "
        "nowhere, a list that could not be read), shown in one note after the "
        "sections: keep such remarks out of the sections' text.",
    )

    history = HistoricalRecords()  # who changed what and when; revert in the admin

    class Meta(Publishable.Meta):
        ordering = ["-published_on", "title"]
        permissions = permissions("brief", "briefs")  # workflow moves


class BriefSection(models.Model):
    brief = models.ForeignKey(Brief, on_delete=models.CASCADE, related_name="sections")
    heading = models.CharField(max_length=255)
    anchor = models.SlugField(
        max_length=80, help_text="The #fragment that links to this section."
    )
    body = models.TextField(help_text="Markdown; rendered through a sanitiser.")
    position = models.PositiveSmallIntegerField("order", default=0, help_text=ORDER)

    history = HistoricalRecords()

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["brief", "anchor"], name="briefsection_unique_anchor"
            )
        ]

    # ids the brief page itself uses; a section anchor must not collide with them.
    RESERVED_ANCHORS = set(
        "main toc-heading not-confirmed featured-practices in-figures "
        "recommendations site-search-q".split()
    )

    def __str__(self):
        return self.heading

    def clean(self):
        check_anchor(self, Recommendation, "a recommendation's")

    def get_absolute_url(self):
        return f"{self.brief.get_absolute_url()}#{self.anchor}"


def check_anchor(row, others, whose):
    """A section's or recommendation's anchor is an id on its brief's page: never
    one the page itself uses, nor one of `others` (the other model) there."""
    if not row.anchor:
        return
    if row.anchor in BriefSection.RESERVED_ANCHORS:
        message = f"“{row.anchor}” is used by the page itself; choose another."
        raise ValidationError({"anchor": message})
    if (
        row.brief_id
        and others.objects.filter(brief_id=row.brief_id, anchor=row.anchor).exists()
    ):
        message = f"“{row.anchor}” is {whose} anchor in this brief; choose another."
        raise ValidationError({"anchor": message})


class BriefPracticeQuerySet(models.QuerySet):
    """Links between briefs and practices (a featured practice, a practice that
    illustrates a recommendation), seen from either side by the public."""

    brief = "brief"  # the lookup from the link to its brief

    def of_published_practices(self):
        """Those a reader may see on a brief's page (published() practices)."""
        return self.filter(practice__in=Practice.objects.published())

    def in_published_briefs(self):
        """Those a reader may follow from a practice's page (published() briefs)."""
        return self.filter(**{f"{self.brief}__in": Brief.objects.published()})


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
    position = models.PositiveSmallIntegerField("order", default=0, help_text=ORDER)

    history = HistoricalRecords()

    objects = BriefPracticeQuerySet.as_manager()

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

    def get_absolute_url(self):
        """Where the brief discusses the practice: its section, or else the
        brief's list of featured practices."""
        anchor = self.section.anchor if self.section_id else "featured-practices"
        return f"{self.brief.get_absolute_url()}#{anchor}"

    def trail(self):
        """The way back from the practice's page (its breadcrumbs): through the
        brief to the section."""
        place = self.section.heading if self.section_id else "Featured good practices"
        return [
            (reverse("briefs:list"), "Briefs"),
            (self.brief.get_absolute_url(), self.brief.title),
            (self.get_absolute_url(), place),
        ]

    def clean(self):
        # The database refuses it too (trigger featuredpractice_section_in_brief,
        # migration 0005): a form says it on the field first.
        if self.section_id and self.section.brief_id != self.brief_id:
            raise ValidationError(
                {"section": "Choose a section of this brief, or none."}
            )


class RecommendationOrigin(models.TextChoices):
    BRIEF = "brief", "The brief's own recommendation"
    ATLAS = "atlas", "Practice Atlas's own synthesis"


class Recommendation(models.Model):
    """One of a brief's numbered recommendations, with the practices that show it
    in action (RecommendationPractice). Where the brief's own list is not
    available, the Atlas writes its own, labelled as such (origin)."""

    brief = models.ForeignKey(
        Brief, on_delete=models.CASCADE, related_name="recommendations"
    )
    number = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1)],
        help_text="Its number in the brief's list (1, 2, 3 …), shown before it; "
        "unique within the brief.",
    )
    anchor = models.SlugField(
        max_length=80,
        help_text="The #fragment that links to it from practice pages and "
        "elsewhere: lower-case letters, digits and hyphens, unique within the "
        "brief. Keep it once published, or those links break.",
    )
    text = models.TextField(
        help_text="The recommendation itself, in a sentence or two of our own words."
    )
    origin = models.CharField(
        max_length=10,
        choices=RecommendationOrigin,
        default=RecommendationOrigin.ATLAS,
        help_text="Whether the brief itself makes it, or Practice Atlas draws it "
        "from the brief's material (shown with a label saying so).",
    )
    basis = models.TextField(
        blank=True,
        help_text="Markdown. What it is drawn from (the findings, with links to "
        "their sources), in our own words.",
    )
    practices = models.ManyToManyField(
        Practice,
        through="RecommendationPractice",
        related_name="recommendations",
        blank=True,
        help_text="Practices whose record shows the recommendation at work.",
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["brief", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["brief", "number"],
                name="recommendation_unique_number",
                violation_error_message="This brief already has a recommendation "
                "with this number: choose another.",
            ),
            models.UniqueConstraint(
                fields=["brief", "anchor"],
                name="recommendation_unique_anchor",
                violation_error_message="This brief already has a recommendation "
                "with this anchor: choose another.",
            ),
            models.CheckConstraint(
                condition=models.Q(number__gte=1),
                name="recommendation_number_positive",
                violation_error_message="Numbers start at 1.",
            ),
        ]

    def __str__(self):
        return f"Recommendation {self.number}"

    def get_absolute_url(self):
        return f"{self.brief.get_absolute_url()}#{self.anchor}"

    @property
    def by_the_atlas(self):
        return self.origin == RecommendationOrigin.ATLAS

    def clean(self):
        check_anchor(self, BriefSection, "a section's")


class RecommendationPracticeQuerySet(BriefPracticeQuerySet):
    brief = "recommendation__brief"


class RecommendationPractice(models.Model):
    """A practice that illustrates a recommendation, and why."""

    recommendation = models.ForeignKey(
        Recommendation, on_delete=models.CASCADE, related_name="illustrations"
    )
    # Deleting a practice (superusers only) removes what it illustrated; the
    # history keeps the link.
    practice = models.ForeignKey(
        Practice, on_delete=models.CASCADE, related_name="illustrations"
    )
    note = models.CharField(
        max_length=300,
        blank=True,
        help_text="Why it illustrates the recommendation: a short sentence drawn "
        "from the practice's record.",
    )
    position = models.PositiveSmallIntegerField("order", default=0, help_text=ORDER)

    history = HistoricalRecords()

    objects = RecommendationPracticeQuerySet.as_manager()

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = "practice illustrating it"
        verbose_name_plural = "practices illustrating it"
        constraints = [
            models.UniqueConstraint(
                fields=["recommendation", "practice"],
                name="recommendationpractice_unique_practice",
                violation_error_message="This practice is already listed for "
                "this recommendation.",
            )
        ]

    def __str__(self):
        return f"{self.practice} illustrates {self.recommendation}"
