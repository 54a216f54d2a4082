from django.conf import settings
from django.contrib import admin, messages
from django.utils import timezone

from .models import Feedback, daily_cap_reached_at


@admin.register(Feedback)
class FeedbackAdmin(admin.ModelAdmin):
    list_display = ["__str__", "page_url", "name", "email", "created_at", "is_handled"]
    list_filter = ["is_handled", "created_at"]
    search_fields = ["description", "page_url", "name", "email"]
    date_hierarchy = "created_at"
    # The report is the sender's words; curators only record that it was handled
    # (handled_at follows the flag: save_model).
    readonly_fields = ["description", "page_url", "name", "email", "created_at"]
    fields = [*readonly_fields, "is_handled", "handled_at"]
    readonly_fields = [*readonly_fields, "handled_at"]
    actions = ["mark_handled", "mark_not_handled"]

    def has_add_permission(self, request):
        return False  # reports come from the public form only

    def changelist_view(self, request, extra_context=None):
        # On GET only: an action's POST redirects to a GET, which tells it.
        if request.method == "GET" and (reached_at := daily_cap_reached_at()):
            messages.warning(
                request,
                f"Today's limit of {settings.FEEDBACK_DAILY_CAP} reports was reached "
                f"at {timezone.localtime(reached_at):%H:%M}: the feedback form refuses "
                "new reports until midnight, telling senders to try again tomorrow. "
                "The site's operators can change the limit (FEEDBACK_DAILY_CAP).",
            )
        return super().changelist_view(request, extra_context)

    def save_model(self, request, obj, form, change):
        # As the constraint feedback_handled_has_date asks; a handled report keeps
        # the time it was first marked handled.
        if not obj.is_handled or obj.handled_at is None:
            obj.handled_at = timezone.now() if obj.is_handled else None
        super().save_model(request, obj, form, change)

    @admin.action(description="Mark selected feedback as handled")
    def mark_handled(self, request, queryset):
        queryset.filter(is_handled=False).update(
            is_handled=True, handled_at=timezone.now()
        )

    @admin.action(description="Mark selected feedback as not handled")
    def mark_not_handled(self, request, queryset):
        queryset.update(is_handled=False, handled_at=None)
