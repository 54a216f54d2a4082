from django.contrib import admin

from publishing.admin import WorkflowAdmin, after_inlines

from .models import Brief, BriefSection, FeaturedPractice


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


@admin.register(Brief)
class BriefAdmin(WorkflowAdmin):
    list_display = ["title", "status", "published_on", "updated_at"]
    list_filter = ["status"]
    search_fields = ["title", "standfirst", "sections__heading", "sections__body"]
    inlines = [BriefSectionInline, FeaturedPracticeInline]
    history_related = [
        ("Sections", BriefSection, "brief"),
        ("Featured practices", FeaturedPractice, "brief"),
    ]
    # In the public page's order: title and standfirst, the sections and featured
    # practices (the inlines), the note on what could not be confirmed, the source
    # and attribution, then the status.
    fieldsets = [
        (None, {"fields": ["title", "slug", "standfirst"]}),
        after_inlines("Gaps in the sources", ["unconfirmed_note"]),
        after_inlines("Source", ["source_url", "source_published_on", "attribution"]),
        after_inlines("Status", ["status", "published_on", "created_at", "updated_at"]),
    ]
