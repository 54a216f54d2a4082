"""The workflow and the change history of practices and briefs in the admin.

The status is read-only in every form: it moves only through the workflow, with
the buttons at the top and foot of the form and the bulk actions. A revert is an
edit, not a move: it restores a version's content and keeps the status and
publication date. The change form opens with a summary of its errors, each linked
to its field; the admin index shows the work queue (WorkflowAdmin.work_queue).
"""

from functools import partialmethod
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets, model_ngettext, unquote
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.db import transaction
from django.db.models import Count, ForeignKey, Q
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.text import capfirst
from simple_history.admin import SimpleHistoryAdmin
from simple_history.models import to_historic
from simple_history.template_utils import HistoricalRecordContextHelper
from simple_history.utils import get_m2m_reverse_field_name

from . import workflow
from .workflow import MOVES, Status, TransitionNotAllowed, perm

AFTER_INLINES = "after-inlines"


def after_inlines(name, fields):
    """A fieldset that the change form shows after the inlines (see the template)."""
    return (name, {"fields": fields, "classes": [AFTER_INLINES]})


def error_summary(adminform, inline_formsets):
    """Every error on the change form, in the page's order, as (message, id of the
    element it is about, or ""), for the summary at the top of the form: the
    "Please correct" banner alone leaves curators to search a long page for them."""
    form = adminform.form
    shown_later = [
        f for f in adminform.fieldsets if AFTER_INLINES in f[1].get("classes", ())
    ]
    after = set(flatten_fieldsets(shown_later))
    before, later = [], []
    for name in [NON_FIELD_ERRORS, *form.fields]:
        for message in form.errors.get(name, []):
            if name == NON_FIELD_ERRORS:
                item = (message, "")
            else:
                item = (f"{form[name].label}: {message}", form[name].auto_id)
            (later if name in after else before).append(item)
    for inline in inline_formsets:
        formset = inline.formset
        heading = capfirst(inline.opts.verbose_name_plural)  # as its heading says
        for message in formset.non_form_errors():
            before.append((f"{heading}: {message}", f"{formset.prefix}-group"))
        for row, row_form in enumerate(formset.forms, 1):
            for name, errors in row_form.errors.items():
                field = row_form[name] if name in row_form.fields else None
                where = f"{heading}, row {row}: " + (
                    f"{field.label}: " if field else ""
                )
                target = field.auto_id if field else f"{formset.prefix}-group"
                before.extend((f"{where}{message}", target) for message in errors)
    return before + later


class WorkflowAdminForm(forms.ModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "slug" in self.fields:
            self.fields["slug"].help_text = self.slug_help()
        # Reverting to a version starts from that version's relations.
        record = to_historic(self.instance)
        if record is not None and not self.is_bound:
            for field in record._history_m2m_fields:
                if field.name in self.fields:
                    column = f"{get_m2m_reverse_field_name(field)}_id"
                    rows = getattr(record, field.name).values_list(column, flat=True)
                    self.initial[field.name] = list(rows)

    def slug_help(self):
        """The address the slug makes, with the real URL pattern: the model's help
        text names "<slug>", which the admin's HTML would swallow."""
        app = self._meta.model._meta.app_label
        if self.instance.slug:
            url = reverse(f"{app}:detail", kwargs={"slug": self.instance.slug})
            return format_html(
                "Its page's address: <code>{}</code>. Lower-case letters, digits "
                "and hyphens; unique. Changing it changes the address.",
                url,
            )
        example = reverse(f"{app}:detail", kwargs={"slug": "export-vouchers"})
        return format_html(
            "Its page's address, <code>{}</code>; e.g. <code>{}</code> for the slug "
            "“export-vouchers”. Filled in from the title: lower-case letters, digits "
            "and hyphens; unique.",
            example.replace("export-vouchers", "<slug>"),
            example,
        )

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


class RelatedHistoryAdmin(SimpleHistoryAdmin):
    """The change history of a record and of the child rows edited with it
    (history_related), each change as old → new, choices by their labels."""

    object_history_template = "admin/workflow/object_history.html"
    # Inline child rows whose changes the history page lists too:
    # (heading, model, lookup from that model to this one's primary key).
    history_related = []
    keeps_status_on_revert = False  # WorkflowAdmin: a revert leaves the status

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
            context["keeps_status"] = self.keeps_status_on_revert
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


class WorkflowAdmin(RelatedHistoryAdmin):
    form = WorkflowAdminForm
    change_form_template = "admin/workflow/change_form.html"
    object_history_form_template = "admin/workflow/object_history_form.html"
    actions = MOVE_ACTIONS
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["status", "created_at", "updated_at"]
    save_on_top = True  # Save, then the status and its moves, open the form
    keeps_status_on_revert = True

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

    def get_work_queue(self, request):
        """What waits for curators, as (label, changelist query, condition): the
        changelist's own filters, so a count and its list always agree."""
        return [
            (label, {"status__exact": status}, Q(status=status))
            for label, status in [
                ("Drafts", Status.DRAFT),
                ("In review", Status.IN_REVIEW),
            ]
        ]

    def work_queue(self, request):
        """(label, count, changelist URL) of each queue, counted in one query."""
        queues = self.get_work_queue(request)
        counts = self.get_queryset(request).aggregate(
            **{str(n): Count("pk", filter=q) for n, (_, _, q) in enumerate(queues)}
        )
        changelist = reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist"
        )
        return [
            (label, count, f"{changelist}?{urlencode(query)}")
            for (label, query, _), count in zip(queues, counts.values(), strict=True)
        ]

    def render_change_form(self, request, context, add=False, change=False, **kwargs):
        obj = kwargs.get("obj")
        if change and obj:
            context.update(self.workflow_context(request, obj))
        context["error_summary"] = error_summary(
            context["adminform"], context["inline_admin_formsets"]
        )
        return super().render_change_form(request, context, add, change, **kwargs)

    def workflow_context(self, request, obj):
        """The moves `request.user` may make, and what stands in publication's way."""
        notes, publish = [], MOVES["publish"]
        if obj.status != Status.PUBLISHED and (gaps := obj.publication_gaps()):
            notes.append(f"To be published, it needs {'; '.join(gaps)}.")
        if (
            obj.status == publish.source
            and self.has_publish_permission(request)
            and workflow.own_submission(obj, request.user, publish)
        ):
            notes.append(
                "You submitted it for review, so another reviewer must publish it."
            )
        return {
            "workflow_moves": workflow.available_moves(obj, request.user),
            "workflow_notes": notes,
        }

    @staticmethod
    def requested_move(request):
        """The workflow button pressed on the change form ("_workflow_<action>")."""
        pressed = [key for key in request.POST if key.startswith("_workflow_")]
        return pressed[0].removeprefix("_workflow_") if pressed else None

    def save_model(self, request, obj, form, change):
        if to_historic(obj) is not None:  # a revert: saved here, with its relations
            self._keep_status_on_revert(request, obj)
            return super().save_model(request, obj, form, change)
        if change:
            # What the workflow set, as stored now, under a row lock held to the
            # end of the request: the form's (stale) copy cannot undo another
            # curator's move, and a move below starts from the stored status.
            fields = [
                "status",
                *(() if "published_on" in form.fields else ["published_on"]),
            ]
            locked = type(obj)._base_manager.select_for_update()
            obj.refresh_from_db(fields=fields, from_queryset=locked)
        # Finished in save_related, once the inlines and relations that the
        # publishing gate reads are saved; the history then records the whole
        # change, edits and move, as one version.
        obj.skip_history_when_saving = True
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        obj = form.instance
        del obj.skip_history_when_saving
        self.complete(obj)
        if change and (action := self.requested_move(request)):
            try:
                move = workflow.transition(obj, action, request.user, save=False)
            except (TransitionNotAllowed, PermissionDenied) as error:
                message = f"Your changes were saved, but not the move: {error}"
                self.message_user(request, message, messages.ERROR)
            else:
                message = f"Saved, and “{obj}” {move.done}."
                self.message_user(request, message, messages.SUCCESS)
        obj.save()
        if not change:  # its only version: "Created", as it would be without this
            obj.history.update(history_type="+")

    def complete(self, obj):
        """Fill in what derives from the saved relations (PracticeAdmin: the
        attribution); called before a move, so the gate sees it."""

    def response_change(self, request, obj):
        if self.requested_move(request):  # stay on the form; save_related said why
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

    # --- revert ---------------------------------------------------------------------

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
