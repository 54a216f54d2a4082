"""What a page tells search engines and link previews about itself: its canonical
address, text reused between <title>, meta description and Open Graph tags, and
schema.org JSON-LD for practices and briefs. JSON-LD states only what the record
holds: no key for a fact not recorded, nor for one a curator marked unconfirmed
(structured data cannot say "unconfirmed"; the page does)."""

import json
from urllib.parse import urlencode

from django import template
from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe

from opendata.discovery import absolute_uri
from opendata.records import record_licence
from opendata.views import with_query

register = template.Library()


# --- reusing rendered text -----------------------------------------------------


class CaptureNode(template.Node):
    def __init__(self, nodelist, name):
        self.nodelist, self.name = nodelist, name

    def render(self, context):
        # Already rendered (and escaped) by the template: safe to output again.
        context[self.name] = mark_safe(self.nodelist.render(context).strip())
        return ""


@register.tag
def capture(parser, token):
    """{% capture as name %}…{% endcapture %}: render the enclosed template (blocks
    included, so child templates still override them) once, into `name`, to use
    the same text in several places, e.g. a page's title in <title> and og:title."""
    bits = token.split_contents()
    if len(bits) != 3 or bits[1] != "as":
        raise template.TemplateSyntaxError("Usage: {% capture as name %}")
    nodelist = parser.parse(("endcapture",))
    parser.delete_first_token()
    return CaptureNode(nodelist, bits[2])


# --- the canonical address -----------------------------------------------------------


@register.simple_tag(takes_context=True)
def canonical_url(context, *keep):
    """The absolute URL of this page without its query string (SITE_URL's origin
    when set); `keep` names query parameters that do select a different page (e.g.
    "page" on a paginated list), kept when present, except page 1."""
    request = context.get("request")
    if request is None:
        return ""
    try:
        # Both may refuse the request (a Host not allowed, too many query fields)
        # while its 400 page, which uses this template too, is being rendered.
        kept = [
            (name, value)
            for name in keep
            for value in request.GET.getlist(name)
            if not (name == "page" and value == "1")
        ]
        return absolute_uri(request, with_query(request.path, urlencode(kept)))
    except SuspiciousOperation:
        return ""  # no canonical address on a page that answers a bad request


# --- schema.org JSON-LD -----------------------------------------------------------

# Escapes that keep the JSON inside its <script> element (the same as Django's
# json_script): "</script>" or "<!--" in a title cannot end or alter the element.
_JSON_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


def json_ld_script(data):
    text = json.dumps(data, ensure_ascii=False, indent=None).translate(_JSON_ESCAPES)
    return mark_safe(f'<script type="application/ld+json">{text}</script>')


def _site(request):
    return {
        "@type": "WebSite",
        "name": settings.SITE_NAME,
        "url": absolute_uri(request, reverse("home")),
    }


def _datetime(value):
    return timezone.localtime(value).isoformat(timespec="seconds")


def _years(start, end):
    """An ISO 8601 interval; ".." stands for an open start or end."""
    if start is None and end is None:
        return None
    return f"{start or '..'}/{end or '..'}"


def _place(kind, place, scheme):
    identifier = {"@type": "PropertyValue", "propertyID": scheme, "value": place.code}
    return {"@type": kind, "name": place.name, "identifier": identifier}


def practice_data(practice, request):
    """The practice's page as a schema.org WebPage whose mainEntity is the practice,
    a Service: not GovernmentService (its institution may be a chamber or an
    agency), nor CreativeWork (our *record* of it is a work, so the record's dates,
    licence, credit, sources and period covered sit on the WebPage)."""
    uncertain = set(practice.uncertain_fields or [])
    url = absolute_uri(request, practice.get_absolute_url())

    # A summary its sources do not confirm is left out, as every unconfirmed fact.
    summary = {} if "summary" in uncertain else {"description": practice.summary}
    service = {"@type": "Service", "name": practice.title, **summary, "url": url}
    if "places" not in uncertain:
        places = [
            _place("Country", country, "ISO 3166-1 alpha-2")
            for country in practice.countries.all()
        ] + [
            _place("AdministrativeArea", region, "NUTS")
            for region in practice.regions.all()
        ]
        if places:
            service["areaServed"] = places
    if practice.institution and "institution" not in uncertain:
        provider = {"@type": "Organization", "name": practice.institution}
        if practice.city and "city" not in uncertain:  # where the institution is
            provider["address"] = {
                "@type": "PostalAddress",
                "addressLocality": practice.city,
            }
        service["provider"] = provider
    instruments = [i.name for i in practice.instruments.all()]
    if instruments and "instruments" not in uncertain:
        service["serviceType"] = instruments
    if practice.beneficiaries and "beneficiaries" not in uncertain:
        service["audience"] = {
            "@type": "Audience",
            "audienceType": practice.beneficiaries,
        }

    page = {
        "@context": "https://schema.org",
        "@type": "WebPage",
        "@id": url,
        "url": url,
        "name": practice.title,
        **summary,
        "inLanguage": "en",
        "isPartOf": _site(request),
        "mainEntity": service,
    }
    themes = [
        {
            "@type": "DefinedTerm",
            "name": theme.name,
            "url": absolute_uri(request, theme.get_absolute_url()),
        }
        for theme in practice.themes.all()
    ]
    if themes and "themes" not in uncertain:
        page["about"] = themes
    start = None if "start_year" in uncertain else practice.start_year
    end = None if "end_year" in uncertain else practice.end_year
    if period := _years(start, end):
        page["temporalCoverage"] = period  # the years the practice ran
    sources = [
        {"@type": "CreativeWork", "url": source.url}
        | ({"name": source.title} if source.title else {})
        for source in practice.sources.all()
    ]
    if sources:
        page["isBasedOn"] = sources
    if practice.published_on:
        page["datePublished"] = practice.published_on.isoformat()
    page["dateModified"] = _datetime(practice.updated_at)
    if licence := record_licence(practice):
        page["license"] = licence
    if practice.attribution:
        page["creditText"] = practice.attribution
    return page


def brief_data(brief, features, request):
    """A policy brief as a schema.org Report; `features` are its published
    featured practices (brief.featured.published()), mentioned by name and page."""
    url = absolute_uri(request, brief.get_absolute_url())
    report = {
        "@context": "https://schema.org",
        "@type": "Report",
        "@id": url,
        "url": url,
        "headline": brief.title,
        "name": brief.title,
        "description": brief.standfirst,
        "inLanguage": "en",
        "isPartOf": _site(request),
    }
    # The original brief's date, when recorded; never this page's own date.
    if brief.source_published_on:
        report["datePublished"] = brief.source_published_on.isoformat()
    report["dateModified"] = _datetime(brief.updated_at)
    if brief.source_url:
        report["isBasedOn"] = brief.source_url  # the original brief
    if brief.attribution:
        report["creditText"] = brief.attribution
    mentions = [
        {
            "@type": "Service",  # as on the practice's own page
            "name": feature.practice.title,
            "url": absolute_uri(request, feature.practice.get_absolute_url()),
        }
        for feature in features
    ]
    if mentions:
        report["mentions"] = mentions
    return report


@register.simple_tag(takes_context=True)
def practice_json_ld(context, practice):
    """<script type="application/ld+json"> describing the practice's page. Uses
    only what the page's queryset (for_detail) already loaded: no query."""
    return json_ld_script(practice_data(practice, context["request"]))


@register.simple_tag(takes_context=True)
def brief_json_ld(context, brief, features):
    return json_ld_script(brief_data(brief, features, context["request"]))
