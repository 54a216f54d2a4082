"""sitemap.xml (an index of sections, in pages) lists every public page a reader
can reach from the catalogue's lists, with lastmod where a record says when it
changed, and nothing that is not public; robots.txt points to it and keeps robots
out of staff-only addresses."""

import xml.etree.ElementTree as ET
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from briefs.models import Brief
from opendata import discovery
from practices.models import Country, InstrumentType, Practice, Status, Theme
from tests.factories import (
    HIDDEN_STATES,
    committed,
    make_brief,
    make_country,
    make_instrument,
    make_practice,
    make_theme,
)

pytestmark = pytest.mark.django_db

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
TODAY = timezone.localdate()
ORIGIN = "http://testserver"

STATIC_PAGES = [
    "/",
    "/practices/",
    "/briefs/",
    "/countries/",
    "/themes/",
    "/instruments/",
    "/data/",
    "/evidence/",
    "/regions/how-peers-are-found/",
    "/accessibility/",
]


def sitemap(client):
    """{location: lastmod or None} from /sitemap.xml (an index) and each section
    page it lists, checking the format."""
    index = parse(client, "/sitemap.xml", "sitemapindex")
    parts = [
        part.find(f"{SITEMAP}loc").text for part in index.findall(f"{SITEMAP}sitemap")
    ]
    assert parts and all(p.startswith(f"{ORIGIN}/sitemap-") for p in parts)
    urls = {}
    for part in parts:
        for url in parse(client, part.removeprefix(ORIGIN), "urlset").findall(
            f"{SITEMAP}url"
        ):
            location = url.find(f"{SITEMAP}loc").text
            assert location not in urls, location  # each page once
            lastmod = url.find(f"{SITEMAP}lastmod")
            urls[location] = (
                None if lastmod is None else datetime.strptime(lastmod.text, "%Y-%m-%d")
            )
    return urls


def parse(client, url, root_tag):
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    root = ET.fromstring(response.content)
    assert root.tag == f"{SITEMAP}{root_tag}"
    return root


def day(moment):
    """The calendar day (site time zone) a sitemap gives for a change."""
    return datetime.combine(timezone.localtime(moment).date(), datetime.min.time())


def set_updated(record, moment):
    """Give a record a change time of our choosing (auto_now ignores save())."""
    type(record).objects.filter(pk=record.pk).update(updated_at=moment)
    record.refresh_from_db()
    return record


def at(days_ago):
    return timezone.now() - timedelta(days=days_ago)


@pytest.fixture
def world(db):
    italy = make_country(code="IT", name="Italy")
    malta = make_country(code="MT", name="Malta")  # only hidden practices
    make_country(code="FR", name="France")  # no practice at all
    theme = make_theme(slug="new-markets", name="New markets")
    quiet_theme = make_theme(slug="quiet", name="Quiet")  # only hidden practices
    instrument = make_instrument(slug="voucher", name="Voucher")
    unused = make_instrument(slug="unused", name="Unused")  # no practice at all
    older = set_updated(
        make_practice(
            slug="older", countries=[italy], themes=[theme], instruments=[instrument]
        ),
        at(20),
    )
    newer = set_updated(
        make_practice(slug="newer", countries=[italy], themes=[theme]), at(10)
    )
    hidden = {
        state: set_updated(
            make_practice(
                slug=f"hidden-{state}",
                countries=[italy, malta],
                themes=[theme, quiet_theme],
                instruments=[instrument],
                **values,
            ),
            at(1),  # later than any published change: must not count
        )
        for state, values in HIDDEN_STATES.items()
    }
    brief = set_updated(make_brief(slug="live-brief", practices=[older]), at(5))
    hidden_briefs = {
        state: make_brief(slug=f"hidden-brief-{state}", **values)
        for state, values in HIDDEN_STATES.items()
    }
    return {
        "italy": italy,
        "malta": malta,
        "theme": theme,
        "quiet_theme": quiet_theme,
        "instrument": instrument,
        "unused": unused,
        "older": older,
        "newer": newer,
        "hidden": hidden,
        "brief": brief,
        "hidden_briefs": hidden_briefs,
    }


def test_every_public_page_is_listed_with_its_lastmod(client, world):
    urls = sitemap(client)
    for path in STATIC_PAGES:
        assert f"{ORIGIN}{path}" in urls, path
    for practice in (world["older"], world["newer"]):
        url = f"{ORIGIN}{practice.get_absolute_url()}"
        assert urls[url] == day(practice.updated_at)
    brief = world["brief"]
    assert urls[f"{ORIGIN}{brief.get_absolute_url()}"] == day(brief.updated_at)
    # A term changes when its latest published practice does; hidden ones, though
    # changed later, do not count.
    newest = day(world["newer"].updated_at)
    assert urls[f"{ORIGIN}/countries/it/"] == newest
    assert urls[f"{ORIGIN}{world['theme'].get_absolute_url()}"] == newest
    instrument_url = f"{ORIGIN}{world['instrument'].get_absolute_url()}"
    assert urls[instrument_url] == day(world["older"].updated_at)
    # Themes and instrument types without a published practice still have a page
    # (their indexes list them): listed, with no date to give.
    assert urls[f"{ORIGIN}{world['quiet_theme'].get_absolute_url()}"] is None
    assert urls[f"{ORIGIN}{world['unused'].get_absolute_url()}"] is None
    # Countries are listed as /countries/ lists them: only with published practices.
    assert f"{ORIGIN}/countries/mt/" not in urls
    assert f"{ORIGIN}/countries/fr/" not in urls


def test_exactly_these_pages_and_nothing_hidden(client, world):
    urls = sitemap(client)
    expected = {f"{ORIGIN}{path}" for path in STATIC_PAGES} | {
        f"{ORIGIN}{record.get_absolute_url()}"
        for record in [
            world["older"],
            world["newer"],
            world["brief"],
            world["italy"],
            *Theme.objects.all(),
            *InstrumentType.objects.all(),
        ]
    }
    assert set(urls) == expected
    text = client.get("/sitemap.xml").text
    for record in [*world["hidden"].values(), *world["hidden_briefs"].values()]:
        assert record.slug not in text


def test_with_the_real_catalogue_every_published_record_is_listed(client, catalogue):
    urls = sitemap(client)
    practices = {
        u for u in urls if u.startswith(f"{ORIGIN}/practices/") and u.count("/") == 5
    }
    assert practices == {
        f"{ORIGIN}{p.get_absolute_url()}" for p in Practice.objects.published()
    }
    assert all(urls[u] is not None for u in practices)
    briefs = {
        u for u in urls if u.startswith(f"{ORIGIN}/briefs/") and u.count("/") == 5
    }
    assert briefs == {
        f"{ORIGIN}{b.get_absolute_url()}" for b in Brief.objects.published()
    }
    countries = Country.objects.in_use(Practice.objects.published())
    for term in [*countries, *Theme.objects.all(), *InstrumentType.objects.all()]:
        assert f"{ORIGIN}{term.get_absolute_url()}" in urls, term
    # Every listed page answers.
    for url in list(urls)[:12] + sorted(practices)[:3]:
        assert client.get(url.removeprefix(ORIGIN)).status_code == 200, url


def test_a_record_leaves_the_sitemap_when_unpublished(client, world):
    url = f"{ORIGIN}{world['newer'].get_absolute_url()}"
    assert url in sitemap(client)
    world["newer"].status = Status.ARCHIVED
    with committed():
        world["newer"].save()
    urls = sitemap(client)  # the page cache sees the new catalogue version
    assert url not in urls
    assert urls[f"{ORIGIN}/countries/it/"] == day(world["older"].updated_at)


def test_addresses_use_site_url_when_it_is_set(client, world, settings):
    settings.SITE_URL = "https://atlas.example.org"
    urls = sitemap(client)
    assert urls and all(u.startswith("https://atlas.example.org/") for u in urls)
    robots = client.get("/robots.txt").text
    assert "Sitemap: https://atlas.example.org/sitemap.xml" in robots.splitlines()


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


SECTIONS = [
    "pages",
    "practices",
    "briefs",
    "countries",
    "regions",
    "themes",
    "instruments",
]


def test_the_query_count_does_not_grow_with_the_catalogue(client, world, settings):
    settings.PAGE_CACHE_SECONDS = 0
    urls = ["/sitemap.xml"] + [f"/sitemap-{section}.xml" for section in SECTIONS]
    few = {url: count_queries(client, url) for url in urls}
    for n in range(30):
        country = make_country(code=f"Q{chr(65 + n % 26)}", name=f"Country {n}")
        make_practice(
            countries=[country],
            themes=[make_theme()],
            instruments=[make_instrument()],
        )
        make_brief()
    many = {url: count_queries(client, url) for url in urls}
    assert len(sitemap(client)) > 90
    assert few == many
    # The index: the catalogue version, then for each section with records its
    # size and latest change (terms: the version, which production reads from
    # the shared cache, their dates, grouped once per version, and their list;
    # regions: their size only, they have no date).
    assert many["/sitemap.xml"] == 1 + 2 + 2 + 3 * 3 + 1
    # A section page: the catalogue version, then its size and its page of
    # records (terms: the version and their list; their dates were grouped for
    # this version by the index).
    assert many["/sitemap-practices.xml"] == many["/sitemap-briefs.xml"] == 3
    assert many["/sitemap-themes.xml"] == 3 and many["/sitemap-pages.xml"] == 1
    # Until the catalogue changes, the terms' dates are not grouped again.
    assert count_queries(client, "/sitemap.xml") == 1 + 2 + 2 + 3 * 2 + 1


def test_large_sections_are_split_into_pages(client, world, monkeypatch):
    monkeypatch.setattr(discovery.SiteSitemap, "limit", 1)
    published = Practice.objects.published().order_by("pk")
    index = client.get("/sitemap.xml").text
    for page in range(2, published.count() + 1):
        assert f"{ORIGIN}/sitemap-practices.xml?p={page}</loc>" in index
    second = client.get("/sitemap-practices.xml?p=2").text
    assert second.count("<url>") == 1 and published[1].slug in second


def test_the_sitemap_is_cached_like_a_page(client, world):
    first = client.get("/sitemap-practices.xml")
    again = client.get("/sitemap-practices.xml")
    assert (first.headers["X-Page-Cache"], again.headers["X-Page-Cache"]) == (
        "miss",
        "hit",
    )
    assert again.content == first.content
    assert again["Content-Type"] == first["Content-Type"]


@pytest.mark.parametrize(
    "url",
    [
        "/sitemap-practices.xml?p=2",
        "/sitemap-practices.xml?p=abc",
        "/sitemap-nothing.xml",
    ],
)
def test_a_page_or_section_beyond_the_sitemap_is_404(client, world, url):
    assert client.get(url).status_code == 404


# --- robots.txt -----------------------------------------------------------------------


def test_robots_txt(client, db):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    lines = response.text.splitlines()
    assert lines[0] == "User-agent: *"
    disallowed = {
        line.removeprefix("Disallow: ")
        for line in lines[1:]
        if line.startswith("Disallow: ")
    }
    assert disallowed == {
        reverse("admin:index"),
        "/practices/*/preview/",
        "/briefs/*/preview/",
        reverse("practices:compare-add"),
        reverse("practices:compare-remove"),
    }
    assert "Sitemap: http://testserver/sitemap.xml" in lines
    # Nothing public is kept from robots.
    assert not any(line in ("Disallow: /", "Disallow: /practices/") for line in lines)


def test_robots_wildcards_match_previews_and_nothing_public(client, world):
    """The rules as RFC 9309 reads them: `*` is any run of characters."""
    import re

    rules = [
        re.compile(re.escape(line.removeprefix("Disallow: ")).replace(r"\*", ".*"))
        for line in client.get("/robots.txt").text.splitlines()
        if line.startswith("Disallow: ")
    ]

    def blocked(path):
        return any(rule.match(path) for rule in rules)

    practice, brief = world["older"], world["brief"]
    assert blocked(practice.get_preview_url())
    assert blocked(brief.get_preview_url())
    assert blocked(reverse("admin:index") + "practices/practice/")
    for url in sitemap(client):
        assert not blocked(url.removeprefix(ORIGIN)), url
    assert not blocked(f"/practices/compare/?p={practice.slug}")
