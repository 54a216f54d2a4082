from django import forms
from django.contrib import admin, messages
from django.utils import timezone

from .models import (
    CatalogueVersion,
    Country,
    InstrumentType,
    Practice,
    PracticeSource,
    Project,
    Region,
    Status,
    Theme,
)


class PublishActionsMixin:
    """Publish / unpublish actions for models that follow the publication rule."""

    actions = ["publish", "unpublish"]

    @admin.action(description="Publish selected")
    def publish(self, request, queryset):
        # Keep an earlier publication date; give undated rows today's date.
        queryset.filter(published_on__isnull=True).update(
            published_on=timezone.localdate()
        )
        count = queryset.update(status=Status.PUBLISHED, updated_at=timezone.now())
        CatalogueVersion.bump()  # update() sends no signals
        later = queryset.filter(published_on__gt=timezone.localdate()).count()
        note = (
            f" {later} of them will appear on their publication date." if later else ""
        )
        self.message_user(request, f"{count} published.{note}", messages.SUCCESS)

    @admin.action(description="Unpublish selected (back to draft)")
    def unpublish(self, request, queryset):
        count = queryset.update(status=Status.DRAFT, updated_at=timezone.now())
        CatalogueVersion.bump()
        self.message_user(request, f"{count} moved back to draft.", messages.SUCCESS)


@admin.register(Country)
class CountryAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "nuts_code"]
    search_fields = ["name", "code"]


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "level", "country", "parent"]
    list_filter = ["level", "country"]
    list_select_related = ["country", "parent"]
    search_fields = ["code", "name", "country__name"]
    autocomplete_fields = ["country", "parent"]


class TermAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "description"]
    search_fields = ["name", "description"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Theme)
class ThemeAdmin(TermAdmin):
    pass


@admin.register(InstrumentType)
class InstrumentTypeAdmin(TermAdmin):
    pass


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["acronym", "name", "lead_partner", "start_year", "end_year"]
    search_fields = ["acronym", "name", "lead_partner"]
    prepopulated_fields = {"slug": ["acronym"]}


class PracticeSourceInline(admin.TabularInline):
    model = PracticeSource
    extra = 1
    fields = ["position", "title", "url"]


class PracticeAdminForm(forms.ModelForm):
    uncertain_fields = forms.MultipleChoiceField(
        choices=Practice.UNCERTAIN_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Unconfirmed facts",
        help_text="Tick the facts the sources do not confirm; pages mark them.",
    )

    class Meta:
        model = Practice
        fields = "__all__"


@admin.register(Practice)
class PracticeAdmin(PublishActionsMixin, admin.ModelAdmin):
    form = PracticeAdminForm
    list_display = ["title", "status", "published_on", "level", "project", "updated_at"]
    list_filter = ["status", "level", "countries", "themes", "instruments", "project"]
    list_select_related = ["project"]
    search_fields = [
        "title",
        "summary",
        "institution",
        "city",
        "countries__name",
        "regions__name",
        "regions__code",
    ]
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["countries", "regions", "themes", "instruments", "project"]
    date_hierarchy = "published_on"
    readonly_fields = ["created_at", "updated_at"]
    inlines = [PracticeSourceInline]
    # Mirrors the public page: summary, key facts, the four narrative sections.
    fieldsets = [
        (None, {"fields": ["title", "slug", "summary"]}),
        (
            "Key facts",
            {
                "fields": [
                    "countries",
                    "regions",
                    "city",
                    "level",
                    "institution",
                    ("start_year", "end_year"),
                    "budget",
                    "beneficiaries",
                    "project",
                    "themes",
                    "instruments",
                ]
            },
        ),
        (
            "Narrative",
            {"fields": ["description", "resources", "evidence", "transfer"]},
        ),
        ("Trust", {"fields": ["uncertain_fields", "attribution"]}),
        (
            "Publication",
            {"fields": ["status", "published_on", "created_at", "updated_at"]},
        ),
    ]
