import csv

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import RedirectURLMixin
from django.core.validators import slug_re
from django.http import HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.decorators import method_decorator
from django.utils.http import urlencode
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe
from django.views.generic import TemplateView

from config.security import is_cross_site
from opendata.discovery import absolute_uri, with_query
from opendata.records import LICENCE, guard_cell
from practices import compare
from practices.caching import catalogue_version, public_page
from practices.listing import FILE_PREFIX
from practices.models import Practice

from . import pack as packs
from . import pdf, shortlist


def pack_links(query):
    """The pack of a selection (its query string) as a page, a PDF and a CSV."""
    suffix = f"?{urlencode(query, doseq=True)}" if query else ""
    return {
        "html": reverse("briefing:pack") + suffix,
        "pdf": reverse("briefing:pack-pdf") + suffix,
        "csv": reverse("briefing:pack-csv") + suffix,
        "pdf_unavailable": pdf.unavailable(),
    }


def shortlist_page(request, own, error="", status=200):
    """The reader's shortlist (`own`) or, with ?list=<token>, one shared with them,
    which they can keep as theirs; `error`: why a change was refused."""
    shared = "list" in request.GET
    items = own
    if shared:
        try:
            items = shortlist.loads(request.GET["list"])
        except shortlist.ShortlistError as problem:
            items, error, status = [], str(problem), 400
    entries, gone = shortlist.practices(items)
    token = shortlist.dumps(items) if items else ""
    share = reverse("briefing:shortlist") + "?" + urlencode({"list": token})
    context = {
        "entries": entries,
        "gone": gone,
        "shared": shared,
        "error": error,
        "token": token,
        "share_url": absolute_uri(request, share) if token else "",
        "packs": pack_links({"list": token}) if token else None,
        "max_items": shortlist.MAX_ITEMS,
        "max_note": shortlist.MAX_NOTE,
        "compare_max": compare.MAX_ITEMS,
    }
    response = TemplateResponse(
        request, "briefing/shortlist.html", context, status=status
    )
    add_never_cache_headers(response)  # the reader's own
    return response


@require_safe
def shortlist_view(request):
    """/shortlist/ (the reader's own, from their cookie; never cached)."""
    return shortlist_page(request, shortlist.from_request(request))


# Not CSRF-protected with a token, like the comparison's buttons and for the same
# reason: practice pages carry the "Add to shortlist" form and are cached for
# everyone (practices/views.py CompareBasketView). Cross-site posts are refused.
@method_decorator([csrf_exempt, never_cache], name="dispatch")
class ShortlistChangeView(RedirectURLMixin, View):
    """POST: add a practice (with a note), change a note, remove a practice, keep a
    shared shortlist as one's own, or clear it."""

    http_method_names = ["post"]
    action = "add"

    def post(self, request):
        if is_cross_site(request):
            return HttpResponseForbidden(
                "The shortlist can only be changed from this site's own pages."
            )
        items = shortlist.from_request(request)
        try:
            items, message = getattr(self, self.action)(items, request.POST)
            response = redirect(self.get_redirect_url() or "briefing:shortlist")
            shortlist.keep(response, items)
        except shortlist.ShortlistError as problem:
            return shortlist_page(request, items, error=str(problem), status=400)
        messages.success(request, message)
        return response

    def practice(self, data):
        slug = data.get("slug", "")
        found = slug_re.fullmatch(slug) and (
            Practice.objects.published().filter(slug=slug).first()
        )
        if not found:
            raise shortlist.ShortlistError(
                "That practice is not published or does not exist, so it cannot be "
                "on the shortlist."
            )
        return found

    def add(self, items, data):
        practice = self.practice(data)
        items = shortlist.add(items, practice.slug, data.get("note", ""))
        count = f"{len(items)} of {shortlist.MAX_ITEMS}"
        return items, f"“{practice.title}” is on your shortlist ({count})."

    def note(self, items, data):
        practice = self.practice(data)
        items = shortlist.annotate(items, practice.slug, data.get("note", ""))
        return items, f"Your note on “{practice.title}” is saved."

    def remove(self, items, data):
        practice = self.practice(data)
        return shortlist.remove(items, practice.slug), (
            f"“{practice.title}” is off your shortlist."
        )

    def keep(self, items, data):
        shared = shortlist.loads(data.get("list", ""))
        return shared, f"This shortlist of {len(shared)} is now yours."

    def clear(self, items, data):
        return [], "Your shortlist is empty."


def pack_of(request):
    """The pack the request's query string asks for, with absolute addresses."""
    pack = packs.of(request.GET, version=catalogue_version(request))
    for entry in pack.entries:
        entry.url = absolute_uri(request, entry.practice.get_absolute_url())
    return pack


@method_decorator(public_page, name="dispatch")
class PackView(TemplateView):
    """/briefing/?<selection>: the pack as a page, with a print stylesheet."""

    template_name = "briefing/pack.html"

    def get(self, request, *args, **kwargs):
        pack = pack_of(request)
        query = {k: request.GET.getlist(k) for k in request.GET}
        context = self.get_context_data(
            pack=pack,
            packs=pack_links(query),
            licence=LICENCE,
            page_url=absolute_uri(request, request.get_full_path()),
        )
        return self.render_to_response(context, status=200 if pack.valid else 400)


class PackPdfView(pdf.PdfResponseMixin, PackView):
    def print_url(self):
        return with_query(reverse("briefing:pack"), self.request.GET.urlencode())

    def pdf_name(self):
        return f"{FILE_PREFIX}_briefing-pack_{timezone.localdate()}.pdf"


@method_decorator(public_page, name="dispatch")
class PackCsvView(View):
    """The pack's practices as CSV: a row each, the comparison's criteria as
    columns (with their certainty marks), the reader's note, a citation."""

    def get(self, request):
        pack = pack_of(request)
        if not pack.valid:
            text = "Nothing was exported:\n" + "".join(f"- {e}\n" for e in pack.errors)
            return HttpResponse(text, status=400, content_type="text/plain")
        criteria = [c for c in compare.CRITERIA if c.label != "Sources"]
        rows = [
            [
                "Title",
                "Page URL",
                *(c.label for c in criteria),
                "Your note",
                "Sources",
                "Citation",
            ]
        ]
        today = timezone.localdate()
        for entry in pack.entries:
            practice = entry.practice
            url = entry.url
            sources = "\n".join(
                f"[{number}] {source.title} <{source.url}>"
                for number, source in entry.sources
            )
            citation = (
                f"{settings.SITE_NAME}, “{practice.title}”, {url} (consulted "
                f"{today:%-d %B %Y}). {practice.attribution}"
            )
            rows.append(
                [
                    practice.title,
                    url,
                    *(c.text(practice) for c in criteria),
                    entry.note,
                    sources,
                    citation,
                ]
            )
        rows.append([f"Reuse: {LICENCE['name']} ({LICENCE['url']}). {LICENCE['note']}"])
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        writer = csv.writer(response, lineterminator="\r\n")
        writer.writerows([guard_cell(str(cell)) for cell in row] for row in rows)
        name = f"{FILE_PREFIX}_briefing-pack_{today}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
