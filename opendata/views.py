"""The open data surfaces: the CSV and JSON exports of the list's filtered set, the
data page (/data/: the data dictionary, generated from records.COLUMNS) and the
DCAT-AP description of the dataset (/data/catalog.jsonld)."""

from functools import partial

from django.conf import settings
from django.db.models import Max
from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views import View
from django.views.generic import TemplateView

from practices import facts
from practices.caching import catalogue_version, public_page
from practices.filters import PracticeFilterSet
from practices.listing import SORT_LABELS, list_practices
from practices.models import ImplementationLevel, Practice

from . import exports
from .discovery import absolute_uri
from .records import COLUMNS, LICENCE

TITLE = "Practice Atlas: good practices for the internationalisation of SMEs"
DESCRIPTION = (
    "Regional and national policies that help small and medium-sized enterprises "
    "go international, described by Practice Atlas in its own words from the "
    "sources each record lists: what the practice does, where, by whom, since when, "
    "its themes and instrument types, and its evidence of success."
)
FILENAME = "practice-atlas-practices"
# Paging belongs to the HTML list: an export (and a feed) holds the whole set.
PAGING_PARAMS = ("page", "per_page")

# What each query parameter of the list (and of the exports and the feed) takes.
PARAMETER_VALUES = {
    "q": "words to search for, as in the list's search box",
    "country": "an ISO 3166-1 alpha-2 country code, e.g. IT",
    "region": "a NUTS code; a region also selects the regions inside it, e.g. ITH "
    "selects ITH5",
    "theme": "a theme slug (see the themes page)",
    "instrument": "an instrument type slug (see the instrument types page)",
    "project": "a project slug",
    "level": "an implementation level: "
    + ", ".join(value for value, _label in ImplementationLevel.choices),
    "period": "ongoing (a source says it still runs, or its end year is this year "
    "or later), ended (its end year is past), or unknown (its end is not recorded)",
}


def filter_query(querydict):
    """The list's query string without its paging ("" or "country=IT&…"): what an
    export, a feed or the list itself needs to select the same practices."""
    query = querydict.copy()
    for name in PAGING_PARAMS:
        query.pop(name, None)
    return query.urlencode()


def with_query(path, query):
    return f"{path}?{query}" if query else path


def export_links(request, query):
    """Absolute URLs of the same selection in every form."""
    url = partial(absolute_uri, request)  # SITE_URL when set
    return {
        "csv": url(with_query(reverse("opendata:export-csv"), query)),
        "json": url(with_query(reverse("opendata:export-json"), query)),
        "list": url(with_query(reverse("practices:list"), query)),
        "feed": url(with_query(reverse("opendata:feed"), query)),
        "data_dictionary": url(reverse("opendata:data")),
    }


@method_decorator(public_page, name="dispatch")
class PracticeExportView(View):
    """The practices the list shows for this query string (its filters, search and
    sort; not its page), streamed as CSV or JSON. The set and its order come from
    the same `list_practices` as the list's, so the counts always agree."""

    format = "csv"
    http_method_names = ["get", "head"]

    def get(self, request):
        listing = list_practices(request.GET)
        if not listing.valid:
            return self.invalid(listing.errors)
        metadata = None
        if self.format == "json":
            metadata = self.metadata(request, listing)
        # A HEAD answer has no body: nothing to read for it.
        ids = [] if request.method == "HEAD" else list(listing.ids)
        practices = exports.iter_practices(
            Practice.objects.published(), ids, chunk_size=exports.CHUNK_SIZE
        )
        return exports.export_response(
            self.format, practices, request, FILENAME, metadata
        )

    def invalid(self, errors):
        if self.format == "json":
            return JsonResponse(
                {"errors": errors}, status=400, json_dumps_params={"indent": 2}
            )
        text = (
            "Some filter values are not valid, so nothing was exported:\n"
            + "".join(f"- {error}\n" for error in errors)
            + "The same query parameters as on the practice list work here: see "
            "the data page (/data/) for the values each one takes.\n"
        )
        return HttpResponse(text, status=400, content_type="text/plain; charset=utf-8")

    def metadata(self, request, listing):
        filters = dict(listing.filters)
        filters.pop("q", None)
        if listing.query:
            filters["q"] = listing.query
        filters["sort"] = listing.sort
        links = export_links(request, filter_query(request.GET))
        return {
            "title": TITLE,
            "description": DESCRIPTION,
            "generated_at": timezone.now().isoformat(timespec="seconds"),
            "filters": filters,
            "count": listing.practices.count(),
            "licence": LICENCE,
            "attribution": (
                "Credit Practice Atlas and the sources of each record, and keep "
                "the record's own attribution line (its `attribution` field)."
            ),
            "links": {"self": links[self.format], **links},
        }


@method_decorator(public_page, name="dispatch")
class DataPageView(TemplateView):
    """The data page: what the dataset is, where to get it (whole or filtered),
    the data dictionary generated from records.COLUMNS, and the reuse terms."""

    template_name = "opendata/data.html"

    def get_context_data(self, **kwargs):
        # Every filter the list takes, so a new one cannot go undocumented.
        parameters = [
            {
                "name": name,
                "label": lookup.label,
                "values": PARAMETER_VALUES.get(name, ""),
            }
            for name, lookup in PracticeFilterSet.base_filters.items()
        ]
        parameters.append(
            {
                "name": "sort",
                "label": "Sort by",
                "values": "the order: "
                + ", ".join(SORT_LABELS)
                + " (relevance needs a search; unknown values fall back to the "
                "default, as on the list)",
            }
        )
        return super().get_context_data(
            holdings=facts.holdings(Practice.objects.published()),
            columns=COLUMNS,
            licence=LICENCE,
            parameters=parameters,
            title=TITLE,
            description=DESCRIPTION,
            **kwargs,
        )


# EU vocabularies (publications.europa.eu/resource/authority) used by DCAT-AP.
EU = "http://publications.europa.eu/resource/authority"
IANA = "https://www.iana.org/assignments/media-types"
DISTRIBUTIONS = [
    # (URL name, title, description, media type, EU file type, is a download)
    (
        "opendata:export-csv",
        "CSV export",
        "Every published practice, one row each, for spreadsheets.",
        "text/csv",
        "CSV",
        True,
    ),
    (
        "opendata:export-json",
        "JSON export",
        "Every published practice, one object each, with a metadata block.",
        "application/json",
        "JSON",
        True,
    ),
    (
        "opendata:feed",
        "Atom feed",
        "The practices as a feed, to follow the catalogue in a feed reader.",
        "application/atom+xml",
        "ATOM",
        False,
    ),
]
FILTERS_NOTE = (
    " Takes the practice list's filters as query parameters, to select exactly "
    "the practices the list shows: see the landing page."
)


@method_decorator(public_page, name="dispatch")
class CatalogView(View):
    """A DCAT-AP style description of the dataset and its distributions, in JSON-LD."""

    http_method_names = ["get", "head"]

    def get(self, request):
        return JsonResponse(
            self.catalog(request),
            content_type="application/ld+json; charset=utf-8",
            json_dumps_params={"indent": 2, "ensure_ascii": False},
        )

    def catalog(self, request):
        url = partial(absolute_uri, request)  # SITE_URL when set
        data_page = url(reverse("opendata:data"))
        publisher = {
            "@type": "foaf:Agent",
            "foaf:name": settings.SITE_NAME,
            "foaf:homepage": {"@id": url(reverse("home"))},
        }
        licence = {
            "@id": LICENCE["url"],
            "@type": "dct:LicenseDocument",
            "dct:title": LICENCE["name"],
        }
        rights = {
            "@type": "dct:RightsStatement",
            "dct:title": LICENCE["name"],
            "dct:description": LICENCE["note"],
            "dct:source": {"@id": LICENCE["url"]},
        }
        english = {"@id": f"{EU}/language/ENG"}
        modified = self.modified()
        distributions = []
        for name, title, about, media_type, file_type, download in DISTRIBUTIONS:
            address = {"@id": url(reverse(name))}
            distribution = {
                "@id": f"{data_page}#{file_type.lower()}",
                "@type": "dcat:Distribution",
                "dct:title": title,
                "dct:description": about + FILTERS_NOTE,
                "dcat:accessURL": address,
                "dcat:mediaType": {"@id": f"{IANA}/{media_type}"},
                "dct:format": {"@id": f"{EU}/file-type/{file_type}"},
                "dct:license": licence,
                "dct:rights": rights,
                "foaf:page": {"@id": data_page},
            }
            if download:
                distribution["dcat:downloadURL"] = address
            distributions.append(distribution)
        dataset = {
            "@id": f"{data_page}#dataset",
            "@type": "dcat:Dataset",
            "dct:title": TITLE,
            "dct:description": DESCRIPTION,
            "dct:publisher": publisher,
            "dct:language": english,
            "dcat:keyword": [
                "SME",
                "internationalisation",
                "export promotion",
                "regional policy",
                "good practices",
                "Interreg Europe",
            ],
            "dcat:theme": {"@id": f"{EU}/data-theme/ECON"},
            "dct:spatial": {"@id": f"{EU}/continent/EUROPE"},
            "dcat:landingPage": {"@id": data_page},
            "dct:rights": rights,
            "dcat:distribution": distributions,
        }
        if modified:
            dataset["dct:modified"] = modified
        catalog = {
            "@context": {
                "dcat": "http://www.w3.org/ns/dcat#",
                "dct": "http://purl.org/dc/terms/",
                "foaf": "http://xmlns.com/foaf/0.1/",
                "vcard": "http://www.w3.org/2006/vcard/ns#",
                "xsd": "http://www.w3.org/2001/XMLSchema#",
            },
            "@id": url(reverse("opendata:catalog")),
            "@type": "dcat:Catalog",
            "dct:title": "Practice Atlas open data",
            "dct:description": (
                "The datasets Practice Atlas publishes: its catalogue of good "
                "practices."
            ),
            "dct:publisher": publisher,
            "dct:language": english,
            "foaf:homepage": {"@id": data_page},
            "dcat:dataset": [dataset],
        }
        if modified:
            catalog["dct:modified"] = modified
        return catalog

    def modified(self):
        """When the published catalogue last changed: the catalogue version moves
        with every public change, removals included (read once per request)."""
        changed_at = getattr(catalogue_version(self.request), "changed_at", None)
        if changed_at is None:  # no change recorded yet: the latest update, if any
            latest = Practice.objects.published().aggregate(Max("updated_at"))
            changed_at = latest["updated_at__max"]
        if changed_at is None:
            return None
        return {"@value": changed_at.isoformat(), "@type": "xsd:dateTime"}
