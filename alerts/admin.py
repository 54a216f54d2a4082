from django.contrib import admin

from practices.listing import list_practices

from .models import Alert


class StatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [
            ("pending", "Waiting for confirmation"),
            ("active", "Active"),
            ("unsubscribed", "Unsubscribed"),
        ]

    def queryset(self, request, queryset):
        match self.value():
            case "pending":
                return queryset.filter(
                    confirmed_at__isnull=True, unsubscribed_at__isnull=True
                )
            case "active":
                return queryset.active()
            case "unsubscribed":
                return queryset.filter(unsubscribed_at__isnull=False)
        return queryset


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    """E-mail alerts, to look at and delete: they are made and changed by their
    owners only (sign-up, confirmation and unsubscribe links). The admin is the one
    place addresses are shown; only accounts given the alert permissions see it
    (none of the curation groups has them)."""

    list_display = [
        "__str__",
        "email",
        "query",
        "status",
        "created_at",
        "confirmed_at",
        "last_sent_at",
    ]
    list_filter = [StatusFilter, "frequency", "created_at"]
    search_fields = ["email", "query"]
    date_hierarchy = "created_at"
    fields = [
        "email",
        "filters_in_words",
        "query",
        "frequency",
        "created_at",
        "confirmed_at",
        "last_sent_at",
        "unsubscribed_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # the view and delete permissions remain

    @admin.display(description="Status")
    def status(self, alert):
        if alert.unsubscribed_at:
            return "Unsubscribed"
        return "Active" if alert.confirmed_at else "Waiting for confirmation"

    @admin.display(description="List")
    def filters_in_words(self, alert):
        listing = list_practices(alert.filters)
        if not listing.valid:
            return "Filters no longer valid: " + "; ".join(listing.errors)
        return listing.description or "All practices"
