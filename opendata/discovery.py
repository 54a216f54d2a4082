"""How search engines and other robots find the catalogue: absolute addresses,
/sitemap.xml and /robots.txt.

Addresses are made absolute against SITE_URL's scheme and host when it is set (so a
page reached through another host name still names the public one; paths already
carry any prefix), else against the request's. The sitemap lists what the
catalogue's lists and indexes show, one query a section.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps.views import sitemap as sitemap_view
from django.db.models import Max, Q
from django.http import HttpResponse
from django.urls import reverse
from django.utils.encoding import iri_to_uri

from briefs.models import Brief
from practices.caching import public_page
from practices.models import Country, InstrumentType, Practice, Theme

# --- absolute addresses -----------------------------------------------------------


def site_origin():
    """(scheme, host) of SITE_URL, or None when it is unset or not an http(s) URL."""
    parts = urlsplit(settings.SITE_URL)
    if parts.scheme in ("http", "https") and parts.netloc:
        return parts.scheme, parts.netloc
    return None


def absolute_uri(request, location):
    """`location` (a path such as reverse() gives, with an optional query string)
    as an absolute URL of the public site."""
    origin = site_origin()
    if origin is None:
        return request.build_absolute_uri(location)
    scheme, host = origin
    return iri_to_uri(f"{scheme}://{host}{location}")


# --- sitemap.xml --------------------------------------------------------------------


class SiteSitemap(Sitemap):
    """Addresses on SITE_URL's scheme and host when it is set (see absolute_uri);
    on the request's otherwise (the view passes the request's site and scheme)."""

    def get_protocol(self, protocol=None):
        origin = site_origin()
        return origin[0] if origin else super().get_protocol(protocol)

    def get_domain(self, site=None):
        origin = site_origin()
        return origin[1] if origin else super().get_domain(site)


class StaticSitemap(SiteSitemap):
    """The pages that are not records: the home page and the indexes."""

    NAMES = [
        "home",
        "practices:list",
        "briefs:list",
        "countries:list",
        "themes:list",
        "instruments:list",
        "opendata:data",
        "accessibility:statement",
    ]

    def items(self):
        return self.NAMES

    def location(self, name):
        return reverse(name)


class RecordSitemap(SiteSitemap):
    """Published records, each with the time it last changed."""

    model = None

    def items(self):
        # A list, not a queryset: the paginator then needs no COUNT query.
        published = self.model.objects.published()
        return list(published.only("slug", "updated_at").order_by("pk"))

    def lastmod(self, record):
        return record.updated_at


class PracticeSitemap(RecordSitemap):
    model = Practice


class BriefSitemap(RecordSitemap):
    model = Brief


class TermSitemap(SiteSitemap):
    """Taxonomy pages; a term's lastmod is the latest change among its published
    practices (none when it has none). `only_with_practices` leaves out terms
    without published practices, as the country index does."""

    model = None
    only_with_practices = False

    def items(self):
        latest = Max(
            "practices__updated_at",
            filter=Q(practices__in=Practice.objects.published()),
        )
        terms = self.model.objects.annotate(latest_practice_change=latest)
        if self.only_with_practices:
            terms = terms.filter(latest_practice_change__isnull=False)
        # Meta.ordering is dropped from GROUP BY queries: restate it.
        return list(terms.order_by(*self.model._meta.ordering, "pk"))

    def lastmod(self, term):
        return term.latest_practice_change


class CountrySitemap(TermSitemap):
    model = Country
    only_with_practices = True  # /countries/ lists only these


class ThemeSitemap(TermSitemap):
    model = Theme


class InstrumentSitemap(TermSitemap):
    model = InstrumentType


SITEMAPS = {
    "pages": StaticSitemap,
    "practices": PracticeSitemap,
    "briefs": BriefSitemap,
    "countries": CountrySitemap,
    "themes": ThemeSitemap,
    "instruments": InstrumentSitemap,
}


@public_page
def sitemap(request):
    response = sitemap_view(request, sitemaps=SITEMAPS)
    # The page cache decides validators (Last-Modified, ETag) for every public page.
    response.headers.pop("Last-Modified", None)
    return response


# --- robots.txt -----------------------------------------------------------------------

_ANY_SLUG = "robots-any-slug"  # replaced by the robots.txt wildcard


def robots_lines(request):
    """robots.txt, a line at a time. Every path comes from the URLconf, so it
    follows ADMIN_PATH and any change of address. `*` in a path (any characters)
    is part of the Robots Exclusion Protocol, RFC 9309."""

    def any_slug(name):
        return reverse(name, kwargs={"slug": _ANY_SLUG}).replace(_ANY_SLUG, "*")

    disallowed = [
        reverse("admin:index"),  # curation: staff only
        any_slug("practices:preview"),  # staff previews: 404 for everyone else
        any_slug("briefs:preview"),
        reverse("practices:compare-add"),  # the comparison basket: POST only
        reverse("practices:compare-remove"),
    ]
    yield "User-agent: *"
    for path in disallowed:
        yield f"Disallow: {path}"
    yield ""
    yield f"Sitemap: {absolute_uri(request, reverse('opendata:sitemap'))}"


@public_page
def robots_txt(request):
    text = "\n".join(robots_lines(request)) + "\n"
    return HttpResponse(text, content_type="text/plain; charset=utf-8")
