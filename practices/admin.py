"""The catalogue in the admin, with the link checks `manage.py check_links` records."""

from functools import partial

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.templatetags.admin_urls import admin_urlname
from django.core.validators import MinValueValidator
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join

from evidence.admin import GradeInline, OutcomeFigureInline
from evidence.models import NOT_GRADED, EvidenceLevel, Grade, OutcomeFigure, grade_of
from opendata.admin import export_csv, export_json, import_view
from publishing.admin import (
    MOVE_ACTIONS,
    WorkflowAdmin,
    WorkflowAdminForm,
    after_inlines,
)

from .links import MALFORMED, link_keepers
from .models import (
    REVIEW_OVERDUE,
    Country,
    InstrumentType,
    LinkCheck,
    LocalDate,
    Practice,
    PracticeSource,
    Project,
    Region,
    Status,
    Theme,
)


@admin.register(Country)
class CountryAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "nuts_code"]
    search_fields = ["name", "code"]


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_en", "level", "country", "parent"]
    list_filter = ["level", "country"]
    list_select_related = ["country", "parent"]
    search_fields = ["code", "name", "name_en", "country__name"]
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


class ConditionFilter(admin.SimpleListFilter):
    """A filter whose options are `conditions`: {value: (label, condition)}."""

    conditions = {}

    def lookups(self, request, model_admin):
        return [(value, label) for value, (label, _) in self.conditions.items()]

    def queryset(self, request, queryset):
        if self.value() in self.conditions:
            return queryset.filter(self.conditions[self.value()][1])

    @classmethod
    def queue(cls, label, value):
        """One of its options as a work queue (WorkflowAdmin.get_work_queue)."""
        return (label, {cls.parameter_name: value}, cls.conditions[value][1])


class ReviewFilter(ConditionFilter):
    """As the public pages flag them: the review_by day itself is still fresh."""

    title = "review"
    parameter_name = "review"
    conditions = {
        "due": ("Needs review (review date passed)", REVIEW_OVERDUE),
        "none": ("No review date", Q(review_by__isnull=True)),
        "later": ("Review date not yet reached", Q(review_by__gte=LocalDate())),
    }


class EvidenceFilter(ConditionFilter):
    """Practices by their evidence grade (evidence.Grade), or without one."""

    title = "evidence level"
    parameter_name = "evidence"
    conditions = {
        NOT_GRADED: ("Not graded", Q(grade__isnull=True)),
        **{
            str(level): (f"{level} – {label}", Q(grade__level=level))
            for level, label in EvidenceLevel.choices
        },
    }


class ReviewDateForm(forms.Form):
    review_by = forms.DateField(
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
        }
        return TemplateResponse(request, "admin/workflow/set_review_date.html", context)
    review_by, done, skipped = form.cleaned_data["review_by"], 0, []
    with transaction.atomic():  # derived state is brought up to date once
        for obj in queryset.order_by("pk"):
            verified = obj.last_verified_on
            if verified and verified > review_by:
                skipped.append(
                    f"“{obj}” was last verified on {verified}, after that date"
                )
                continue
            obj.review_by = review_by
            obj._change_reason = "Review date set"
            obj.save(update_fields=["review_by", "updated_at"])
            done += 1
    if done:
        message = f"Review date set to {review_by} for {done} of {done + len(skipped)}."
        modeladmin.message_user(request, message, messages.SUCCESS)
    if skipped:
        message = f"Not changed: {'; '.join(skipped)}."
        modeladmin.message_user(request, message, messages.WARNING)


def _count(queryset, column):
    """A correlated COUNT(*) subquery over `queryset`, grouped on `column`."""
    counted = queryset.values(column).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted), 0)


class FailuresFilter(ConditionFilter):
    title = "failed checks in a row"
    parameter_name = "failures"
    conditions = {
        "0": ("None", Q(failures=0)),
        "1": ("1 or more", Q(failures__gte=1)),
        "3": ("3 or more", Q(failures__gte=3)),
    }


@admin.register(LinkCheck)
class LinkCheckAdmin(admin.ModelAdmin):
    """Read-only: rows come from `manage.py check_links`. Deleting one only
    forgets a result; the next run checks the link again."""

    fields = ["url", "ok", "status_code", "error", "failures", "checked_at", "used_by"]
    list_display = [*fields[:-1], "used_by_count"]
    list_filter = ["ok", FailuresFilter]
    search_fields = ["url"]
    date_hierarchy = "checked_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        used_by_count = sum(
            _count(model.objects.filter(**{field: OuterRef("url")}), field)
            for model, field, *_ in link_keepers()
        )
        return super().get_queryset(request).annotate(used_by_count=used_by_count)

    @admin.display(description="Used by", ordering="used_by_count")
    def used_by_count(self, obj):
        return obj.used_by_count or "nothing (forgotten at the next full run)"

    @admin.display(description="Used by")
    def used_by(self, obj):
        items = []
        for model, field, name, _ in link_keepers():
            for record in model.objects.filter(**{field: obj.url}).order_by(name, "pk"):
                url = reverse(admin_urlname(record._meta, "change"), args=[record.pk])
                items.append((record._meta.verbose_name.capitalize(), url, record))
        if not items:
            return "Nothing any more"
        rows = format_html_join("", '<li>{}: <a href="{}">{}</a></li>', items)
        return format_html("<ul>{}</ul>", rows)


# A practice's sources, and the URLs checked, for the link filter and counts.
SOURCES = PracticeSource.objects.filter(practice=OuterRef("pk"))
CHECKED = LinkCheck.objects.values("url")


class BrokenLinksFilter(ConditionFilter):
    """Practices by the latest check of their source links."""

    title = "source links"
    parameter_name = "links"
    conditions = {
        "broken": ("Broken", Q(broken_link_count__gt=0)),  # PracticeAdmin counts them
        "ok": (
            "All OK",
            Exists(SOURCES) & ~Exists(SOURCES.exclude(url__in=CHECKED.filter(ok=True))),
        ),
        "unchecked": ("Not checked yet", Exists(SOURCES.exclude(url__in=CHECKED))),
    }


class PracticeSourceInline(admin.TabularInline):
    model = PracticeSource
    extra = 1
    fields = ["position", "title", "url", "link_status"]
    readonly_fields = ["link_status"]

    def get_queryset(self, request):
        # Each source's latest link check, annotated: no query per row.
        checks = LinkCheck.objects.filter(url=OuterRef("url"))
        annotations = {
            f"link_{name}": Subquery(checks.values(name)[:1])
            for name in ["ok", "status_code", "error", "failures", "checked_at"]
        }
        return super().get_queryset(request).annotate(**annotations)

    @admin.display(description="Link check")
    def link_status(self, obj):
        if obj is None or obj.pk is None:  # the blank row for a new source
            return ""
        if obj.link_checked_at is None:
            return "Not checked"
        checked = formats.date_format(timezone.localdate(obj.link_checked_at))
        if obj.link_ok:
            return f"OK ({obj.link_status_code}) · checked {checked}"
        if obj.link_status_code or obj.link_error.startswith(MALFORMED):
            verdict = f"Broken ({obj.link_status_code or obj.link_error})"
        else:
            verdict = f"Unreachable ({obj.link_error})"
        if obj.link_failures > 1:
            verdict += f" · {obj.link_failures} failed checks in a row"
        return f"{verdict} · checked {checked}"


class PracticeAdminForm(WorkflowAdminForm):
    uncertain_fields = forms.MultipleChoiceField(
        choices=Practice.UNCERTAIN_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Unconfirmed facts",
        help_text="Tick the facts the sources do not confirm; pages mark them.",
    )
    declared_none = forms.MultipleChoiceField(
        choices=Practice.UNCERTAIN_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Searched, none published",
        help_text="Tick the facts you looked for when you last verified the "
        "record and found nowhere: pages say “none published as of” the month of "
        "“last verified”, which must be set.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # An honest default the curator may edit: PracticeAdmin.complete() fills
        # it in from the sources, once they are saved.
        self.fields["attribution"].required = False
        self.fields["attribution"].help_text = (
            "The attribution and licence line shown with the practice. Left empty, "
            "it is written from the sources when you save: who wrote the summary, "
            "the sites that publish the sources, and Interreg Europe's reuse terms "
            "when one is its page. Edit it as you need."
        )


@admin.register(Practice)
class PracticeAdmin(WorkflowAdmin):
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
        "evidence_level",
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
        EvidenceFilter,
    ]
    list_select_related = ["project", "grade"]
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
    autocomplete_fields = ["countries", "regions", "themes", "instruments", "project"]
    date_hierarchy = "published_on"
    inlines = [PracticeSourceInline, GradeInline, OutcomeFigureInline]
    history_related = [
        ("Sources", PracticeSource, "practice"),
        ("Evidence grade", Grade, "practice"),
        ("Outcome figures", OutcomeFigure, "practice"),
    ]
    actions = [*MOVE_ACTIONS, set_review_date, export_csv, export_json]
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
            "What it takes",
            {"fields": ["budget_scale", "funding_source", "legal_basis", "staff"]},
        ),
        (
            "Narrative sections",
            {"fields": ["description", "resources", "evidence", "transfer"]},
        ),
        after_inlines("Trust", ["uncertain_fields", "attribution"]),
        after_inlines(
            "Status and freshness",
            [
                "status",
                "published_on",
                "last_verified_on",
                "review_by",
                "declared_none",
                "created_at",
                "updated_at",
            ],
        ),
    ]

    def get_queryset(self, request):
        broken = SOURCES.filter(url__in=CHECKED.filter(ok=False))
        count = _count(broken, "practice")
        return super().get_queryset(request).annotate(broken_link_count=count)

    def get_work_queue(self, request):
        return [
            *super().get_work_queue(request),
            ReviewFilter.queue("Review overdue", "due"),
            BrokenLinksFilter.queue("Broken source links", "broken"),
            (
                "Published, not graded",
                {
                    "status__exact": Status.PUBLISHED,
                    EvidenceFilter.parameter_name: NOT_GRADED,
                },
                Q(status=Status.PUBLISHED, grade__isnull=True),
            ),
        ]

    def complete(self, obj):
        if not obj.attribution.strip():
            urls = obj.sources.values_list("url", flat=True)
            obj.attribution = Practice.attribution_from(list(urls))

    @admin.display(description="Evidence level", ordering="grade__level")
    def evidence_level(self, obj):
        grade = grade_of(obj)
        return grade.level if grade else "Not graded"

    @admin.display(description="Broken links", ordering="-broken_link_count")
    def broken_links(self, obj):
        return obj.broken_link_count or ""

    def get_urls(self):
        # Before the model's own URLs, whose "<path:object_id>/" would take it.
        view = self.admin_site.admin_view(partial(import_view, self))
        return [
            path("import/", view, name="practices_practice_import"),
            *super().get_urls(),
        ]
