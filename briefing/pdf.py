"""Pages as tagged PDF, made by WeasyPrint from the page's own HTML with the site's
print stylesheet: one template per document, on screen, on paper and in the PDF.

The PDF is PDF/UA-1 (tagged, with the page's language and title, fonts embedded);
its bookmarks are the headings the stylesheet gives a `bookmark-level` (a pack:
one per practice). WeasyPrint needs Pango on the system: without it, `unavailable()`
says why, and the pages offer their print version instead."""

import mimetypes
import re
from functools import cache
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpResponse
from django.template.response import TemplateResponse


@cache
def _engine():
    """(weasyprint, "") or (None, why it cannot be used here)."""
    try:
        import weasyprint
        import weasyprint.urls
    except OSError as error:  # a system library (Pango) is missing
        return None, f"the PDF maker cannot load a system library ({error})"
    except ImportError:
        return None, "the PDF maker (WeasyPrint) is not installed"
    return weasyprint, ""


def unavailable():
    """Why PDFs cannot be made on this server, or "" when they can."""
    return _engine()[1]


def static_file(url):
    """The file behind one of the site's own static URLs, or None: collected (with
    hashed names) under STATIC_ROOT, else where the finders find it."""
    path = urlsplit(url).path
    if not path.startswith(settings.STATIC_URL) or ".." in path.split("/"):
        return None
    name = path.removeprefix(settings.STATIC_URL)
    if settings.STATIC_ROOT and (Path(settings.STATIC_ROOT) / name).is_file():
        return str(Path(settings.STATIC_ROOT) / name)
    return finders.find(name)


def static_fetcher(weasyprint):
    """A WeasyPrint URL fetcher of the site's own static files, from disk; nothing
    else is fetched (a PDF never waits on another site)."""

    class StaticFetcher(weasyprint.URLFetcher):
        def fetch(self, url, headers=None):
            found = static_file(url)
            if found is None:
                raise ValueError(f"Not fetched for a PDF: {url}")
            content_type = mimetypes.guess_type(found)[0] or "text/plain"
            return weasyprint.urls.URLFetcherResponse(
                url, Path(found).read_bytes(), {"Content-Type": content_type}
            )

    return StaticFetcher()


def render(html, base_url):
    """The PDF of a rendered page (`base_url`: its address)."""
    weasyprint, why = _engine()
    if weasyprint is None:
        raise RuntimeError(why)
    stylesheets = []

    def parsed_once(link):  # the site's stylesheet: parsed once per process
        path = static_file(urljoin(base_url, link[1]))
        if path is None:
            return link[0]
        stylesheets.append(_stylesheet(path))
        return ""

    html = STYLESHEET_LINK.sub(parsed_once, html)
    fetcher = static_fetcher(weasyprint)
    document = weasyprint.HTML(string=html, base_url=base_url, url_fetcher=fetcher)
    return document.write_pdf(pdf_variant="pdf/ua-1", stylesheets=stylesheets)


STYLESHEET_LINK = re.compile(r'<link rel="stylesheet" href="([^"]+)">')


@cache
def _stylesheet(path):
    return _engine()[0].CSS(filename=path)


PDF_TYPE = "application/pdf"


class PdfResponseMixin:
    """Answer with the PDF of the page the view renders (briefing/pdf.py): served
    when PDFs can be made here, else a 503 that links the page to print instead.
    The view names the file (`pdf_name()`) and the page to print (`print_url()`)."""

    def render_to_response(self, context, **kwargs):
        response = super().render_to_response(context, **kwargs)
        if response.status_code != 200:
            return response
        if why := unavailable():
            return TemplateResponse(
                self.request,
                "briefing/pdf_unavailable.html",
                {"why": why, "page_url": self.print_url()},
                status=503,
            )
        html = response.render().content.decode()
        document = render(html, base_url=self.request.build_absolute_uri())
        answer = HttpResponse(document, content_type=PDF_TYPE)
        answer["Content-Disposition"] = f'attachment; filename="{self.pdf_name()}"'
        return answer
