from functools import partial

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.validators import MinValueValidator
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from opendata.admin import export_csv, export_json, import_view
from publishing.admin import (
    AFTER_INLINES,
    MOVE_ACTIONS,
    WorkflowAdmin,
    WorkflowAdminForm,
)

from .admin_links import (
    BrokenLinksColumnMixin,
    BrokenLinksFilter,
    LinkStatusInlineMixin,
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


@admin.register(Theme, InstrumentType)
class TermAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "description"]
    search_fields = ["name", "description"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["acronym", "name", "lead_partner", "start_year", "end_year"]
    search_fields = ["acronym", "name", "lead_partner"]
    prepopulated_fields = {"slug": ["acronym"]}


# --- review dates ------------------------------------------------------------


class ReviewFilter(admin.SimpleListFilter):
    """As the public pages flag them: the review_by day itself is still fresh."""

    title = "review"
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return [
            ("due", "Needs review (review date passed)"),
            ("none", "No review date"),
            ("later", "Review date not yet reached"),
        ]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "due":
            return queryset.filter(review_by__lt=today)
        if self.value() == "none":
            return queryset.filter(review_by__isnull=True)
        if self.value() == "later":
            return queryset.filter(review_by__gte=today)
        return queryset


class ReviewDateForm(forms.Form):
    review_by = forms.DateField(
        label="Review by",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="The day the selected records are due for their next check "
        "against their sources (YYYY-MM-DD; today or later).",
        validators=[
            MinValueValidator(
                timezone.localdate,
                "Choose today or a later date: a review date in the past would "
                "flag the records as overdue at once.",
            )
        ],
    )


@admin.action(
    permissions=["change"],
    description="Set the review date of selected %(verbose_name_plural)s",
)
def set_review_date(modeladmin, request, queryset):
    """An intermediate page asks for the date; then each row gets it, except
    rows last verified after it (a review comes after the last check)."""
    form = ReviewDateForm(request.POST if "apply" in request.POST else None)
    if not form.is_valid():
        opts, objects, count = modeladmin.opts, list(queryset[:50]), queryset.count()
        context = {
            **modeladmin.admin_site.each_context(request),
            "title": f"Set the review date of {opts.verbose_name_plural}",
            "opts": opts,
            "form": form,
            "objects": objects,
            "count": count,
            "more": count - len(objects),
            "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
            "media": modeladmin.media,
        }
        return TemplateResponse(request, "admin/workflow/set_review_date.html", context)
    review_by, done, skipped = form.cleaned_data["review_by"], 0, []
    for obj in queryset.order_by("pk"):
        verified = obj.last_verified_on
        if verified and verified > review_by:
            skipped.append(f"“{obj}” was last verified on {verified}, after that date")
            continue
        obj.review_by = review_by
        obj._history_user = request.user
        obj._change_reason = "Review date set"
        obj.save(update_fields=["review_by", "updated_at"])
        done += 1
    if done:
        message = f"Review date set to {review_by} for {done} of {done + len(skipped)}."
        modeladmin.message_user(request, message, messages.SUCCESS)
    if skipped:
        message = f"Not changed: {'; '.join(skipped)}."
        modeladmin.message_user(request, message, messages.WARNING)


# --- practices ---------------------------------------------------------------


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
