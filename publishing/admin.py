"""The workflow and the change history of practices and briefs in the admin.

The status is read-only in every form: it moves only through the workflow, with
the buttons under Save and the bulk actions. A revert is an edit, not a move: it
restores a version's content and keeps the status and publication date.
"""

from functools import partialmethod

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import model_ngettext, unquote
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import ForeignKey
from django.http import HttpResponseRedirect
from django.utils import formats, timezone
from simple_history.admin import SimpleHistoryAdmin
from simple_history.models import to_historic
from simple_history.template_utils import HistoricalRecordContextHelper
from simple_history.utils import get_m2m_reverse_field_name

from . import workflow
from .workflow import MOVES, Status, TransitionNotAllowed, perm


def after_inlines(name, fields):
    """A fieldset that the change form shows after the inlines (see the template)."""
    return (name, {"fields": fields, "classes": ["after-inlines"]})


class WorkflowAdminForm(forms.ModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Reverting to a version starts from that version's relations.
        record = to_historic(self.instance)
        if record is not None and not self.is_bound:
            for field in record._history_m2m_fields:
                if field.name in self.fields:
                    column = f"{get_m2m_reverse_field_name(field)}_id"
                    rows = getattr(record, field.name).values_list(column, flat=True)
                    self.initial[field.name] = list(rows)

    def clean_published_on(self):
        # The status is not in the form, so Django skips the constraint: say it.
        date = self.cleaned_data["published_on"]
        if not date and self.instance.status in (Status.PUBLISHED, Status.ARCHIVED):
            message = "A published or archived record keeps its publication date."
            raise forms.ValidationError(message)
        return date


def _move_action(move):
    def action(modeladmin, request, queryset):
        modeladmin.make_move(request, queryset, move)

    action.__name__ = move.name
    description = f"{move.label}: selected %(verbose_name_plural)s"
    return admin.action(action, permissions=[move.permission], description=description)


MOVE_ACTIONS = [_move_action(move) for move in MOVES.values()]


class ChangeContextHelper(HistoricalRecordContextHelper):
    """Shows a choice's label (“In review”), not its stored value."""

    def prepare_delta_change_value(self, change, value):
        field = self.model._meta.get_field(change.field)
        if field.choices:
            return dict(field.flatchoices).get(value, value)
        return super().prepare_delta_change_value(change, value)


class WorkflowAdmin(SimpleHistoryAdmin):
    form = WorkflowAdminForm
    change_form_template = "admin/workflow/change_form.html"
    object_history_template = "admin/workflow/object_history.html"
    object_history_form_template = "admin/workflow/object_history_form.html"
    actions = MOVE_ACTIONS
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["status", "created_at", "updated_at"]
    # Inline child rows whose changes the history page lists too:
    # (heading, model, name of its foreign key to this model).
    history_related = []

    def view_on_site(self, obj):
        # Until a record is public its public address is a 404: open the preview.
        if obj.status in (Status.PUBLISHED, Status.ARCHIVED):
            return obj.get_absolute_url()
        return obj.get_preview_url()

    def _may(self, request, action):
        return request.user.has_perm(perm(self.model, action))

    # What the move actions' `permissions` ask for.
    has_submit_permission = partialmethod(_may, action="submit")
    has_publish_permission = partialmethod(_may, action="publish")
    has_send_back_permission = partialmethod(_may, action="send_back")
    has_archive_permission = partialmethod(_may, action="archive")

    def get_readonly_fields(self, request, obj=None):
        if self.has_publish_permission(request):
            return self.readonly_fields
        return [*self.readonly_fields, "published_on"]

    def render_change_form(self, request, context, add=False, change=False, **kwargs):
        obj = kwargs.get("obj")
        moves = workflow.available_moves(obj, request.user) if change and obj else []
        context["workflow_moves"] = moves
        return super().render_change_form(request, context, add, change, **kwargs)

    @staticmethod
    def requested_move(request):
        """The workflow button pressed on the change form ("_workflow_<action>")."""
        pressed = [key for key in request.POST if key.startswith("_workflow_")]
        return pressed[0].removeprefix("_workflow_") if pressed else None

    def save_model(self, request, obj, form, change):
        action = self.requested_move(request)
        if to_historic(obj) is not None:
            self._keep_status_on_revert(request, obj)
        elif change and action:
            try:
                move = workflow.transition(obj, action, request.user, save=False)
            except (TransitionNotAllowed, PermissionDenied) as error:
                message = f"Your changes were saved, but not the move: {error}"
                self.message_user(request, message, messages.ERROR)
            else:
                message = f"Saved, and “{obj}” {move.done}."
                self.message_user(request, message, messages.SUCCESS)
        super().save_model(request, obj, form, change)

    def response_change(self, request, obj):
        if self.requested_move(request):  # stay on the form; save_model said why
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)

    def make_move(self, request, queryset, move):
        """Apply `move` to each selected row it applies to; report the others."""
        moved, skipped = [], []
        with transaction.atomic():  # derived state is brought up to date once
            for obj in queryset.order_by("pk"):
                try:
                    workflow.transition(obj, move.name, request.user)
                    moved.append(obj)
                except (TransitionNotAllowed, PermissionDenied) as error:
                    skipped.append(str(error))
        if moved:
            noun = model_ngettext(self.opts, len(moved))
            message = f"{len(moved)} {noun} {move.done}."
            today = timezone.localdate()
            if move.target == Status.PUBLISHED and (
                later := sum(obj.published_on > today for obj in moved)
            ):
                message += f" {later} of them will appear on their publication date."
            self.message_user(request, message, messages.SUCCESS)
        if skipped:
            more = f"; and {len(skipped) - 10} more" if len(skipped) > 10 else ""
            message = f"{len(skipped)} not {move.done}: {'; '.join(skipped[:10])}{more}"
            self.message_user(request, message, messages.WARNING)

    # --- history and revert ---------------------------------------------------------

    def get_history_queryset(self, request, history_manager, pk_name, object_id):
        # As simple-history's, but never select_related() with no arguments
        # (deprecated in Django 6.1), which it calls when no foreign key is tracked.
        model = history_manager.model
        related = [f.name for f in model.tracked_fields if isinstance(f, ForeignKey)]
        return history_manager.filter(**{pk_name: object_id}).select_related(
            "history_user", *related
        )

    def get_historical_record_context_helper(self, request, historical_record):
        return ChangeContextHelper(self.model, historical_record)

    def render_history_view(self, request, template, context, **kwargs):
        if template == self.object_history_template:  # the list, not a version
            context["related_history"] = [
                {"heading": heading, "rows": self._child_history(model, fk, context)}
                for heading, model, fk in self.history_related
            ]
        return super().render_history_view(request, template, context, **kwargs)

    def _child_history(self, model, fk, context, limit=100):
        """The latest changes to the object's child rows, newest first, each with
        its differences from the previous version of the same row."""
        records = model.history.filter(**{fk: context["object"].pk})
        records = records.select_related("history_user")
        records = list(records.order_by("-history_date", "-history_id")[:limit])
        pk_name, earlier = model._meta.pk.attname, {}
        for record in reversed(records):
            record.changes = []
            before = earlier.get(getattr(record, pk_name))
            if before is not None and record.history_type == "~":
                delta = record.diff_against(before, foreign_keys_are_objs=True)
                helper = ChangeContextHelper(model, record)
                record.changes = helper.context_for_delta_changes(delta)
            earlier[getattr(record, pk_name)] = record
        return records

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        current = self.get_object(request, unquote(object_id))
        # simple-history only hides the button from those who may not change.
        if request.method == "POST" and self.revert_disabled(request, current):
            raise PermissionDenied
        context = {"current_status": current.get_status_display() if current else ""}
        context.update(extra_context or {})
        with transaction.atomic():  # as the change form: one change, indexed once
            return super().history_form_view(request, object_id, version_id, context)

    def _keep_status_on_revert(self, request, obj):
        obj.refresh_from_db(fields=["status", "published_on"])  # both stay
        when = to_historic(obj).history_date
        when = formats.date_format(timezone.localtime(when), "DATETIME_FORMAT")
        obj._change_reason = f"Reverted to the version of {when}"[:100]
        message = f"“{obj}” reverted to the version of {when}; its status stays "
        message += f"{workflow.label(obj.status)}."
        self.message_user(request, message, messages.SUCCESS)
