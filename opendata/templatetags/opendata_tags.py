"""What a page tells search engines, link previews and feed readers: its canonical
address, its feed and exports, text reused between <title> and Open Graph tags, and
schema.org JSON-LD of the facts a record holds and its sources confirm (structured
data cannot say "unconfirmed"; the page does)."""

import json
from urllib.parse import urlencode

from django import template
from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.core.serializers.json import DjangoJSONEncoder
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe

from opendata.discovery import absolute_uri, filtered_path, with_query
from opendata.records import record_licence
from practices.facts import is_unconfirmed

register = template.Library()


@register.simple_block_tag
def capture(content):
    """{% capture as name %}…{% endcapture %}: render the enclosed blocks once, into
    `name`, to use the same text twice, e.g. a page's title in <title> and og:title."""
    # Already rendered (and escaped) by the template: safe to output again.
    return mark_safe(content.strip())


@register.simple_tag(takes_context=True)
def canonical_url(context, *keep):
    """This page's absolute URL without its query string; `keep` names parameters
    that do select another page (e.g. "page", kept unless it is 1)."""
    request = context.get("request")
    if request is None:
        return ""
    try:  # the 400 page of a bad Host or of too many query fields uses it too
        kept = [
            (name, value)
            for name in keep
            for value in request.GET.getlist(name)
            if not (name == "page" and value == "1")
        ]
        return absolute_uri(request, with_query(request.path, urlencode(kept)))
    except SuspiciousOperation:
        return ""


@register.simple_tag(takes_context=True)
def page_url(context):
    """This page's absolute URL, query string included ("" without a request or
    with a bad Host: the 400 page renders the same base template)."""
    request = context.get("request")
    try:
        return absolute_uri(request, request.get_full_path()) if request else ""
    except SuspiciousOperation:
        return ""


@register.simple_tag(takes_context=True)
def filtered_url(context, url_name):
    return filtered_path(url_name, context["request"].GET)


# As Django's json_script: "</script>" or "<!--" in a title cannot end the element.
_JSON_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


def _recorded(data):
    """`data` without the keys of facts not recorded (None, "" or [])."""
    if isinstance(data, list):
        return [_recorded(item) for item in data]
    if not isinstance(data, dict):
        return data
    data = {key: _recorded(value) for key, value in data.items()}
    return {key: value for key, value in data.items() if value not in (None, "", [])}


def _linked(request, kind, name, record, **facts):
    url = absolute_uri(request, record.get_absolute_url())
    return {"@type": kind, "name": name, "url": url, **facts}


def _json_ld(request, kind, record, **facts):
    """<script type="application/ld+json"> describing a record's page."""
    home = absolute_uri(request, reverse("home"))
    data = {
        "@context": "https://schema.org",
        **_linked(request, kind, record.title, record),
        "@id": absolute_uri(request, record.get_absolute_url()),
        "inLanguage": "en",
        "isPartOf": {"@type": "WebSite", "name": settings.SITE_NAME, "url": home},
        **facts,
        "dateModified": timezone.localtime(record.updated_at).replace(microsecond=0),
        "creditText": record.attribution,
    }
    text = json.dumps(_recorded(data), cls=DjangoJSONEncoder, ensure_ascii=False)
    text = text.translate(_JSON_ESCAPES)
    return mark_safe(f'<script type="application/ld+json">{text}</script>')


@register.simple_tag(takes_context=True)
def practice_json_ld(context, practice):
    """The page as a schema.org WebPage whose mainEntity is the practice, a Service
    (not GovernmentService: its institution may be a chamber or an agency). Our
    *record* is the work: its dates, licence, credit, sources and period covered
    are the page's. Uses only what for_detail() loaded: no query."""
    request = context["request"]

    def confirmed(name, value):
        return None if is_unconfirmed(practice, name) else value

    def place(kind, place, scheme):
        code = {"@type": "PropertyValue", "propertyID": scheme, "value": place.code}
        return {"@type": kind, "name": place.name, "identifier": code}

    summary = confirmed("summary", practice.summary)
    places = [
        place("Country", c, "ISO 3166-1 alpha-2") for c in practice.countries.all()
    ]
    places += [place("AdministrativeArea", r, "NUTS") for r in practice.regions.all()]
    city = confirmed("city", practice.city)  # where the institution is
    provider = confirmed("institution", practice.institution) and {
        "@type": "Organization",
        "name": practice.institution,
        "address": city and {"@type": "PostalAddress", "addressLocality": city},
    }
    audience = confirmed("beneficiaries", practice.beneficiaries)
    instruments = [i.name for i in practice.instruments.all()]
    themes = [_linked(request, "DefinedTerm", t.name, t) for t in practice.themes.all()]
    start = confirmed("start_year", practice.start_year)
    end = confirmed("end_year", practice.end_year)
    return _json_ld(
        request,
        "WebPage",
        practice,
        description=summary,
        mainEntity=_linked(
            request,
            "Service",
            practice.title,
            practice,
            description=summary,
            areaServed=confirmed("places", places),
            provider=provider,
            serviceType=confirmed("instruments", instruments),
            audience=audience and {"@type": "Audience", "audienceType": audience},
        ),
        about=confirmed("themes", themes),
        # The years the practice ran, an ISO 8601 interval: ".." for an open end.
        temporalCoverage=(start or end) and f"{start or '..'}/{end or '..'}",
        isBasedOn=[
            {"@type": "CreativeWork", "url": source.url, "name": source.title}
            for source in practice.sources.all()
        ],
        datePublished=practice.published_on,
        license=record_licence(practice),
    )


@register.simple_tag(takes_context=True)
def brief_json_ld(context, brief, features):
    """A policy brief as a schema.org Report; `features` are its published
    featured practices, mentioned as on their own pages."""
    request = context["request"]
    return _json_ld(
        request,
        "Report",
        brief,
        headline=brief.title,
        description=brief.standfirst,
        # The original brief's date, when recorded; never this page's own date.
        datePublished=brief.source_published_on,
        isBasedOn=brief.source_url,  # the original brief
        mentions=[
            _linked(request, "Service", f.practice.title, f.practice) for f in features
        ],
    )
