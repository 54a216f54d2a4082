"""The no-leak rule: drafts, practices in review, scheduled practices and archived
ones (and briefs in the same states) never appear, nor count, on any public
surface, while their published twins do. Archived records still answer at their
own address, under a banner. Staff preview any record, uncached and unindexed.

A new public surface (an export, a feed, the sitemap) is one row in SURFACES: the
leak test then checks it for every hidden title and slug.
"""

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission, User
from django.core.cache import caches
from django.test import Client
from django.urls import URLResolver, get_resolver, resolve, reverse
from django.utils import timezone

from briefing import shortlist
from practices.models import Practice, PracticeSource, Status
from practices.search import search
from tests.evidence.factories import make_figure
from tests.factories import (
    HIDDEN_STATES,
    committed,
    make_brief,
    make_country,
    make_instrument,
    make_practice,
    make_project,
    make_recommendation,
    make_region,
    make_theme,
)
from tests.shared_data import shared_data

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()

SECRET_PROJECT = {"in-review", "scheduled"}


@dataclass
class World:
    twin: Practice  # published, with every shared term the hidden ones carry
    companion: Practice  # published too, so related lists are not empty
    hidden: dict  # state -> Practice
    brief: object  # published, features the twins and every hidden practice
    hidden_briefs: dict  # state -> Brief, each featuring the twin
    shared: dict = field(default_factory=dict)  # terms the twins share
    secret: dict = field(default_factory=dict)  # terms only hidden practices carry

    def markers(self, allowed=()):
        """Titles and slugs that must not show; `allowed`: states that may."""
        records = [p for state, p in self.hidden.items() if state not in allowed]
        records += [
            b for state, b in self.hidden_briefs.items() if state not in allowed
        ]
        return [text for record in records for text in (record.title, record.slug)]


def with_cost_per_firm(practice):
    """A source, and figures for the same year that give a cost per firm."""
    source = PracticeSource.objects.create(
        practice=practice, url="https://example.org/quokka", title="Quokka report"
    )
    make_figure(practice, source=source, value=10, period_start=2020, period_end=2020)
    make_figure(
        practice,
        source=source,
        metric="public-budget",
        value=1000,
        currency="EUR",
        period_start=2020,
        period_end=2020,
    )


@shared_data
def world_rows():
    """The records, built once for every test of this module."""
    italy = make_country(code="IT", name="Italy")
    ith = make_region(code="ITH", name="Nord-Est", country=italy)
    ith5 = make_region(code="ITH5", name="Emilia-Romagna", country=italy, parent=ith)
    # No practice names it: its page lists those around it.
    make_region(code="ITH4", name="Friuli-Venezia Giulia", country=italy, parent=ith)
    shared = {
        "country": italy,
        "region": ith5,
        "theme": make_theme(slug="new-markets", name="New markets"),
        "instrument": make_instrument(slug="voucher", name="Voucher"),
        "project": make_project(slug="smego", acronym="SMEGO"),
    }
    malta = make_country(code="MT", name="Malta")
    secret = {
        "country": malta,
        "region": make_region(code="MT00", name="Malta region", country=malta),
        "theme": make_theme(slug="secret-theme", name="Secret theme"),
        "instrument": make_instrument(slug="secret-tool", name="Secret tool"),
        "project": make_project(slug="hushed", acronym="HUSHED"),
    }
    common = {
        "level": "regional",
        "start_year": 2020,
        "still_running": True,  # ongoing, so the period filter selects them
        "summary": "Quokka support.",
    }

    def practice(title, slug, terms, project=shared["project"], **kwargs):
        return make_practice(
            title=title,
            slug=slug,
            countries=[t["country"] for t in terms],
            regions=[t["region"] for t in terms],
            themes=[t["theme"] for t in terms],
            instruments=[t["instrument"] for t in terms],
            project=project,
            **common,
            **kwargs,
        )

    twin = practice(
        "Quokka export vouchers",
        "quokka-live",
        [shared],
        published_on=TODAY - timedelta(days=30),
    )
    companion = practice(
        "Quokka trade missions",
        "quokka-companion",
        [shared],
        published_on=TODAY - timedelta(days=30),
    )
    # Hidden ones carry the shared terms and, alone, the secret ones; their dates
    # are the newest, so a leak would put them first in "newest" and "latest".
    # A practice has one project: two of them are in the twins' project, two in
    # the secret one.
    hidden = {
        state: practice(
            f"Quokka {state} scheme",
            f"quokka-{state}",
            [shared, secret],
            project=secret["project"] if state in SECRET_PROJECT else shared["project"],
            **values,
        )
        for state, values in HIDDEN_STATES.items()
    }
    for shown in [twin, *hidden.values()]:  # on the /evidence/ page's cost chart
        with_cost_per_firm(shown)
    brief = make_brief(
        title="Wombat published brief",
        slug="wombat-live",
        practices=[twin, companion, *hidden.values()],
        published_on=TODAY - timedelta(days=30),
    )
    hidden_briefs = {
        state: make_brief(
            title=f"Wombat {state} brief",
            slug=f"wombat-{state}",
            practices=[twin],
            **values,
        )
        for state, values in HIDDEN_STATES.items()
    }
    # Recommendations too: the published brief's is illustrated by every practice,
    # each hidden brief's by the twin (whose page must not name those briefs).
    make_recommendation(brief, practices=[twin, companion, *hidden.values()])
    for hidden_brief in hidden_briefs.values():
        make_recommendation(hidden_brief, practices=[twin])
    return World(twin, companion, hidden, brief, hidden_briefs, shared, secret)


@pytest.fixture
def world(world_rows):
    """A copy of the records for each test, which may change them."""
    return copy.deepcopy(world_rows)


# --- every public surface ----------------------------------------------------------


@dataclass
class Surface:
    name: str
    url: Callable  # World -> URL
    shows_twin: bool = True  # the published twin is listed there
    allowed: tuple = ()  # hidden states that may show (the archived page itself)
    twin_marker: str = "title"  # how it names the twin (the sitemap: by address)


def list_url(**params):
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return lambda w: f"/practices/?{query}"


def term_filter(name, key="slug"):
    return lambda w: f"/practices/?{name}={getattr(w.shared[name], key)}"


def term_feed(name, terms="shared"):
    return lambda w: f"/practices/feed/?{name}={getattr(w, terms)[name].slug}"


SURFACES = [
    Surface("list", list_url()),
    Surface("list-country", list_url(country="IT")),
    Surface("list-region", list_url(region="ITH5")),
    Surface("list-parent-region", list_url(region="ITH")),
    Surface("list-theme", term_filter("theme")),
    Surface("list-instrument", term_filter("instrument")),
    Surface("list-project", term_filter("project")),
    Surface("list-level", list_url(level="regional")),
    Surface("list-period", list_url(period="ongoing")),
    Surface(
        "list-every-filter",
        list_url(
            country="IT",
            region="ITH5",
            theme="new-markets",
            instrument="voucher",
            project="smego",
            level="regional",
            period="ongoing",
        ),
    ),
    Surface("list-secret-country", list_url(country="MT"), shows_twin=False),
    Surface("list-secret-project", list_url(project="hushed"), shows_twin=False),
    Surface("list-newest", list_url(sort="newest")),
    Surface("list-start-year", list_url(sort="start")),
    Surface("search", list_url(q="quokka")),
    Surface("search-by-title", list_url(q="scheme"), shows_twin=False),
    Surface("search-filtered", list_url(q="quokka", country="IT", sort="newest")),
    Surface("home", lambda w: "/"),
    Surface("practice-page", lambda w: w.twin.get_absolute_url()),
    Surface(
        "archived-practice-page",
        lambda w: w.hidden["archived"].get_absolute_url(),
        allowed=("archived",),
    ),
    Surface("countries", lambda w: "/countries/", shows_twin=False),
    Surface("country", lambda w: "/countries/it/"),
    Surface("secret-country", lambda w: "/countries/mt/", shows_twin=False),
    Surface("region", lambda w: "/regions/ITH5/"),
    Surface("parent-region", lambda w: "/regions/ITH/"),
    Surface("empty-region", lambda w: "/regions/ITH4/"),  # elsewhere in ITH, Italy
    Surface("secret-region", lambda w: "/regions/MT00/", shows_twin=False),
    Surface("list-empty-region", list_url(region="ITH4"), shows_twin=False),
    Surface("list-secret-region", list_url(region="MT00"), shows_twin=False),
    Surface("themes", lambda w: "/themes/", shows_twin=False),
    Surface("theme", lambda w: w.shared["theme"].get_absolute_url()),
    Surface(
        "secret-theme", lambda w: w.secret["theme"].get_absolute_url(), shows_twin=False
    ),
    Surface("instruments", lambda w: "/instruments/", shows_twin=False),
    Surface("instrument", lambda w: w.shared["instrument"].get_absolute_url()),
    Surface("briefs", lambda w: "/briefs/", shows_twin=False),
    Surface("brief", lambda w: w.brief.get_absolute_url()),
    Surface(
        "archived-brief",
        lambda w: w.hidden_briefs["archived"].get_absolute_url(),
        allowed=("archived",),
    ),
    Surface(
        "compare", lambda w: f"/practices/compare/?p={w.twin.slug}&p={w.companion.slug}"
    ),
    # Open data: the exports and the feed take the list's filters; the sitemap
    # names records by their address.
    Surface("export-csv", lambda w: "/practices/export.csv"),
    Surface(
        "export-csv-filtered",
        lambda w: "/practices/export.csv?country=IT&theme=new-markets&q=quokka",
    ),
    Surface(
        "export-csv-secret-country",
        lambda w: "/practices/export.csv?country=MT",
        shows_twin=False,
    ),
    Surface("export-json", lambda w: "/practices/export.json?sort=newest"),
    Surface(
        "export-json-filtered",
        lambda w: "/practices/export.json?region=ITH&project=smego&period=ongoing",
    ),
    Surface(
        "export-json-secret-project",
        lambda w: "/practices/export.json?project=hushed",
        shows_twin=False,
    ),
    Surface("feed", lambda w: "/practices/feed/"),
    Surface(
        "feed-filtered",
        lambda w: "/practices/feed/?country=IT&instrument=voucher&q=quokka",
    ),
    Surface("feed-secret-theme", term_feed("theme", "secret"), shows_twin=False),
    Surface(
        "feed-search-by-title", lambda w: "/practices/feed/?q=scheme", shows_twin=False
    ),
    # The index names no record; the practice and brief sections name them.
    Surface("sitemap", lambda w: "/sitemap.xml", shows_twin=False),
    Surface(
        "sitemap-practices", lambda w: "/sitemap-practices.xml", twin_marker="slug"
    ),
    Surface("sitemap-briefs", lambda w: "/sitemap-briefs.xml", shows_twin=False),
    Surface("sitemap-regions", lambda w: "/sitemap-regions.xml", shows_twin=False),
    Surface("data-page", lambda w: "/data/", shows_twin=False),
    Surface("evidence-page", lambda w: "/evidence/"),  # its cost-per-firm chart
    Surface("follow", lambda w: "/follow/?country=IT&q=quokka", shows_twin=False),
    Surface(
        "compare-csv",
        lambda w: f"/practices/compare/export.csv?p={w.twin.slug}&p={w.companion.slug}",
    ),
    Surface("data-catalog", lambda w: "/data/catalog.jsonld", shows_twin=False),
    Surface("briefing-pack", lambda w: "/briefing/?country=IT"),
    Surface("briefing-pack-search", lambda w: "/briefing/?q=quokka&sort=newest"),
    Surface(
        "briefing-pack-named",
        lambda w: f"/briefing/?p={w.twin.slug}&p={w.companion.slug}",
    ),
    Surface("briefing-csv", lambda w: "/briefing.csv?country=IT"),
    Surface(
        "shortlist-shared",
        lambda w: (
            "/shortlist/?list="
            + shortlist.dumps(
                [shortlist.Item(w.twin.slug), shortlist.Item(w.companion.slug)]
            )
        ),
    ),
]


@pytest.mark.parametrize("surface", SURFACES, ids=[s.name for s in SURFACES])
def test_no_hidden_record_shows_on_any_public_surface(client, world, surface):
    url = surface.url(world)
    for attempt in ("miss", "hit"):  # rendered, then from the page cache
        response = client.get(url)
        assert response.status_code == 200, (url, attempt)
        if response.streaming:  # the exports
            text = b"".join(response.streaming_content).decode()
        else:
            text = response.content.decode()
        for marker in world.markers(allowed=surface.allowed):
            assert marker not in text, (url, attempt, marker)
        if surface.shows_twin:
            assert getattr(world.twin, surface.twin_marker) in text, (url, attempt)


# Routes that are not surfaces above, and why. The admin is left out entirely.
NOT_SURFACES = {
    "practices:compare-add": "POST only: test_the_basket_refuses_a_hidden_practice",
    "practices:compare-remove": "POST only: test_the_basket_refuses_a_hidden_practice",
    "practices:preview": "staff only: the preview tests below",
    "briefing:pack-pdf": "the PDF of briefing:pack's page, a surface (tests/briefing)",
    "briefs:pdf": "the PDF of the brief's page, a surface (tests/briefs/test_pdf)",
    **{
        f"briefing:shortlist-{action}": "POST only: tests/briefing/test_shortlist"
        for action in ("add", "note", "remove", "keep", "clear")
    },
    "briefs:preview": "staff only: the preview tests below",
    "accessibility:statement": "shows no practice or brief",
    "accessibility:feedback": "shows no practice or brief",
    "healthz": "shows no practice or brief",
    "alerts:signup": "POST only; a mistake shows the follow page, a surface",
    "alerts:requested": "shows no practice or brief",
    "alerts:confirm": "shows no practice or brief, only the list's filters",
    "alerts:unsubscribe": "shows no practice or brief, only the list's filters",
    "regions:peers-method": "shows no practice or brief (indicators.peers)",
    "opendata:figures-csv": "Eurostat's figures only (tests/indicators/test_loading)",
    "opendata:robots": "shows no practice or brief: test_robots_txt (opendata)",
}


def route_names(patterns, namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.app_name != "admin":
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else ""
                yield from route_names(pattern.url_patterns, inner or namespace)
        else:
            yield namespace + (pattern.name or str(pattern.pattern))


def test_every_route_is_a_surface_or_says_why_not(world):
    """A new route (an export, a feed, the sitemap) fails here until it is a row
    in SURFACES, or in NOT_SURFACES with the reason."""
    covered = {
        resolve(surface.url(world).split("?")[0]).view_name for surface in SURFACES
    }
    routes = set(route_names(get_resolver().url_patterns))
    assert routes - covered - NOT_SURFACES.keys() == set()
    assert covered & NOT_SURFACES.keys() == set()


# --- counts and facets ---------------------------------------------------------


def facet_counts(response):
    return {
        facet.name: {option.value: option.count for option in facet.options}
        for facet in response.context["facets"]
    }


@pytest.mark.parametrize(
    "query",
    [
        "",
        "country=IT",
        "theme=new-markets&level=regional",
        "q=quokka",
        "period=ongoing",
    ],
)
def test_list_count_and_every_facet_count_only_the_published(client, world, query):
    response = client.get(f"/practices/?{query}")
    assert response.context["paginator"].count == 2
    assert {p.slug for p in response.context["practices"]} == {
        "quokka-live",
        "quokka-companion",
    }
    counts = facet_counts(response)
    for name, term in world.shared.items():
        value = term.code if name in ("country", "region") else term.slug
        assert counts[name][value] == 2, (query, name)
    # Nord-Est, a NUTS 1 region of several that no practice names itself, is left
    # out of the facet (places.read_places); as a filter it counts once each.
    assert "ITH" not in counts["region"]
    assert client.get(f"/practices/?{query}&region=ITH").context["paginator"].count == 2
    for name, term in world.secret.items():
        value = term.code if name in ("country", "region") else term.slug
        assert counts[name].get(value, 0) == 0, (query, name)
    assert counts["level"]["regional"] == 2
    assert counts["period"]["ongoing"] == 2


def test_a_filter_only_hidden_practices_match_lists_nothing(client, world):
    for name, term in world.secret.items():
        value = term.code if name in ("country", "region") else term.slug
        response = client.get("/practices/", {name: value})
        assert response.status_code == 200
        assert response.context["paginator"].count == 0, name
        assert "No practices match these filters" in response.text


def test_search_finds_only_published_practices_on_this_database(client, world):
    found = search(Practice.objects.published(), "quokka")
    assert set(found.values_list("slug", flat=True)) == {
        "quokka-live",
        "quokka-companion",
    }
    # The whole catalogue has them: only published() keeps them out.
    everything = search(Practice.objects.all(), "quokka scheme")
    assert set(everything.values_list("slug", flat=True)) == {
        f"quokka-{state}" for state in HIDDEN_STATES
    }
    assert client.get("/practices/", {"q": "scheme"}).context["paginator"].count == 0


def test_home_counts_map_and_charts_only_count_the_published(client, world):
    context = client.get("/").context
    assert context["holdings"].total == 2
    assert {(c.code, c.practice_count) for c in context["countries"]} == {("IT", 2)}
    themes = {t.slug: t.practice_count for t in context["themes"]}
    instruments = {i.slug: i.practice_count for i in context["instruments"]}
    assert themes == {"new-markets": 2, "secret-theme": 0}
    assert instruments == {"voucher": 2, "secret-tool": 0}
    assert [p.slug for p in context["latest_practices"]] == [
        "quokka-companion",
        "quokka-live",
    ]
    assert [b.slug for b in context["briefs"]] == ["wombat-live"]
    text = client.get("/").text
    assert "Malta" not in text  # only hidden practices name it: not on the map
    assert "The catalogue holds 2 practices: 2 regional." in text


def test_taxonomy_indexes_and_pages_count_only_the_published(client, world):
    countries = client.get("/countries/").context["terms"]
    # Every country is listed; one that only hidden practices name has none.
    assert [(c.code, c.practice_count) for c in countries] == [("IT", 2), ("MT", 0)]
    themes = client.get("/themes/").context["terms"]
    assert {t.slug: t.practice_count for t in themes} == {
        "new-markets": 2,
        "secret-theme": 0,
    }
    instruments = client.get("/instruments/").context["terms"]
    assert {i.slug: i.practice_count for i in instruments} == {
        "voucher": 2,
        "secret-tool": 0,
    }
    italy = client.get("/countries/it/").context
    assert italy["paginator"].count == 2
    (north_east,) = italy["regions"]  # a tree: ITH5 lies in ITH
    assert (north_east.code, north_east.practice_count) == ("ITH", 2)
    assert [(r.code, r.practice_count) for r in north_east.inside] == [("ITH5", 2)]
    malta = client.get("/countries/mt/")
    assert malta.context["paginator"].count == 0
    assert "Malta region" not in malta.text
    for term in (world.shared["theme"], world.shared["instrument"]):
        assert client.get(term.get_absolute_url()).context["paginator"].count == 2
    for term in (world.secret["theme"], world.secret["instrument"]):
        response = client.get(term.get_absolute_url())
        assert response.context["paginator"].count == 0
        assert "No published practice is recorded here yet" in response.text


def test_practice_page_relates_and_features_only_published_records(client, world):
    context = client.get(world.twin.get_absolute_url()).context
    assert [p.slug for p, _score in context["related"]] == ["quokka-companion"]
    assert [p.slug for p in context["more_from_country"]] == ["quokka-companion"]
    assert [p.slug for p in context["more_from_project"]] == ["quokka-companion"]
    assert [f.brief.slug for f in context["features"]] == ["wombat-live"]


def test_brief_features_and_charts_count_only_published_practices(client, world):
    context = client.get(world.brief.get_absolute_url()).context
    assert [f.practice.slug for f in context["features"]] == [
        "quokka-live",
        "quokka-companion",
    ]
    assert {t.slug: t.practice_count for t in context["themes"]} == {"new-markets": 2}
    assert {i.slug: i.practice_count for i in context["instruments"]} == {"voucher": 2}
    assert [b.slug for b in client.get("/briefs/").context["briefs"]] == ["wombat-live"]


# --- compare and the basket ------------------------------------------------------


@pytest.mark.parametrize("state", HIDDEN_STATES)
def test_compare_treats_a_hidden_practice_as_an_unknown_address(client, world, state):
    slug = world.hidden[state].slug
    hidden = client.get("/practices/compare/", {"p": [world.twin.slug, slug]})
    unknown = client.get("/practices/compare/", {"p": [world.twin.slug, "no-such"]})
    assert hidden.status_code == unknown.status_code == 400
    assert [p.slug for p in hidden.context["practices"]] == ["quokka-live"]
    assert (
        hidden.context["comparison"].unknown,
        unknown.context["comparison"].unknown,
    ) == (
        [slug],
        ["no-such"],
    )
    assert f"No published practice has the address “{slug}”" in hidden.text
    assert world.hidden[state].title not in hidden.text
    as_csv = client.get("/practices/compare/export.csv", {"p": [world.twin.slug, slug]})
    assert as_csv.status_code == 400
    assert world.hidden[state].title not in as_csv.text


@pytest.mark.parametrize("state", HIDDEN_STATES)
@pytest.mark.parametrize("action", ["compare-add", "compare-remove"])
def test_the_basket_refuses_a_hidden_practice(client, world, state, action):
    url = reverse(f"practices:{action}")
    response = client.post(url, {"slug": world.hidden[state].slug})
    assert response.status_code == 400
    assert "not published or does not exist" in response.text
    assert "compare" not in client.session
    assert client.post(url, {"slug": world.twin.slug}).status_code == 302


# --- detail addresses ----------------------------------------------------------------


@pytest.mark.parametrize("state", ["draft", "in-review", "scheduled"])
def test_unpublished_practices_and_briefs_are_404_at_their_address(
    client, world, state
):
    for record in (world.hidden[state], world.hidden_briefs[state]):
        response = client.get(record.get_absolute_url())
        assert response.status_code == 404
        assert record.title not in response.text


def test_an_archived_practice_answers_with_a_banner_out_of_the_index(client, world):
    archived = world.hidden["archived"]
    for attempt in ("miss", "hit"):
        response = client.get(archived.get_absolute_url())
        assert response.status_code == 200, attempt
        assert response.headers["X-Page-Cache"] == attempt
        text = response.text
        assert "This practice is archived." in text
        assert "no longer running or no longer maintained" in text
        # In the HTML, so that cache hits (which keep no headers) say it too.
        assert '<meta name="robots" content="noindex">' in text
        assert reverse("practices:compare-add") not in text  # not comparable
        assert "Preview" not in text
        if attempt == "miss":  # its related practices are the published ones
            related = [p.slug for p, _ in response.context["related"]]
            assert related == ["quokka-live", "quokka-companion"]  # equal scores


def test_published_pages_are_indexed_and_comparable(client, world):
    text = client.get(world.twin.get_absolute_url()).text
    assert 'name="robots"' not in text
    assert "archived" not in text.lower()
    assert reverse("practices:compare-add") in text
    assert 'name="robots"' not in client.get(world.brief.get_absolute_url()).text


def test_an_archived_brief_answers_with_a_banner(client, world):
    response = client.get(world.hidden_briefs["archived"].get_absolute_url())
    assert response.status_code == 200
    assert "This brief is archived." in response.text
    assert '<meta name="robots" content="noindex">' in response.text
    # Its featured practices are still only the published ones.
    assert [f.practice.slug for f in response.context["features"]] == ["quokka-live"]


# --- the page cache ------------------------------------------------------------------


def test_archiving_and_publishing_show_at_the_next_request(client, world):
    twin_url, draft = world.twin.get_absolute_url(), world.hidden["draft"]
    for url in ("/practices/", twin_url, draft.get_absolute_url(), "/"):
        client.get(url)
    assert client.get("/practices/").headers["X-Page-Cache"] == "hit"

    world.twin.status = Status.ARCHIVED
    with committed():
        world.twin.save()
    listed = client.get("/practices/")
    assert listed.headers["X-Page-Cache"] == "miss"
    assert world.twin.title not in listed.text
    assert "This practice is archived." in client.get(twin_url).text
    assert client.get("/").context["holdings"].total == 1

    # All the publishing gate asks for (rolled back with the test).
    draft.sources.create(url="https://example.org/draft", title="Its page")
    for status in (Status.IN_REVIEW, Status.PUBLISHED):  # the workflow's moves
        draft.status = status
        draft.published_on = TODAY
        with committed():
            draft.save()
    assert draft.title in client.get("/practices/").text
    page = client.get(draft.get_absolute_url())
    assert page.status_code == 200 and "archived" not in page.text.lower()

    draft.status = Status.DRAFT  # unpublished
    with committed():
        draft.save()
    assert client.get(draft.get_absolute_url()).status_code == 404
    assert draft.title not in client.get("/practices/").text


def test_a_preview_is_never_stored_and_never_served_to_readers(
    client, world, staff_client, monkeypatch
):
    stored = []
    real_set = caches["default"].set

    def spy(key, value, timeout):
        stored.append(value)
        real_set(key, value, timeout)

    monkeypatch.setattr(caches["default"], "set", spy)
    for record in [*world.hidden.values(), world.twin, world.brief]:
        preview = staff_client.get(record.get_preview_url())
        assert preview.status_code == 200
        assert "X-Page-Cache" not in preview.headers
    for record in [*world.hidden.values(), world.twin, world.brief]:
        for _ in range(2):
            response = client.get(record.get_absolute_url())
            assert "Preview —" not in response.text
            assert client.get(record.get_preview_url()).status_code == 404
    assert stored  # the public pages were stored; no preview among them
    assert not any(b"Preview \xe2\x80\x94" in body for *_, body in stored)


# --- staff preview -------------------------------------------------------------------


def make_staff(username, is_staff=True, perms=()):
    user = User.objects.create_user(username, password="x", is_staff=is_staff)
    user.user_permissions.set(Permission.objects.filter(codename__in=perms))
    return user


@pytest.fixture
def staff_client():
    client = Client()
    client.force_login(make_staff("editor", perms=["view_practice", "view_brief"]))
    return client


PREVIEW_BANNERS = {
    "draft": "Preview — Draft, not public.",
    "in-review": "Preview — In review, not public.",
    "scheduled": "Preview — Published, not public.",
    "archived": "Preview — Archived.",
}


@pytest.mark.parametrize("state", HIDDEN_STATES)
def test_staff_preview_any_practice_and_brief_uncached_and_unindexed(
    staff_client, world, state
):
    for record in (world.hidden[state], world.hidden_briefs[state]):
        response = staff_client.get(record.get_preview_url())
        assert response.status_code == 200
        text = response.text
        assert record.title in text
        assert PREVIEW_BANNERS[state] in text
        assert '<meta name="robots" content="noindex">' in text
        assert response.headers["X-Robots-Tag"] == "noindex"
        cache_control = response.headers["Cache-Control"]
        assert "private" in cache_control and "no-store" in cache_control
        assert "<title>Preview: " in text
        assert reverse("practices:compare-add") not in text


def test_the_preview_says_where_readers_see_a_reachable_record(staff_client, world):
    text = staff_client.get(world.twin.get_preview_url()).text
    assert "Preview — Published." in text
    assert f'href="{world.twin.get_absolute_url()}"' in text
    scheduled = staff_client.get(world.hidden["scheduled"].get_preview_url()).text
    date = world.hidden["scheduled"].published_on
    assert f"It becomes public on {date.day} {date:%B %Y}" in scheduled
    in_review = staff_client.get(world.hidden["in-review"].get_preview_url()).text
    assert "Not published yet; last updated" in in_review  # it has no date yet


def test_a_brief_preview_counts_the_featured_practices_readers_will_not_see(
    staff_client, world
):
    response = staff_client.get(world.brief.get_preview_url())
    assert "4 featured practices are not published" in response.text
    assert [f.practice.slug for f in response.context["features"]] == [
        "quokka-live",
        "quokka-companion",
    ]


@pytest.mark.parametrize(
    "user",
    [
        None,  # anonymous
        {"is_staff": False, "perms": ["view_practice", "view_brief"]},
        {"is_staff": True, "perms": []},
        {"is_staff": True, "perms": ["change_theme"]},
    ],
    ids=["anonymous", "not-staff", "staff-without-permission", "other-permission"],
)
def test_preview_is_404_for_everyone_else(client, world, user):
    if user is not None:
        client.force_login(make_staff("someone", **user))
    for record in [world.hidden["draft"], world.twin, world.hidden_briefs["draft"]]:
        response = client.get(record.get_preview_url())
        assert response.status_code == 404
        assert record.title not in response.text


def test_a_user_with_one_models_permission_previews_only_that_model(client, world):
    client.force_login(make_staff("practices-only", perms=["view_practice"]))
    assert client.get(world.hidden["draft"].get_preview_url()).status_code == 200
    assert client.get(world.hidden_briefs["draft"].get_preview_url()).status_code == 404


@pytest.mark.parametrize("role", ["editor", "reviewer"])
def test_both_curation_groups_may_preview(client, world, role, request):
    client.force_login(request.getfixturevalue(role))
    assert client.get(world.hidden["draft"].get_preview_url()).status_code == 200
    assert client.get(world.hidden_briefs["draft"].get_preview_url()).status_code == 200


def test_superusers_preview_and_unknown_slugs_are_404(client, world):
    client.force_login(User.objects.create_superuser("root", password="x"))
    assert client.get(world.hidden["in-review"].get_preview_url()).status_code == 200
    assert client.get("/practices/no-such/preview/").status_code == 404
    assert client.get("/briefs/no-such/preview/").status_code == 404


def test_staff_see_the_public_address_as_readers_do(staff_client, world):
    """The public address never shows staff-only content: previews have their own."""
    response = staff_client.get(world.hidden["draft"].get_absolute_url())
    assert response.status_code == 404
