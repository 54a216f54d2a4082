"""How robots find the catalogue: absolute addresses, /sitemap.xml and /robots.txt.
Addresses are on SITE_URL's scheme and host when it is set (a page reached through
another host name still names the public one), else on the request's."""

from functools import cached_property, partial
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.db.models import Max, Q
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.encoding import iri_to_uri
from django.views.generic import TemplateView

from briefs.models import Brief
from practices.caching import public_page
from practices.listing import kept_for
from practices.models import (
    CatalogueVersion,
    Country,
    FacetValue,
    InstrumentType,
    Practice,
    Region,
    Theme,
)


def site_origin():
    """SITE_URL, split, when it is an http(s) URL (its path is left out: paths
    already carry any prefix)."""
    parts = urlsplit(settings.SITE_URL)
    return parts if parts.scheme in ("http", "https") and parts.netloc else None


def absolute_uri(request, location):
    """`location` (a path, with an optional query) as a URL of the public site."""
    if origin := site_origin():
        return iri_to_uri(f"{origin.scheme}://{origin.netloc}{location}")
    return request.build_absolute_uri(location)


def with_query(path, query):
    return f"{path}?{query}" if query else path


def filtered_path(url_name, querydict):
    """The path of `url_name` with the list's query string minus its paging: the
    same practices in an export, a feed or the list (an export holds them all)."""
    query = querydict.copy()
    for name in ("page", "per_page"):
        query.pop(name, None)
    return with_query(reverse(url_name), query.urlencode())


class SiteSitemap(Sitemap):
    """/sitemap.xml is an index of sections (/sitemap-<section>.xml, in pages of
    `limit` addresses): what the lists and indexes show. Each page of a section
    is a page-sized query, so it answers as fast at any size of catalogue."""

    # Addresses per page: well under the protocol's 50,000, and few enough that a
    # page renders in ~0.1 s (Django's sitemap template costs ~0.1 ms an address).
    limit = 1000

    def __init__(self, model=None, only_with_practices=False):
        self.model, self.only_with_practices = model, only_with_practices

    def get_protocol(self, protocol=None):
        origin = site_origin()
        return origin.scheme if origin else super().get_protocol(protocol)

    def get_domain(self, site=None):
        origin = site_origin()
        return origin.netloc if origin else super().get_domain(site)


class PageSitemap(SiteSitemap):
    def items(self):
        return [
            "home",
            "practices:list",
            "briefs:list",
            "countries:list",
            "themes:list",
            "instruments:list",
            "opendata:data",
            "evidence:scale",
            "regions:peers-method",
            "accessibility:statement",
        ]

    location = staticmethod(reverse)  # the items are URL names


class RecordSitemap(SiteSitemap):
    def items(self):
        published = self.model.objects.published()
        return published.only("slug", "updated_at").order_by("pk")

    def lastmod(self, record):
        return record.updated_at

    def get_latest_lastmod(self):  # for the index, without reading every record
        return self.items().aggregate(Max("updated_at"))["updated_at__max"]


def term_changes(model):
    """{term pk: when its latest published practice changed}, for terms with one:
    grouped over every link (a second at 100,000 practices), so kept for the
    catalogue version; the first request for it after a change computes it."""

    def latest():
        changed = Max(
            "practices__updated_at",
            filter=Q(practices__in=Practice.objects.published()),
        )
        terms = model.objects.annotate(changed=changed).exclude(changed=None)
        return dict(terms.values_list("pk", "changed"))

    version = CatalogueVersion.current()
    return kept_for(version, f"term-changes:{model._meta.label_lower}", latest)


class TermSitemap(SiteSitemap):
    """A term changed when its latest published practice did (no date without one)."""

    @cached_property
    def changes(self):
        return term_changes(self.model)

    def items(self):
        terms = self.model.objects.order_by(*self.model._meta.ordering, "pk")
        if self.only_with_practices:
            terms = terms.filter(pk__in=self.changes)
        for term in (terms := list(terms)):
            term.latest_practice_change = self.changes.get(term.pk)
        return terms

    def lastmod(self, term):
        return term.latest_practice_change

    def get_latest_lastmod(self):
        return max(self.changes.values(), default=None)


class RegionSitemap(SiteSitemap):
    """Every NUTS 2 region (its page gives its figures and its peers), and the
    other regions whose page lists practices: their own or those of the regions
    inside them (FacetValue). Hundreds of NUTS 1 and 3 units have none."""

    def items(self):
        listed = FacetValue.objects.filter(
            facet="region", practice__in=Practice.objects.published()
        )
        regions = Region.objects.filter(Q(level=2) | Q(code__in=listed.values("value")))
        return regions.order_by("code")


# Callables, so that the sitemap view makes fresh instances for each request.
SITEMAPS = {
    "pages": PageSitemap,
    "practices": partial(RecordSitemap, Practice),
    "briefs": partial(RecordSitemap, Brief),
    # Only countries with published practices, as /countries/ lists them.
    "countries": partial(TermSitemap, Country, only_with_practices=True),
    "regions": RegionSitemap,
    "themes": partial(TermSitemap, Theme),
    "instruments": partial(TermSitemap, InstrumentType),
}


@method_decorator(public_page, name="dispatch")
class RobotsView(TemplateView):
    """Every path comes from the URLconf, so robots.txt follows ADMIN_PATH. `*`
    (any characters) is part of the Robots Exclusion Protocol, RFC 9309."""

    template_name = "opendata/robots.txt"
    content_type = "text/plain; charset=utf-8"

    def get_context_data(self, **kwargs):
        def any_slug(name):
            return reverse(name, kwargs={"slug": "any-slug"}).replace("any-slug", "*")

        disallowed = [
            reverse("admin:index"),  # curation: staff only
            any_slug("practices:preview"),  # staff previews: 404 for everyone else
            any_slug("briefs:preview"),
            reverse("practices:compare-add"),  # the comparison basket: POST only
            reverse("practices:compare-remove"),
        ]
        sitemap = absolute_uri(self.request, reverse("opendata:sitemap"))
        return super().get_context_data(disallowed=disallowed, sitemap=sitemap)
