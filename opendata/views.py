"""The open data surfaces: the CSV and JSON exports of the list's filtered set, the
data page (/data/, its data dictionary generated from records.COLUMNS) and the
DCAT-AP description of the dataset (/data/catalog.jsonld), the comparison as CSV
and the page that explains how to follow a list (/follow/)."""

import csv

from django.conf import settings
from django.db.models import Max
from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views import View
from django.views.generic import TemplateView

from alerts.forms import AlertForm
from indicators.context import indicator_holdings
from practices import compare
from practices.caching import catalogue_version, public_page
from practices.filters import PracticeFilterSet
from practices.listing import (
    FILE_PREFIX,
    SORT_LABELS,
    catalogue_holdings,
    list_practices,
)
from practices.models import ImplementationLevel, Practice

from .discovery import absolute_uri, filtered_path
from .exports import export_response
from .feeds import FEED_SIZE
from .records import COLUMNS, LICENCE, guard_cell

SITE_NAME = settings.SITE_NAME
TITLE = f"{SITE_NAME}: good practices for the internationalisation of SMEs"
DESCRIPTION = (
    "Regional and national policies that help small and medium-sized enterprises "
    f"go international, described by {SITE_NAME} in its own words from the "
    "sources each record lists: what the practice does, where, by whom, since when, "
    "its themes and instrument types, and its evidence of success."
)


@method_decorator(public_page, name="dispatch")
class PracticeExportView(View):
    """The practices the list shows for this query string (not its page), in its
    order, streamed as CSV or JSON: the same list_practices, so counts agree."""

    format = "csv"
    http_method_names = ["get", "head"]

    def get(self, request):
        listing = list_practices(request.GET, version=catalogue_version(request))
        if not listing.valid:
            return self.invalid(listing.errors)
        # A HEAD answer has no body: nothing to read for it.
        ids = [] if request.method == "HEAD" else list(listing.ids)
        metadata = self.metadata(request, listing, len(ids))
        # Read again from published(): a practice unpublished meanwhile is skipped.
        published = Practice.objects.published()
        filename = listing.file_name(self.format)
        return export_response(self.format, published, ids, request, filename, metadata)

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

    def metadata(self, request, listing, count):
        links = {
            name: absolute_uri(request, filtered_path(url_name, request.GET))
            for name, url_name in [
                ("csv", "opendata:export-csv"),
                ("json", "opendata:export-json"),
                ("list", "practices:list"),
                ("feed", "opendata:feed"),
            ]
        }
        return {
            "title": TITLE,
            "description": DESCRIPTION,
            "generated_at": timezone.now().isoformat(timespec="seconds"),
            "filters": {**listing.filters, "sort": listing.sort},
            "count": count,
            "licence": LICENCE,
            "attribution": (
                f"Credit {SITE_NAME} and the sources of each record, and keep "
                "the record's own attribution line (its `attribution` field)."
            ),
            "links": {
                "self": links[self.format],
                **links,
                "data_dictionary": absolute_uri(request, reverse("opendata:data")),
            },
        }


@method_decorator(public_page, name="dispatch")
class ComparisonExportView(View):
    """The comparison of the same address (/practices/compare/?p=…) as CSV, as its
    page shows it: a row per criterion (compare.CRITERIA), a column per practice,
    plain text with the same certainty marks."""

    http_method_names = ["get", "head"]

    def get(self, request):
        comparison = compare.Comparison.of(request.GET)
        if not comparison.complete or not comparison.practices:
            problems = [
                f"No published practice has the address “{slug}”."
                for slug in comparison.unknown
            ]
            if comparison.asked > compare.MAX_ITEMS:
                problems.append(
                    f"A comparison holds at most {compare.MAX_ITEMS} practices."
                )
            if not comparison.asked:
                problems.append("Name the practices to compare: ?p=<slug>&p=<slug>.")
            text = "Nothing was exported:\n" + "".join(f"- {p}\n" for p in problems)
            return HttpResponse(
                text, status=400, content_type="text/plain; charset=utf-8"
            )
        practices = comparison.practices
        rows = [
            ["", *(practice.title for practice in practices)],
            [
                "Address",
                *(absolute_uri(request, p.get_absolute_url()) for p in practices),
            ],
            *([c.label, *(c.text(p) for p in practices)] for c in compare.CRITERIA),
        ]
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        writer = csv.writer(response, lineterminator="\r\n")
        writer.writerows([guard_cell(cell) for cell in row] for row in rows)
        name = f"{FILE_PREFIX}_comparison_{timezone.localdate()}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


@method_decorator(public_page, name="dispatch")
class FollowView(TemplateView):
    """/follow/?<the list's query string>: the feed of that list explained in plain
    words, with its address to copy into a feed reader, and the e-mail alert's
    sign-up form (which carries no CSRF token, so the page stays cacheable: see
    alerts.views.AlertSignupView)."""

    template_name = "opendata/follow.html"

    def get(self, request, *args, **kwargs):
        listing = list_practices(request.GET, version=catalogue_version(request))
        context = self.get_context_data(
            **follow_context(request, listing), alert_form=AlertForm()
        )
        status = 200 if listing.valid else 400
        return self.render_to_response(context, status=status)


def follow_context(request, listing):
    """What the follow page shows of a list besides the sign-up form; the sign-up
    answers with the same page when its form has a problem."""
    return {
        "listing": listing,
        "feed_size": FEED_SIZE,
        "feed_url": absolute_uri(request, filtered_path("opendata:feed", request.GET)),
        "list_url": filtered_path("practices:list", request.GET),
    }


@method_decorator(public_page, name="dispatch")
class DataPageView(TemplateView):
    template_name = "opendata/data.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            holdings=catalogue_holdings(catalogue_version(self.request)),
            columns=COLUMNS,
            licence=LICENCE,
            parameters=PracticeFilterSet.base_filters.items(),
            levels=ImplementationLevel.values,
            sorts=SORT_LABELS,
            description=DESCRIPTION,
            indicators=indicator_holdings(),
            **kwargs,
        )


EUROSTAT_NOTICE = "https://ec.europa.eu/eurostat/help/copyright-notice"
# EU vocabularies (publications.europa.eu/resource/authority) used by DCAT-AP.
EU = "http://publications.europa.eu/resource/authority"
DISTRIBUTIONS = [  # (URL name, EU file type, media type, title, description)
    (
        "opendata:export-csv",
        "CSV",
        "text/csv",
        "CSV export",
        "Every published practice, one row each, for spreadsheets: plain text "
        "in every cell, and names beside the codes of places, levels, themes and "
        "instrument types.",
    ),
    (
        "opendata:export-json",
        "JSON",
        "application/json",
        "JSON export",
        "Every published practice, one object each, with a metadata block; "
        "Markdown text, and names beside the codes.",
    ),
    (
        "opendata:feed",
        "ATOM",
        "application/atom+xml",
        "Atom feed",
        "The practices as a feed, to follow the catalogue in a feed reader.",
    ),
]
FILTERS_NOTE = (
    " Takes the practice list's filters as query parameters, to select exactly "
    "the practices the list shows: see the landing page."
)
KEYWORDS = [
    "SME",
    "internationalisation",
    "export promotion",
    "regional policy",
    "good practices",
    "Interreg Europe",
]


def typed(iri, kind):
    """A resource the description refers to, with its class: DCAT-AP's shapes
    check the class of every referenced resource, not only its address."""
    return {"@id": iri, "@type": kind}


def media(media_type):
    iana = "https://www.iana.org/assignments/media-types/"
    return typed(iana + media_type, "dct:MediaType")


def file_format(file_type):
    return typed(f"{EU}/file-type/{file_type}", "dct:MediaTypeOrExtent")


# The figures' source: Eurostat's database, of which they are an extract.
EUROSTAT_DATABASE = "https://ec.europa.eu/eurostat/web/main/data/database"


@method_decorator(public_page, name="dispatch")
class CatalogView(View):
    """A DCAT-AP style description of the dataset and its distributions, in JSON-LD."""

    http_method_names = ["get", "head"]

    def get(self, request):
        def node(url_name, kind="rdfs:Resource"):
            return typed(absolute_uri(request, reverse(url_name)), kind)

        data_page = node("opendata:data")["@id"]
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
        common = {  # to the catalogue and its dataset
            "dct:publisher": {
                "@type": "foaf:Agent",
                "foaf:name": SITE_NAME,
                "foaf:homepage": node("home", "foaf:Document"),
            },
            "dct:language": typed(f"{EU}/language/ENG", "dct:LinguisticSystem"),
        }
        # The catalogue version moves with every public change, removals included;
        # before the first one, the latest update tells.
        changed_at = getattr(catalogue_version(request), "changed_at", None)
        if changed_at is None:
            latest = Practice.objects.published().aggregate(latest=Max("updated_at"))
            changed_at = latest["latest"]
        if changed_at:
            modified = changed_at.isoformat()
            common["dct:modified"] = {"@value": modified, "@type": "xsd:dateTime"}
        distributions = [
            {
                "@id": f"{data_page}#{file_type.lower()}",
                "@type": "dcat:Distribution",
                "dct:title": title,
                "dct:description": about + FILTERS_NOTE,
                "dcat:accessURL": node(name),
                **({"dcat:downloadURL": node(name)} if file_type != "ATOM" else {}),
                "dcat:mediaType": media(media_type),
                "dct:format": file_format(file_type),
                "dct:license": licence,
                "dct:rights": rights,
                "foaf:page": typed(data_page, "foaf:Document"),
            }
            for name, file_type, media_type, title, about in DISTRIBUTIONS
        ]
        dataset = {
            "@id": f"{data_page}#dataset",
            "@type": "dcat:Dataset",
            "dct:title": TITLE,
            "dct:description": DESCRIPTION,
            **common,
            "dcat:keyword": KEYWORDS,
            "dcat:theme": {
                **typed(f"{EU}/data-theme/ECON", "skos:Concept"),
                "skos:prefLabel": {"@value": "Economy and finance", "@language": "en"},
            },
            "dct:spatial": typed(f"{EU}/continent/EUROPE", "dct:Location"),
            "dcat:landingPage": typed(data_page, "foaf:Document"),
            "dct:rights": rights,
            "dcat:distribution": distributions,
        }
        figures_page = f"{data_page}#indicators"
        eurostat_rights = {
            "@type": "dct:RightsStatement",
            "dct:title": "Eurostat copyright notice",
            "dct:description": "Reuse of Eurostat's statistical data is authorised "
            "provided the source is acknowledged.",
            "dct:source": {"@id": EUROSTAT_NOTICE},
        }
        figures = {
            "@id": f"{data_page}#regional-figures",
            "@type": "dcat:Dataset",
            "dct:title": "Regional figures (Eurostat)",
            "dct:description": "Eurostat's figures on the NUTS 2 regions and the "
            "countries of the EU, EFTA and the United Kingdom that region and "
            "country pages show: population, GDP, unemployment, household income, "
            "patents, broadband and more, each with its year, dataset and NUTS "
            "version; mostly 2018-2019, extracted in December 2020.",
            **common,
            "dcat:keyword": ["NUTS", "Eurostat", "regional statistics"],
            "dct:spatial": typed(f"{EU}/continent/EUROPE", "dct:Location"),
            "dcat:landingPage": typed(figures_page, "foaf:Document"),
            "dct:source": {
                **typed(EUROSTAT_DATABASE, "dcat:Dataset"),
                "dct:title": "Eurostat database",
                "dct:description": "The European statistics Eurostat publishes, of "
                "which these figures are an extract.",
            },
            "dct:rights": eurostat_rights,
            "dcat:distribution": [
                {
                    "@id": f"{data_page}#regional-figures-csv",
                    "@type": "dcat:Distribution",
                    "dct:title": "Regional figures, CSV",
                    "dct:description": "One figure a row, with its unit, flags, "
                    "Eurostat dataset code and page.",
                    "dcat:accessURL": node("opendata:figures-csv"),
                    "dcat:downloadURL": node("opendata:figures-csv"),
                    "dcat:mediaType": media("text/csv"),
                    "dct:format": file_format("CSV"),
                    "dct:rights": eurostat_rights,
                    "foaf:page": typed(figures_page, "foaf:Document"),
                }
            ],
        }
        catalog = {
            "@context": {
                "dcat": "http://www.w3.org/ns/dcat#",
                "dct": "http://purl.org/dc/terms/",
                "foaf": "http://xmlns.com/foaf/0.1/",
                "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
                "skos": "http://www.w3.org/2004/02/skos/core#",
                "vcard": "http://www.w3.org/2006/vcard/ns#",
                "xsd": "http://www.w3.org/2001/XMLSchema#",
            },
            **node("opendata:catalog"),
            "@type": "dcat:Catalog",
            "dct:title": f"{SITE_NAME} open data",
            "dct:description": f"The datasets {SITE_NAME} publishes: its catalogue "
            "of good practices, and the regional figures its pages show.",
            **common,
            "foaf:homepage": typed(data_page, "foaf:Document"),
            "dcat:dataset": [dataset, figures],
        }
        return JsonResponse(
            catalog,
            content_type="application/ld+json; charset=utf-8",
            json_dumps_params={"indent": 2, "ensure_ascii": False},
        )
