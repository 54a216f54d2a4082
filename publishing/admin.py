"""The curation workflow and change history in the admin, for practices and briefs.

- The status is read-only in every form (new records start as drafts); it moves
  only through publishing.workflow: the buttons under Save on the change form, for
  the moves this user may make, and the bulk actions of the list, which move each
  selected row that may move and report the others with the reason.
- History (django-simple-history): each version with who, when and what changed
  (old → new per field, names for relations and choices). Reverting restores the
  content of a version; the status and publication date stay as they are (a
  revert is an edit, not a workflow move), and it needs the change permission.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import ForeignKey, ManyToManyField
from django.http import HttpResponseRedirect
from django.utils import formats, timezone
from simple_history.admin import SimpleHistoryAdmin
from simple_history.models import to_historic
from simple_history.template_utils import HistoricalRecordContextHelper
from simple_history.utils import get_m2m_reverse_field_name

from . import workflow
from .workflow import MOVES, Status, perm

# The change form's workflow buttons are named "_workflow_<action>" (inputs, not
# <button>s, so they look like the admin's other buttons).
WORKFLOW_PREFIX = "_workflow_"
# Fieldsets with this class are shown after the inlines (see the template).
AFTER_INLINES = "after-inlines"


def requested_move(request):
    """The action of the workflow button pressed on the change form, if any."""
    return next(
        (
            key.removeprefix(WORKFLOW_PREFIX)
            for key in request.POST
            if key.startswith(WORKFLOW_PREFIX)
        ),
        None,
    )


def reason(error):
    """The message of a refused move, for the curator."""
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error)


class WorkflowAdminForm(forms.ModelForm):
    """For practices and briefs: a published or archived record keeps a date;
    a form reverting to an earlier version starts from that version's relations."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        record = to_historic(self.instance)
        if record is not None and not self.is_bound:
            for field in record._history_m2m_fields:
                if field.name in self.fields:
                    related = get_m2m_reverse_field_name(field)
                    rows = getattr(record, field.name).all()
                    ids = rows.values_list(f"{related}_id", flat=True)
                    self.initial[field.name] = list(ids)

    def clean(self):
        cleaned = super().clean()
        if (
            "published_on" in self.fields
            and self.instance.status in (Status.PUBLISHED, Status.ARCHIVED)
            and not cleaned.get("published_on")
            and "published_on" not in self.errors
        ):
            self.add_error(
                "published_on",
                "A published or archived record keeps its publication date.",
            )
        return cleaned


def _move_action(move):
    def action(modeladmin, request, queryset):
        modeladmin.make_move(request, queryset, move)

    action.__name__ = move.name
    return admin.action(
        action,
        permissions=[move.permission],
        description=f"{move.label}: selected %(verbose_name_plural)s",
    )


MOVE_ACTIONS = [_move_action(move) for move in MOVES.values()]


class ChangeContextHelper(HistoricalRecordContextHelper):
    """Shows a choice's label (“In review”), not its stored value."""

    def prepare_delta_change_value(self, change, value):
        field = self.model._meta.get_field(change.field)
        if field.choices and not isinstance(field, ManyToManyField):
            return dict(field.flatchoices).get(value, value)
        return super().prepare_delta_change_value(change, value)


class WorkflowAdmin(SimpleHistoryAdmin):
    """Base admin for models that follow publishing.workflow and keep history."""

    form = WorkflowAdminForm
    change_form_template = "admin/workflow/change_form.html"
    object_history_template = "admin/workflow/object_history.html"
    object_history_form_template = "admin/workflow/object_history_form.html"
    actions = MOVE_ACTIONS
    # Child rows edited inline whose changes the history page lists too:
    # (heading, model, name of its foreign key to this model).
    history_related = []

    def view_on_site(self, obj):
        """Published and archived records open at their public address; the rest
        open in the staff-only preview (the public address is a 404 for them)."""
        if obj.status in (Status.PUBLISHED, Status.ARCHIVED):
            return obj.get_absolute_url()
        return obj.get_preview_url()

    # --- permissions of the moves (used by the bulk actions) -------------------

    def has_submit_permission(self, request):
        return request.user.has_perm(perm(self.model, "submit"))

    def has_publish_permission(self, request):
        return request.user.has_perm(perm(self.model, "publish"))

    def has_send_back_permission(self, request):
        return request.user.has_perm(perm(self.model, "send_back"))

    def has_archive_permission(self, request):
        return request.user.has_perm(perm(self.model, "archive"))

    # --- the change form -------------------------------------------------------

    def get_readonly_fields(self, request, obj=None):
        fields = [*super().get_readonly_fields(request, obj), "status"]
        if not self.has_publish_permission(request):
            fields.append("published_on")
        return fields

    def render_change_form(
        self, request, context, add=False, change=False, form_url="", obj=None
    ):
        moves = workflow.available_moves(obj, request.user) if change and obj else []
        context["workflow_moves"] = moves
        return super().render_change_form(request, context, add, change, form_url, obj)

    def save_model(self, request, obj, form, change):
        action = requested_move(request)
        if to_historic(obj) is not None:
            self._keep_status_on_revert(request, obj)
        elif change and action:
            try:
                move = workflow.transition(obj, action, request.user, save=False)
            except (ValidationError, PermissionDenied) as error:
                self.message_user(
                    request,
                    f"Your changes were saved, but not the move: {reason(error)}",
                    messages.ERROR,
                )
            else:
                self.message_user(
                    request, f"Saved, and “{obj}” {move.done}.", messages.SUCCESS
                )
        super().save_model(request, obj, form, change)

    def response_change(self, request, obj):
        if requested_move(request):  # stay on the form; save_model said why
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)

    # --- bulk moves --------------------------------------------------------------

    def make_move(self, request, queryset, move):
        """Apply `move` to each selected row it applies to; report the rest. One
        transaction, so derived state is brought up to date once for all of them."""
        moved, skipped = [], []
        with transaction.atomic():  # the moves commit, and are indexed, together
            for obj in queryset.order_by("pk"):
                try:
                    workflow.transition(obj, move.name, request.user)
                except (ValidationError, PermissionDenied) as error:
                    skipped.append(reason(error))
                else:
                    moved.append(obj)
        opts = self.opts
        if moved:
            noun = opts.verbose_name if len(moved) == 1 else opts.verbose_name_plural
            note = ""
            if move.target == Status.PUBLISHED:
                today = timezone.localdate()
                later = sum(obj.published_on > today for obj in moved)
                if later:
                    note = f" {later} of them will appear on their publication date."
            self.message_user(
                request, f"{len(moved)} {noun} {move.done}.{note}", messages.SUCCESS
            )
        if skipped:
            shown = "; ".join(skipped[:10])
            more = f"; and {len(skipped) - 10} more" if len(skipped) > 10 else ""
            self.message_user(
                request,
                f"{len(skipped)} not {move.done}: {shown}{more}",
                messages.WARNING,
            )

    # --- history and revert ------------------------------------------------------

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
        if request.method == "POST" and not self.has_change_permission(
            request, current
        ):
            raise PermissionDenied  # simple-history itself only asks for "view"
        context = {"current_status": current.get_status_display() if current else ""}
        context.update(extra_context or {})
        with transaction.atomic():  # as the change form: one change, indexed once
            return super().history_form_view(request, object_id, version_id, context)

    def _keep_status_on_revert(self, request, obj):
        record = to_historic(obj)
        current = (
            type(obj)
            ._base_manager.filter(pk=obj.pk)
            .values("status", "published_on")
            .get()
        )
        obj.status = obj._saved_status = current["status"]
        obj.published_on = current["published_on"]
        when = formats.date_format(
            timezone.localtime(record.history_date), "DATETIME_FORMAT"
        )
        obj._change_reason = f"Reverted to the version of {when}"[:100]
        self.message_user(
            request,
            f"“{obj}” reverted to the version of {when}; its status stays "
            f"{workflow.label(obj.status)}.",
            messages.SUCCESS,
        )
