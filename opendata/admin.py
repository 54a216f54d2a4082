"""Open data in the practices admin (practices/admin.py wires these in): the
"Export selected" actions, whatever the practices' status, and the import page
("practices_practice_import"), the same import as `manage.py import_practices`."""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.utils import timezone

from practices.listing import FILE_PREFIX
from practices.models import Practice

from .exports import export_response
from .imports import CREATE, SKIP, UPDATE, import_practices
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

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > (limit := settings.IMPORT_MAX_FILE_SIZE):
            raise ValidationError(
                f"The file is larger than {filesizeformat(limit)}, the most this page "
                "takes. Split it, or import it with manage.py import_practices."
            )
        return upload


def import_view(modeladmin, request):
    """GET: the form. POST: check (dry run) or import the file; the report shows
    the problems with their lines. A file that cannot be imported answers 400."""
    if not (
        modeladmin.has_add_permission(request)
        and modeladmin.has_change_permission(request)
    ):
        raise PermissionDenied
    post = request.method == "POST"
    form = ImportForm(request.POST, request.FILES) if post else ImportForm()
    report = None
    if post and form.is_valid():
        upload = form.cleaned_data["file"]
        report = import_practices(
            upload,  # read as a stream: Django keeps one over 2.5 MB on disk
            upload.name,
            update=form.cleaned_data["update"],
            dry_run=form.cleaned_data["dry_run"],
            user=request.user,
            max_writes=MAX_WRITES,
        )
        if report.ok and report.dry_run:
            messages.info(
                request,
                f"Dry run of {report.name}: no problems. {report.summary}. Nothing "
                "was written.",
            )
        elif report.ok:
            messages.success(request, f"Imported {report.name}: {report.summary}.")
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": "Import practices",
        "opts": modeladmin.opts,
        "form": form,
        "report": report,
        "lists": _lists(report) if report and report.ok else [],
    }
    status = 400 if form.errors or (report and not report.ok) else 200
    return TemplateResponse(
        request, "admin/practices/practice/import.html", context, status=status
    )


def _lists(report):
    """(heading, count, [(slug, pk)] listed, how many more) of the practices
    created, updated and skipped, if any."""
    headings = ["To create", "To update"] if report.dry_run else ["Created", "Updated"]
    kinds = zip([*headings, "Skipped"], [CREATE, UPDATE, SKIP], strict=True)
    return [
        (heading, report.counts[kind], report.practices[kind], report.more(kind))
        for heading, kind in kinds
        if report.counts[kind]
    ]
