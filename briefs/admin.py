from django.contrib import admin
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from publishing.admin import RelatedHistoryAdmin, WorkflowAdmin, after_inlines
from publishing.workflow import Status

from .models import (
    Brief,
    BriefSection,
    FeaturedPractice,
    Recommendation,
    RecommendationPractice,
)


class BriefSectionInline(admin.StackedInline):
    model = BriefSection
    extra = 0
    fields = ["position", "heading", "anchor", "body"]
    prepopulated_fields = {"anchor": ["heading"]}


class FeaturedPracticeInline(admin.TabularInline):
    model = FeaturedPractice
    extra = 1
    fields = ["position", "practice", "section", "note"]
    autocomplete_fields = ["practice"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Offer only the sections of the brief being edited.
        if db_field.name == "section":
            brief_id = request.resolver_match.kwargs.get("object_id")
            kwargs["queryset"] = BriefSection.objects.filter(brief_id=brief_id)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class RecommendationInline(admin.StackedInline):
    """A brief's recommendations; the practices that illustrate each are edited
    on the recommendation's own page (an inline cannot hold another)."""

    model = Recommendation
    extra = 0
    fields = ["number", "anchor", "origin", "text", "basis", "illustrated_by"]
    readonly_fields = ["illustrated_by"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("practices")

    @admin.display(description="Practices illustrating it")
    def illustrated_by(self, obj):
        if not obj.pk:
            return (
                "Save the brief first; then choose them on the recommendation's page."
            )
        url = reverse("admin:briefs_recommendation_change", args=[obj.pk])
        titles = format_html_join(", ", "{}", ((p.title,) for p in obj.practices.all()))
        link = (
            '{} <a href="{}">Choose the practices that illustrate recommendation {}</a>'
        )
        return format_html(link, titles or "None yet.", url, obj.number)


@admin.register(Brief)
class BriefAdmin(WorkflowAdmin):
    list_display = ["title", "status", "published_on", "updated_at"]
    list_filter = ["status"]
    search_fields = ["title", "standfirst", "sections__heading", "sections__body"]
    inlines = [BriefSectionInline, RecommendationInline, FeaturedPracticeInline]
    history_related = [
        ("Sections", BriefSection, "brief"),
        ("Recommendations", Recommendation, "brief"),
        (
            "Practices illustrating its recommendations",
            RecommendationPractice,
            "recommendation__brief",
        ),
        ("Featured practices", FeaturedPractice, "brief"),
    ]
    # In the public page's order: title and standfirst, the sections, the
    # recommendations and featured practices (the inlines), the note on what could
    # not be confirmed, the source and attribution, then the status.
    fieldsets = [
        (None, {"fields": ["title", "slug", "standfirst"]}),
        after_inlines("Gaps in the sources", ["unconfirmed_note"]),
        after_inlines("Source", ["source_url", "source_published_on", "attribution"]),
        after_inlines("Status", ["status", "published_on", "created_at", "updated_at"]),
    ]


class RecommendationPracticeInline(admin.TabularInline):
    model = RecommendationPractice
    extra = 1
    fields = ["position", "practice", "note"]
    autocomplete_fields = ["practice"]


@admin.register(Recommendation)
class RecommendationAdmin(RelatedHistoryAdmin):
    list_display = ["__str__", "brief", "anchor", "origin", "practice_count"]
    list_display_links = ["__str__"]
    list_filter = ["origin", "brief"]
    list_select_related = ["brief"]
    search_fields = ["text", "anchor", "basis", "brief__title"]
    fields = ["brief", "number", "anchor", "origin", "text", "basis"]
    inlines = [RecommendationPracticeInline]
    history_related = [
        ("Practices illustrating it", RecommendationPractice, "recommendation")
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(Count("practices"))

    @admin.display(description="practices", ordering="practices__count")
    def practice_count(self, obj):
        return obj.practices__count

    def view_on_site(self, obj):
        # Where it stands on its brief's page: the preview until that is public.
        brief = obj.brief
        public = brief.status in (Status.PUBLISHED, Status.ARCHIVED)
        page = brief.get_absolute_url() if public else brief.get_preview_url()
        return f"{page}#{obj.anchor}"
