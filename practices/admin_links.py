"""Link-check results in the admin (`manage.py check_links` records them):
the LinkCheck list, a "Source links" filter and a "Broken links" column for
practices, and each source's link status in the practice form."""

from django.contrib import admin
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


def failing_urls():
    return LinkCheck.objects.filter(ok=False).values("url")


def link_status_text(ok, status_code, error, failures, checked_at):
    """ "OK (200) · checked 26 Nov 2026", "Broken (404) · …", "Not checked"."""
    if checked_at is None:
        return "Not checked"
    checked = formats.date_format(timezone.localtime(checked_at), "DATE_FORMAT")
    if ok:
        return f"OK ({status_code}) · checked {checked}"
    if status_code or error.startswith(MALFORMED):
        verdict = f"Broken ({status_code or error})"
    else:
        verdict = f"Unreachable ({error})"
    in_a_row = f" · {failures} failed checks in a row" if failures > 1 else ""
    return f"{verdict}{in_a_row} · checked {checked}"


class FailuresFilter(admin.SimpleListFilter):
    title = "failed checks in a row"
    parameter_name = "failures"

    def lookups(self, request, model_admin):
        return [("0", "None"), ("1", "1 or more"), ("3", "3 or more")]

    def queryset(self, request, queryset):
        if self.value() == "0":
            return queryset.filter(failures=0)
        if self.value() in ("1", "3"):
            return queryset.filter(failures__gte=int(self.value()))
        return queryset


@admin.register(LinkCheck)
class LinkCheckAdmin(admin.ModelAdmin):
    """Read-only: rows come from `manage.py check_links`. Deleting one only
    forgets a result; the next run checks the link again."""

    list_display = [
        "url",
        "ok",
        "status_code",
        "error",
        "failures",
        "checked_at",
        "used_by_count",
    ]
    list_filter = ["ok", FailuresFilter]
    search_fields = ["url"]
    date_hierarchy = "checked_at"
    fields = ["url", "ok", "status_code", "error", "failures", "checked_at", "used_by"]
    readonly_fields = fields

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
        for model, field, name, user, page, pk in link_keepers():
            rows = model.objects.filter(**{field: obj.url}).order_by(name, "pk")
            for pk_value, label in rows.values_list(pk, name):
                url = reverse(f"admin:{page}_change", args=[pk_value])
                kind = user.split()[0].capitalize()  # "Practice", "Brief", …
                items.append((kind, url, label))
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
        checked_ok = LinkCheck.objects.filter(ok=True).values("url")
        if self.value() == "broken":
            return queryset.filter(Exists(sources.filter(url__in=failing_urls())))
        if self.value() == "ok":
            return queryset.filter(Exists(sources)).exclude(
                Exists(sources.exclude(url__in=checked_ok))
            )
        if self.value() == "unchecked":
            checked = LinkCheck.objects.values("url")
            return queryset.filter(Exists(sources.exclude(url__in=checked)))
        return queryset


class BrokenLinksColumnMixin:
    """For PracticeAdmin: a "Broken links" column (one subquery in the list's
    query) that curators can sort on."""

    def get_queryset(self, request):
        broken = PracticeSource.objects.filter(
            practice=OuterRef("pk"), url__in=failing_urls()
        )
        return (
            super()
            .get_queryset(request)
            .annotate(broken_link_count=_count(broken, "practice"))
        )

    @admin.display(description="Broken links", ordering="-broken_link_count")
    def broken_links(self, obj):
        return obj.broken_link_count or ""


class LinkStatusInlineMixin:
    """For PracticeSourceInline: a read-only `link_status` per source row, from
    columns annotated on the inline's own query (no query per row)."""

    def get_queryset(self, request):
        checks = LinkCheck.objects.filter(url=OuterRef("url"))
        return (
            super()
            .get_queryset(request)
            .annotate(
                **{
                    f"link_{name}": Subquery(checks.values(name)[:1])
                    for name in ("ok", "status_code", "error", "failures", "checked_at")
                }
            )
        )

    @admin.display(description="Link check")
    def link_status(self, obj):
        if obj is None or obj.pk is None:  # the blank row for a new source
            return ""
        if not hasattr(obj, "link_checked_at"):  # not from get_queryset: look it up
            check = LinkCheck.objects.filter(url=obj.url).first()
            if check is None:
                return "Not checked"
            values = (check.ok, check.status_code, check.error, check.failures)
            return link_status_text(*values, check.checked_at)
        return link_status_text(
            obj.link_ok,
            obj.link_status_code,
            obj.link_error or "",
            obj.link_failures or 0,
            obj.link_checked_at,
        )
