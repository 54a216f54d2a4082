from functools import partial

from django import forms
from django.contrib import admin
from django.urls import path

from opendata.admin import export_csv, export_json, import_view

from .admin_links import (
    BrokenLinksColumnMixin,
    BrokenLinksFilter,
    LinkStatusInlineMixin,
)
from .admin_workflow import (
    AFTER_INLINES,
    MOVE_ACTIONS,
    ReviewFilter,
    WorkflowAdmin,
    WorkflowAdminForm,
    set_review_date,
)
from .models import (
    Country,
    InstrumentType,
    Practice,
    PracticeSource,
    Project,
    Region,
    Theme,
)


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


class PracticeSourceInline(LinkStatusInlineMixin, admin.TabularInline):
    model = PracticeSource
    extra = 1
    fields = ["position", "title", "url", "link_status"]
    readonly_fields = ["link_status"]


class PracticeAdminForm(WorkflowAdminForm):
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
class PracticeAdmin(BrokenLinksColumnMixin, WorkflowAdmin):
    form = PracticeAdminForm
    list_display = [
        "title",
        "status",
        "published_on",
        "review_by",
        "level",
        "project",
        "updated_at",
        "broken_links",
    ]
    list_filter = [
        "status",
        ReviewFilter,
        "level",
        "countries",
        "themes",
        "instruments",
        "project",
        BrokenLinksFilter,
    ]
    list_select_related = ["project"]
    search_fields = [
        "title",
        "summary",
        "institution",
        "city",
        "countries__name",
        "=countries__code",
        "regions__name",
        "^regions__code",  # ITH finds ITH5 and the other regions inside ITH
    ]
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["countries", "regions", "themes", "instruments", "project"]
    date_hierarchy = "published_on"
    readonly_fields = ["created_at", "updated_at"]
    inlines = [PracticeSourceInline]
    history_related = [("Sources", PracticeSource, "practice")]
    actions = [*MOVE_ACTIONS, set_review_date, export_csv, export_json]
    # Adds the link to the import page (opendata/admin.py) to the object tools.
    change_list_template = "admin/practices/practice/change_list.html"
    # In the public page's order: title and summary, key facts, the four narrative
    # sections, sources (the inline), attribution, then status and freshness.
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
                    ("start_year", "end_year", "still_running"),
                    "budget",
                    "beneficiaries",
                    "project",
                    "themes",
                    "instruments",
                ]
            },
        ),
        (
            "Narrative sections",
            {"fields": ["description", "resources", "evidence", "transfer"]},
        ),
        (
            "Trust",
            {"fields": ["uncertain_fields", "attribution"], "classes": [AFTER_INLINES]},
        ),
        (
            "Status and freshness",
            {
                "fields": [
                    "status",
                    "published_on",
                    "last_verified_on",
                    "review_by",
                    "created_at",
                    "updated_at",
                ],
                "classes": [AFTER_INLINES],
            },
        ),
    ]

    def get_urls(self):
        # Before the model's own URLs, whose "<path:object_id>/" would take it.
        view = self.admin_site.admin_view(partial(import_view, self))
        return [
            path("import/", view, name="practices_practice_import"),
            *super().get_urls(),
        ]
