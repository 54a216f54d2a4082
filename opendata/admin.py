"""Open data in the practices admin (practices/admin.py wires these in): the
"Export selected" actions, whatever the practices' status, and the import page
("practices_practice_import"), the same import as `manage.py import_practices`: a
dry run keeps the file (CheckedFile) for its "Import these N" button."""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.defaultfilters import filesizeformat, pluralize
from django.template.response import TemplateResponse
from django.utils import timezone

from practices.listing import FILE_PREFIX
from practices.models import Practice
from publishing.admin import error_summary
from publishing.workflow import perm

from .exports import export_response
from .imports import CREATE, SKIP, UPDATE, import_practices
from .models import KEPT_FOR, CheckedFile
from .records import LICENCE

# Practices one import from this page may create or update: writing one takes about
# 25 ms (relations, sources, history, search index), and a web request has 30 s
# (config/gunicorn.py). Checking a whole file of IMPORT_MAX_FILE_SIZE (10 MB) takes a
# few seconds; a file with more writes is refused once checked, and the writes made
# until the count went over are undone.
MAX_WRITES = 500


def _export(request, queryset, fmt):
    ids = list(queryset.order_by("title", "pk").values_list("pk", flat=True))
    metadata = {
        "generated_at": timezone.now().isoformat(timespec="seconds"),
        "selection": "admin",
        "count": len(ids),
        "licence": LICENCE,
    }
    filename = f"{FILE_PREFIX}_selected_{timezone.localdate()}.{fmt}"
    return export_response(fmt, Practice.objects, ids, request, filename, metadata)


@admin.action(permissions=["view"], description="Export selected practices as CSV")
def export_csv(modeladmin, request, queryset):
    return _export(request, queryset, "csv")


@admin.action(permissions=["view"], description="Export selected practices as JSON")
def export_json(modeladmin, request, queryset):
    return _export(request, queryset, "json")


KEEP_STATUS_HELP = (
    "Give each practice the status and publication date (published_on) the file "
    "gives it, as the workflow allows: a published one must have what publishing "
    "needs. Left unticked, new practices are drafts and stored ones keep their "
    "status."
)


class ImportForm(forms.Form):
    file = forms.FileField(
        error_messages={"required": "Choose a CSV or JSON file to import."},
        help_text="A CSV or JSON file as the exports write it (the data page lists "
        f"the fields), at most {filesizeformat(settings.IMPORT_MAX_FILE_SIZE)}; at "
        f"most {MAX_WRITES} practices are created or updated at a time here "
        "(manage.py import_practices takes any file and any number).",
    )
    dry_run = forms.BooleanField(
        label="Dry run (check only)",
        required=False,
        initial=True,
        help_text="Check the file and show what would change, without writing.",
    )
    update = forms.BooleanField(
        label="Update existing practices",
        required=False,
        help_text="Overwrite practices whose record differs from the file; a "
        "column left out of the file keeps the stored value, an empty cell empties "
        "it. Left unticked, curators' edits are kept and those rows are skipped.",
    )
    keep_status = forms.BooleanField(
        label="Keep the file's statuses", required=False, help_text=KEEP_STATUS_HELP
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if not user.has_perm(perm(Practice, "publish")):  # only for those who may
            del self.fields["keep_status"]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > (limit := settings.IMPORT_MAX_FILE_SIZE):
            raise ValidationError(
                f"The file is larger than {filesizeformat(limit)}, the most this page "
                "takes. Split it, or import it with manage.py import_practices."
            )
        return upload


HOURS = int(KEPT_FOR.total_seconds() // 3600)
STALE = (
    "The file checked in that dry run is no longer kept (files are kept for "
    f"{HOURS} hour{pluralize(HOURS)} after their dry run, and until imported): "
    "choose it again."
)


class CheckedFileForm(forms.Form):
    """The "Import these N" button: the token of a file this curator checked."""

    checked = forms.ModelChoiceField(
        CheckedFile.objects.none(),
        error_messages={"required": STALE, "invalid_choice": STALE},
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["checked"].queryset = CheckedFile.objects.current().filter(
            user=user
        )


def import_view(modeladmin, request):
    """GET: the form. POST: check (dry run) or import the file, or the file checked
    before ("checked"); the report shows the problems with their lines. A file
    that cannot be imported answers 400."""
    if not (
        modeladmin.has_add_permission(request)
        and modeladmin.has_change_permission(request)
    ):
        raise PermissionDenied
    CheckedFile.objects.expired().delete()
    user, post = request.user, request.method == "POST"
    form = ImportForm(user=user)
    report = checked = None
    errors = []  # the error summary: (message, id of its field or "")
    if post and "checked" in request.POST:  # "Import these N"
        confirm = CheckedFileForm(request.POST, user=user)
        if confirm.is_valid():
            kept = confirm.cleaned_data["checked"]
            options = {"update": kept.update, "keep_status": kept.keep_status}
            report = _import(request, bytes(kept.data), kept.name, **options)
            if report.ok:
                kept.delete()
        errors = [(message, "") for message in confirm.errors.get("checked", [])]
    elif post:
        form = ImportForm(request.POST, request.FILES, user=user)
        if form.is_valid():
            upload, options = form.cleaned_data.pop("file"), form.cleaned_data
            report = _import(request, upload, upload.name, **options)
            if report.ok and report.dry_run and 0 < report.writes <= MAX_WRITES:
                upload.seek(0)
                CheckedFile.objects.filter(user=user).delete()  # the latest only
                checked = CheckedFile.objects.create(
                    user=user,
                    name=upload.name,
                    data=upload.read(),
                    update=options["update"],
                    keep_status=options.get("keep_status", False),
                )
    adminform = helpers.AdminForm(form, [(None, {"fields": list(form.fields)})], {})
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": "Import practices",
        "opts": modeladmin.opts,
        "form": form,
        "adminform": adminform,
        "errors": errors or error_summary(adminform, []),
        "report": report,
        "checked": checked,
        "max_writes": MAX_WRITES,
        "lists": _lists(report) if report and report.ok else [],
    }
    status = 400 if errors or form.errors or (report and not report.ok) else 200
    return TemplateResponse(
        request, "admin/practices/practice/import.html", context, status=status
    )


def _import(request, file, name, *, update, keep_status=False, dry_run=False):
    """Check or import `file` as `request.user`; say how it went in a message."""
    report = import_practices(
        file,  # an upload is read as a stream: Django keeps one over 2.5 MB on disk
        name,
        update=update,
        dry_run=dry_run,
        keep_status=keep_status,
        user=request.user,
        max_writes=MAX_WRITES,
    )
    if report.ok and report.dry_run:
        messages.info(
            request,
            f"Dry run of {report.name}: no problems. {report.summary}. Nothing was "
            "written.",
        )
    elif report.ok:
        messages.success(request, f"Imported {report.name}: {report.summary}.")
    return report


def _lists(report):
    """(heading, count, [(slug, pk, fields that differ)] listed, how many more) of
    the practices created, updated and skipped, if any."""
    headings = ["To create", "To update"] if report.dry_run else ["Created", "Updated"]
    kinds = zip([*headings, "Skipped"], [CREATE, UPDATE, SKIP], strict=True)
    return [
        (heading, report.counts[kind], report.practices[kind], report.more(kind))
        for heading, kind in kinds
        if report.counts[kind]
    ]
