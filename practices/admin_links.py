"""Link-check results in the admin (`manage.py check_links` records them): the
LinkCheck list, and for practices a "Broken links" column, a "Source links" filter
and each source's status in the practice form."""

from django.contrib import admin
from django.contrib.admin.templatetags.admin_urls import admin_urlname
from django.db.models import Count, Exists, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join

from .links import MALFORMED, link_keepers
from .models import LinkCheck, PracticeSource


def _count(queryset, column):
    """A correlated COUNT(*) subquery over `queryset`, grouped on `column`."""
    counted = queryset.values(column).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


class FailuresFilter(admin.SimpleListFilter):
    title = "failed checks in a row"
    parameter_name = "failures"

    def lookups(self, request, model_admin):
        return [("0", "None"), ("1", "1 or more"), ("3", "3 or more")]

    def queryset(self, request, queryset):
        if self.value() == "0":
            return queryset.filter(failures=0)
        if self.value() in ("1", "3"):
            return queryset.filter(failures__gte=self.value())


@admin.register(LinkCheck)
class LinkCheckAdmin(admin.ModelAdmin):
    """Read-only: rows come from `manage.py check_links`. Deleting one only
    forgets a result; the next run checks the link again."""

    fields = ["url", "ok", "status_code", "error", "failures", "checked_at", "used_by"]
    readonly_fields = fields
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
            for row in model.objects.filter(**{field: obj.url}).order_by(name, "pk"):
                record = getattr(row, "practice", row)  # a source: its practice
                url = reverse(admin_urlname(record._meta, "change"), args=[record.pk])
                items.append((record._meta.verbose_name.capitalize(), url, record))
        if not items:
            return "Nothing any more"
        rows = format_html_join("", '<li>{}: <a href="{}">{}</a></li>', items)
        return format_html("<ul>{}</ul>", rows)


class BrokenLinksFilter(admin.SimpleListFilter):
    """Practices by the latest check of their source links."""

    title = "source links"
    parameter_name = "links"

    def lookups(self, request, model_admin):
        return [
            ("broken", "Broken"),
            ("ok", "All OK"),
            ("unchecked", "Not checked yet"),
        ]

    def queryset(self, request, queryset):
        sources = PracticeSource.objects.filter(practice=OuterRef("pk"))
        checks = LinkCheck.objects.values("url")
        if self.value() == "broken":
            return queryset.filter(
                Exists(sources.filter(url__in=checks.filter(ok=False)))
            )
        if self.value() == "ok":
            not_ok = sources.exclude(url__in=checks.filter(ok=True))
            return queryset.filter(Exists(sources)).exclude(Exists(not_ok))
        if self.value() == "unchecked":
            return queryset.filter(Exists(sources.exclude(url__in=checks)))


class BrokenLinksColumnMixin:
    """For PracticeAdmin: a sortable "Broken links" column (one subquery)."""

    def get_queryset(self, request):
        failing = LinkCheck.objects.filter(ok=False).values("url")
        broken = PracticeSource.objects.filter(practice=OuterRef("pk"), url__in=failing)
        count = _count(broken, "practice")
        return super().get_queryset(request).annotate(broken_link_count=count)

    @admin.display(description="Broken links", ordering="-broken_link_count")
    def broken_links(self, obj):
        return obj.broken_link_count or ""


class LinkStatusInlineMixin:
    """For PracticeSourceInline: each source's link status, from columns annotated
    on the inline's own query (no query per row)."""

    def get_queryset(self, request):
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
        checked = formats.date_format(
            timezone.localtime(obj.link_checked_at), "DATE_FORMAT"
        )
        if obj.link_ok:
            return f"OK ({obj.link_status_code}) · checked {checked}"
        if obj.link_status_code or obj.link_error.startswith(MALFORMED):
            verdict = f"Broken ({obj.link_status_code or obj.link_error})"
        else:
            verdict = f"Unreachable ({obj.link_error})"
        if obj.link_failures > 1:
            verdict += f" · {obj.link_failures} failed checks in a row"
        return f"{verdict} · checked {checked}"
