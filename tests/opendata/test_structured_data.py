"""What pages tell search engines and link previews: schema.org JSON-LD on practice
and brief pages (only recorded facts, safely escaped), canonical URLs, Open Graph
tags, and the feed links on taxonomy pages."""

import json
import re
from datetime import date, timedelta
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from opendata.records import LICENCE
from practices.models import Status
from tests.factories import (
    make_brief,
    make_country,
    make_instrument,
    make_practice,
    make_region,
    make_theme,
)

pytestmark = pytest.mark.django_db

ORIGIN = "http://testserver"
TODAY = timezone.localdate()
JSON_LD = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)


def json_ld(text):
    """The one JSON-LD block of a page, parsed."""
    blocks = JSON_LD.findall(text)
    assert len(blocks) == 1, len(blocks)
    return json.loads(blocks[0])


def meta(text):
    """{property or name: content} of the page's <meta> tags, and the canonical."""
    found = {
        key: unescape(value)
        for key, value in re.findall(
            r'<meta (?:property|name)="([^"]+)" content="([^"]*)">', text
        )
    }
    canonical = re.findall(r'<link rel="canonical" href="([^"]*)">', text)
    assert len(canonical) <= 1
    if canonical:
        found["canonical"] = unescape(canonical[0])
    return found


@pytest.fixture
def full_practice(db):
    italy = make_country(code="IT", name="Italy")
    return make_practice(
        title="Export vouchers",
        slug="export-vouchers",
        summary="Vouchers for first-time exporters.",
        countries=[italy],
        regions=[make_region(code="ITH5", name="Emilia-Romagna", country=italy)],
        themes=[make_theme(slug="new-markets", name="New markets")],
        instruments=[make_instrument(slug="voucher", name="Voucher")],
        institution="Regione Emilia-Romagna",
        city="Bologna",
        start_year=2016,
        end_year=2020,
        beneficiaries="SMEs that have never exported.",
        sources=["https://example.org/call", "https://example.org/report"],
        attribution="Summary by Practice Atlas; see the sources.",
        published_on=TODAY - timedelta(days=3),
    )


def test_a_practice_page_describes_the_practice(client, full_practice):
    practice = full_practice
    data = json_ld(client.get(practice.get_absolute_url()).text)
    url = f"{ORIGIN}/practices/export-vouchers/"
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "WebPage"
    assert data["url"] == data["@id"] == url
    assert data["name"] == "Export vouchers"
    assert data["description"] == practice.summary
    assert data["isPartOf"] == {
        "@type": "WebSite",
        "name": "Practice Atlas",
        "url": f"{ORIGIN}/",
    }
    assert data["datePublished"] == practice.published_on.isoformat()
    modified = timezone.datetime.fromisoformat(data["dateModified"])
    assert modified == practice.updated_at.replace(microsecond=0)
    assert "license" not in data  # no Interreg Europe page among its sources
    assert data["creditText"] == practice.attribution
    assert data["temporalCoverage"] == "2016/2020"
    assert data["about"] == [
        {
            "@type": "DefinedTerm",
            "name": "New markets",
            "url": f"{ORIGIN}/themes/new-markets/",
        }
    ]
    assert [s["url"] for s in data["isBasedOn"]] == [
        "https://example.org/call",
        "https://example.org/report",
    ]
    assert [s["name"] for s in data["isBasedOn"]] == ["Source 0", "Source 1"]

    service = data["mainEntity"]
    assert service["@type"] == "Service"
    assert service["name"] == "Export vouchers"
    assert service["description"] == practice.summary
    assert service["url"] == url
    places = [
        (p["@type"], p["name"], p["identifier"]["value"]) for p in service["areaServed"]
    ]
    assert places == [
        ("Country", "Italy", "IT"),
        ("AdministrativeArea", "Emilia-Romagna", "ITH5"),
    ]
    assert service["provider"] == {
        "@type": "Organization",
        "name": "Regione Emilia-Romagna",
        "address": {"@type": "PostalAddress", "addressLocality": "Bologna"},
    }
    assert service["serviceType"] == ["Voucher"]
    assert service["audience"]["audienceType"] == practice.beneficiaries


def test_facts_not_recorded_have_no_key(client, db):
    practice = make_practice(title="Bare", summary="Only the essentials.")
    data = json_ld(client.get(practice.get_absolute_url()).text)
    for key in ("temporalCoverage", "about", "isBasedOn"):
        assert key not in data, key
    assert set(data["mainEntity"]) == {"@type", "name", "description", "url"}
    text = json.dumps(data)
    assert "null" not in text and '""' not in text and "[]" not in text


def test_an_open_period_and_a_city_without_institution(client, db):
    practice = make_practice(start_year=2019, city="Lyon")
    data = json_ld(client.get(practice.get_absolute_url()).text)
    assert data["temporalCoverage"] == "2019/.."
    assert "provider" not in data["mainEntity"]  # a city alone names no provider
    ended = make_practice(end_year=2012)
    assert json_ld(client.get(ended.get_absolute_url()).text)["temporalCoverage"] == (
        "../2012"
    )


def test_unconfirmed_facts_are_left_out(client, full_practice):
    full_practice.uncertain_fields = ["institution", "start_year", "places", "themes"]
    full_practice.save()
    data = json_ld(client.get(full_practice.get_absolute_url()).text)
    assert "provider" not in data["mainEntity"]
    assert "areaServed" not in data["mainEntity"]
    assert "about" not in data
    assert data["temporalCoverage"] == "../2020"  # the confirmed end year stays
    assert data["mainEntity"]["serviceType"] == ["Voucher"]
    assert data["description"] == full_practice.summary  # confirmed: it stays


def test_an_unconfirmed_summary_is_never_a_description_or_snippet(
    client, full_practice
):
    full_practice.uncertain_fields = ["summary"]
    full_practice.save()
    text = client.get(full_practice.get_absolute_url()).text
    data = json_ld(text)
    assert "description" not in data and "description" not in data["mainEntity"]
    for name in ("description", "og:description"):
        assert full_practice.summary not in meta(text)[name]
        assert meta(text)[name].startswith("Export vouchers: a practice")


def test_the_licence_is_interreg_europe_s_only_for_records_citing_its_pages(
    client, full_practice
):
    full_practice.sources.create(
        url="https://www.interregeurope.eu/good-practices/export-vouchers",
        title="Interreg Europe good practice",
        position=5,
    )
    data = json_ld(client.get(full_practice.get_absolute_url()).text)
    assert data["license"] == LICENCE["url"]


def test_a_title_cannot_break_out_of_the_script_element(client, db):
    evil = "</script><script>alert(1)</script><!-- & \u2028"
    practice = make_practice(
        title=evil, summary=f"Summary {evil}", institution=evil, slug="evil"
    )
    brief = make_brief(title=evil, standfirst=evil, practices=[practice])
    for url in (practice.get_absolute_url(), brief.get_absolute_url()):
        text = client.get(url).text
        # The only "</script" in the page closes the JSON-LD element.
        assert text.count("</script") == 1, url
        assert text.count("<script") == 1, url
        data = json_ld(text)  # the whole block parses: nothing ended it early
        name = data.get("name")
        assert name == evil
        block = JSON_LD.search(text).group(1)
        assert "<" not in block and ">" not in block and "&" not in block
        assert "\\u003C/script\\u003E" in block


def test_a_brief_page_is_a_report(client, full_practice):
    hidden = make_practice(title="Hidden one", status=Status.DRAFT, published_on=None)
    brief = make_brief(
        title="Going global",
        slug="going-global",
        standfirst="How regions help firms export.",
        source_url="https://example.org/brief.pdf",
        attribution="After the Interreg Europe brief.",
        practices=[full_practice, hidden],
        published_on=TODAY - timedelta(days=1),
    )
    data = json_ld(client.get(brief.get_absolute_url()).text)
    url = f"{ORIGIN}/briefs/going-global/"
    assert data["@type"] == "Report"
    assert data["url"] == data["@id"] == url
    assert data["headline"] == "Going global"
    assert data["description"] == brief.standfirst
    # The original brief's date is not recorded: never this page's own date.
    assert "datePublished" not in data
    assert data["isBasedOn"] == "https://example.org/brief.pdf"
    assert data["creditText"] == brief.attribution
    assert data["mentions"] == [
        {
            "@type": "Service",
            "name": "Export vouchers",
            "url": f"{ORIGIN}/practices/export-vouchers/",
        }
    ]  # the published featured practice only


def test_a_brief_s_recorded_date_is_the_original_s(client, full_practice):
    brief = make_brief(slug="dated", source_published_on=date(2021, 6, 1))
    text = client.get(brief.get_absolute_url()).text
    assert json_ld(text)["datePublished"] == "2021-06-01"
    assert 'published <time datetime="2021-06-01">1 June 2021</time>' in text
    undated = make_brief(slug="undated")
    text = client.get(undated.get_absolute_url()).text
    assert '<span class="not-recorded">date not recorded</span>' in text


def test_archived_records_and_previews_carry_no_structured_data(client, db):
    practice = make_practice(
        status=Status.ARCHIVED, published_on=TODAY - timedelta(days=1)
    )
    brief = make_brief(status=Status.ARCHIVED, published_on=TODAY - timedelta(days=1))
    for record in (practice, brief):
        text = client.get(record.get_absolute_url()).text
        assert '<meta name="robots" content="noindex">' in text
        assert "application/ld+json" not in text


def test_structured_data_costs_no_query(client, full_practice, settings):
    """The JSON-LD uses what the page loaded anyway: the page costs as many
    queries with it (published) as without it (archived)."""
    settings.PAGE_CACHE_SECONDS = 0
    url = full_practice.get_absolute_url()
    client.get(url)
    with CaptureQueriesContext(connection) as with_ld:
        client.get(url)
    full_practice.status = Status.ARCHIVED  # the same page, without JSON-LD
    full_practice.save()
    client.get(url)
    with CaptureQueriesContext(connection) as without_ld:
        assert "application/ld+json" not in client.get(url).text
    assert len(with_ld) == len(without_ld)


# --- canonical URLs and Open Graph ----------------------------------------------------


def test_practice_and_brief_pages_have_canonical_and_open_graph(client, full_practice):
    brief = make_brief(title="Going global", standfirst="How regions help.")
    for record, title, description in (
        (full_practice, full_practice.title, full_practice.summary),
        (brief, brief.title, brief.standfirst),
    ):
        text = client.get(record.get_absolute_url() + "?utm_source=x").text
        tags = meta(text)
        url = f"{ORIGIN}{record.get_absolute_url()}"
        assert tags["canonical"] == url  # absolute, without the query string
        assert tags["og:url"] == tags["canonical"]
        assert tags["og:type"] == "article"
        assert tags["og:title"] == title
        assert tags["og:description"] == tags["description"] == description
        assert tags["og:site_name"] == "Practice Atlas"
        assert tags["og:locale"] == "en_GB"
        assert f"<title>{title} · Practice Atlas</title>" in text


@pytest.mark.parametrize(
    "url, canonical",
    [
        ("/", "/"),
        ("/practices/?country=IT&sort=newest", "/practices/"),
        ("/themes/", "/themes/"),
        ("/briefs/?page=1", "/briefs/"),
    ],
)
def test_other_pages_are_websites_with_a_canonical(
    client, full_practice, url, canonical
):
    tags = meta(client.get(url).text)
    assert tags["canonical"] == f"{ORIGIN}{canonical}"
    assert tags["og:url"] == tags["canonical"]
    assert tags["og:type"] == "website"
    assert tags["og:title"]
    assert tags["og:description"] == tags["description"]


def test_a_quote_or_ampersand_in_a_title_stays_inside_its_attribute(client, db):
    practice = make_practice(title='Say "hello" & <go>', summary='A "quoted" summary')
    tags = meta(client.get(practice.get_absolute_url()).text)
    assert tags["og:title"] == practice.title
    assert tags["og:description"] == practice.summary


def test_paginated_term_pages_keep_their_page_in_the_canonical(client, db, settings):
    theme = make_theme(slug="many", name="Many")
    for n in range(25):
        make_practice(themes=[theme], title=f"Practice {n:02}")
    first = meta(client.get("/themes/many/?page=1&utm=x").text)
    second = meta(client.get("/themes/many/?page=2&utm=x").text)
    assert first["canonical"] == f"{ORIGIN}/themes/many/"
    assert second["canonical"] == f"{ORIGIN}/themes/many/?page=2"


def test_canonical_and_structured_data_use_site_url_when_set(
    client, full_practice, settings
):
    settings.SITE_URL = "https://atlas.example.org"
    text = client.get(full_practice.get_absolute_url()).text
    assert (
        meta(text)["canonical"]
        == "https://atlas.example.org/practices/export-vouchers/"
    )
    data = json_ld(text)
    assert data["url"] == "https://atlas.example.org/practices/export-vouchers/"
    assert data["isPartOf"]["url"] == "https://atlas.example.org/"


# --- feed discovery on taxonomy pages -------------------------------------------------

ALTERNATE = re.compile(
    r'<link rel="alternate" type="application/atom\+xml"'
    r' title="([^"]*)" href="([^"]*)">'
)


@pytest.mark.parametrize(
    "page, feed",
    [
        ("/countries/it/", "/practices/feed/?country=IT"),
        ("/themes/new-markets/", "/practices/feed/?theme=new-markets"),
        ("/instruments/voucher/", "/practices/feed/?instrument=voucher"),
    ],
)
def test_term_pages_link_to_their_feed(client, full_practice, page, feed):
    make_practice(title="Elsewhere")  # not in the term: not in its feed
    response = client.get(page)
    ((title, href),) = ALTERNATE.findall(response.text)
    assert unescape(href) == feed
    assert "Atom feed" in title
    answer = client.get(unescape(href))
    assert answer.status_code == 200
    listed = {p.get_absolute_url() for p in response.context["practices"]}
    assert listed == {full_practice.get_absolute_url()}
    for url in listed:
        assert f"{ORIGIN}{url}" in answer.text
    assert "Elsewhere" not in answer.text
