"""The Atom feed: valid Atom (RFC 4287), exactly the list's practices for the same
query string (newest first, up to 50), never a hidden one, a 400 for bad filters,
and a query count that does not grow with the catalogue."""

import html
import xml.etree.ElementTree as ET
from datetime import datetime, time, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from opendata.feeds import FEED_SIZE
from practices.models import Practice, Status
from tests.factories import (
    make_country,
    make_instrument,
    make_practice,
    make_theme,
)
from tests.shared_data import shared_data

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
TODAY = timezone.localdate()
FEED = "/practices/feed/"


def parse_datetime(text):
    """An RFC 3339 date-time (atom:updated and atom:published), aware."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    assert value.tzinfo is not None, text
    return value


def valid_atom(response):
    """The feed's root element, after checking what RFC 4287 requires of a feed
    document and of each entry (section 4.1.1 and 4.1.2)."""
    assert response.status_code == 200
    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    root = ET.fromstring(response.content)
    assert root.tag == f"{ATOM}feed"

    def one(parent, name):
        found = parent.findall(f"{ATOM}{name}")
        assert len(found) == 1, (name, len(found))  # each at most once, here required
        return found[0]

    assert one(root, "id").text.startswith("http")
    assert one(root, "title").text
    parse_datetime(one(root, "updated").text)
    feed_has_author = bool(root.findall(f"{ATOM}author/{ATOM}name"))
    for entry in root.findall(f"{ATOM}entry"):
        assert one(entry, "id").text.startswith("http")
        assert one(entry, "title").text
        parse_datetime(one(entry, "updated").text)
        alternates = [
            link
            for link in entry.findall(f"{ATOM}link")
            if link.get("rel", "alternate") == "alternate"
        ]
        assert len(alternates) == 1
        assert alternates[0].get("href").startswith("http")
        assert feed_has_author or entry.findall(f"{ATOM}author/{ATOM}name")
    return root


def entries(root):
    return root.findall(f"{ATOM}entry")


def entry_links(root):
    return [entry.find(f"{ATOM}link").get("href") for entry in entries(root)]


def list_links(client, params):
    """The HTML list's practices for the same filters, in the feed's order, as the
    absolute URLs the feed uses (up to the feed's size)."""
    response = client.get("/practices/", {**params, "sort": "newest", "per_page": 100})
    assert response.status_code == 200
    return [
        f"http://testserver{practice.get_absolute_url()}"
        for practice in response.context["practices"]
    ][:FEED_SIZE]


# --- with the real catalogue -----------------------------------------------------

CATALOGUE_QUERIES = [
    {},
    {"country": "ES"},
    {"country": "it"},  # codes in either case, as on the list
    {"country": ["IT", "ES"]},
    {"theme": "cooperation-between-smes"},
    {"theme": "access-to-new-markets", "instrument": "trade-missions-and-fairs"},
    {"level": "regional", "period": "ongoing"},
    {"q": "export"},
    {"q": "export", "country": "ES", "sort": "title"},  # sort is the feed's own
    {"country": "MT", "level": "national"},
]


@pytest.mark.parametrize("params", CATALOGUE_QUERIES, ids=str)
def test_entries_are_the_lists_newest_practices(client, catalogue, params):
    root = valid_atom(client.get(FEED, params))
    expected = list_links(client, params)
    assert entry_links(root) == expected
    assert [e.find(f"{ATOM}id").text for e in entries(root)] == expected


def test_the_whole_catalogue_is_cut_at_fifty(client, catalogue):
    assert Practice.objects.published().count() > FEED_SIZE  # else no cut to test
    root = valid_atom(client.get(FEED))
    assert len(entries(root)) == FEED_SIZE


# --- with factory practices --------------------------------------------------------


def make_terms():
    return {
        "italy": make_country(code="IT", name="Italy"),
        "spain": make_country(code="ES", name="Spain"),
        "markets": make_theme(slug="new-markets", name="New markets"),
        "skills": make_theme(slug="skills", name="Skills & talent"),
        "voucher": make_instrument(slug="voucher", name="Voucher"),
    }


@pytest.fixture
def terms(db):
    return make_terms()


@shared_data
def seventy_practices():
    """70 practices (make_many), built once for the tests that only read them."""
    return make_many(70, make_terms())


def make_many(amount, terms, start=0):
    """`amount` published practices over several days (some on the same day, so
    the newest order's tie-break on id counts), in alternating places and themes."""
    made = []
    for n in range(start, start + amount):
        made.append(
            make_practice(
                title=f"Scheme {n:03}",
                slug=f"scheme-{n:03}",
                published_on=TODAY - timedelta(days=(n * 7) % 40),
                countries=[terms["italy"] if n % 2 else terms["spain"]],
                themes=[terms["markets"]] + ([terms["skills"]] if n % 3 == 0 else []),
                instruments=[terms["voucher"]] if n % 5 == 0 else [],
                level="regional" if n % 4 else "national",
                summary=f"Scheme number {n} for exporters.",
            )
        )
    return made


FACTORY_QUERIES = [
    {},
    {"country": "IT"},
    {"theme": "skills"},
    {"theme": "skills", "country": "ES"},
    {"instrument": "voucher", "level": "regional"},
    {"q": "exporters"},
    {"q": "scheme", "theme": "new-markets"},
]


@pytest.mark.parametrize("params", FACTORY_QUERIES, ids=str)
def test_entries_match_the_list_with_factory_practices(
    client, seventy_practices, params
):
    root = valid_atom(client.get(FEED, params))
    expected = list_links(client, params)
    assert expected  # each query selects something
    assert entry_links(root) == expected


def test_newest_first_with_ties_broken_by_the_latest_added(client, terms):
    older = make_practice(title="Older", published_on=TODAY - timedelta(days=3))
    first = make_practice(title="Same day, first", published_on=TODAY)
    second = make_practice(title="Same day, second", published_on=TODAY)
    root = valid_atom(client.get(FEED))
    titles = [entry.find(f"{ATOM}title").text for entry in entries(root)]
    assert titles == [second.title, first.title, older.title]


def test_only_published_practices_ever_appear(client, terms):
    live = make_practice(title="Live scheme", countries=[terms["italy"]])
    hidden = [
        make_practice(
            title=f"Hidden {status} scheme",
            status=status,
            published_on=published_on,
            countries=[terms["italy"]],
        )
        for status, published_on in [
            (Status.DRAFT, TODAY - timedelta(days=1)),
            (Status.IN_REVIEW, None),
            (Status.PUBLISHED, TODAY + timedelta(days=3)),  # scheduled
            (Status.ARCHIVED, TODAY - timedelta(days=1)),
        ]
    ]
    for params in ({}, {"country": "IT"}, {"q": "scheme"}):
        response = client.get(FEED, params)
        root = valid_atom(response)
        titles = [entry.find(f"{ATOM}title").text for entry in entries(root)]
        assert titles == [live.title], params
        for practice in hidden:
            assert practice.slug not in response.text


def test_an_entry_says_what_the_record_holds(client, terms):
    practice = make_practice(
        title="Vouchers <for> R&D",
        summary='Plain text with <b>angle brackets</b> & "quotes".',
        published_on=TODAY - timedelta(days=2),
        themes=[terms["skills"], terms["markets"]],
        attribution="Written by us; sources credited.",
    )
    root = valid_atom(client.get(FEED))
    (entry,) = entries(root)
    url = f"http://testserver{practice.get_absolute_url()}"
    assert entry.find(f"{ATOM}title").text == practice.title  # text, not HTML
    assert entry.find(f"{ATOM}link").get("href") == url
    assert entry.find(f"{ATOM}id").text == url
    summary = entry.find(f"{ATOM}summary")
    assert summary.get("type") == "html"
    # Escaped HTML: a reader shows the summary's own characters, renders no tag.
    assert html.unescape(summary.text) == practice.summary
    assert "<b>" not in summary.text
    published = parse_datetime(entry.find(f"{ATOM}published").text)
    midnight = timezone.make_aware(datetime.combine(practice.published_on, time.min))
    assert published == midnight
    updated = parse_datetime(entry.find(f"{ATOM}updated").text)
    assert updated == practice.updated_at
    categories = [c.get("term") for c in entry.findall(f"{ATOM}category")]
    assert categories == ["New markets", "Skills & talent"]
    assert entry.find(f"{ATOM}rights").text == practice.attribution


def test_the_feed_names_its_filters_and_links_to_the_same_list(client, terms):
    make_many(3, terms)
    query = "theme=skills&country=es&q=scheme&page=2&sort=title"
    root = valid_atom(client.get(f"{FEED}?{query}"))
    title = root.find(f"{ATOM}title").text
    assert title.startswith("Practice Atlas: practices — ")
    for part in ("Country: Spain", "Theme: Skills & talent", "search “scheme”"):
        assert part in title
    assert root.find(f"{ATOM}author/{ATOM}name").text == "Practice Atlas"
    assert root.find(f"{ATOM}subtitle").text
    links = {link.get("rel"): link.get("href") for link in root.findall(f"{ATOM}link")}
    assert links["alternate"] == (
        "http://testserver/practices/?theme=skills&country=es&q=scheme&sort=newest"
    )
    assert links["self"] == f"http://testserver{FEED}?{query}"
    plain = valid_atom(client.get(FEED)).find(f"{ATOM}title").text
    assert plain == "Practice Atlas: practices"


def test_the_feed_id_is_stable_for_the_same_filters(client, terms):
    make_many(3, terms)

    def feed_id(query):
        return valid_atom(client.get(f"{FEED}?{query}")).find(f"{ATOM}id").text

    same = {
        feed_id("country=IT&theme=skills"),
        feed_id("theme=skills&country=it"),
        feed_id("theme=skills&country=IT&sort=title&page=3&utm_source=x"),
    }
    assert len(same) == 1
    assert same.pop().startswith("http://testserver/practices/feed/?")
    assert feed_id("country=ES&theme=skills") != feed_id("country=IT&theme=skills")
    assert feed_id("") == "http://testserver/practices/feed/"


@pytest.mark.parametrize(
    "query, names",
    [
        ("country=ZZ", ["Country"]),
        ("theme=no-such-theme&level=sideways", ["Theme", "Implementation level"]),
        ("period=someday", ["Period"]),
        ("q=" + "x" * 201, ["Search"]),
    ],
)
def test_invalid_filters_are_a_400_that_names_them(client, terms, query, names):
    response = client.get(f"{FEED}?{query}")
    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    for name in names:
        assert f"- {name}: " in response.text


def test_characters_xml_cannot_hold_never_break_the_feed(client, terms):
    make_practice(title="Scheme", summary="Fine")
    response = client.get(FEED, {"q": "sch\x01eme\x1b"})
    root = valid_atom(response)
    assert "\x01" not in root.find(f"{ATOM}title").text


def test_the_feed_is_cached_like_a_page(client, terms):
    make_many(3, terms)
    first = client.get(FEED, {"country": "IT"})
    again = client.get(FEED, {"country": "IT"})
    assert first.headers["X-Page-Cache"] == "miss"
    assert again.headers["X-Page-Cache"] == "hit"
    assert again.content == first.content
    assert again["Content-Type"] == "application/atom+xml; charset=utf-8"
    revalidated = client.get(
        FEED, {"country": "IT"}, headers={"if-none-match": first.headers["ETag"]}
    )
    assert revalidated.status_code == 304


def count_queries(client, url):
    client.get(url)  # warm: the first request of a process reads more
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    "url",
    [FEED, f"{FEED}?country=IT&theme=skills", f"{FEED}?q=scheme&sort=newest"],
)
def test_the_query_count_does_not_grow_with_the_catalogue(client, terms, settings, url):
    settings.PAGE_CACHE_SECONDS = 0  # render every time
    make_many(5, terms)
    few = count_queries(client, url)
    make_many(55, terms, start=5)
    many = count_queries(client, url)
    assert len(entries(valid_atom(client.get(url)))) > 5
    assert few == many
    # The version, the known values of each filter given, the practices (with the
    # search), their theme names.
    assert many <= 3 + len(parse_qs(urlsplit(url).query).keys() - {"q", "sort"})


def test_browsers_save_the_feed_under_a_name_that_says_what_it_holds(client, catalogue):
    """Chromium shows an Atom document as raw text; with a file name it saves it
    instead (feed readers ignore the header). A stored page keeps the header."""
    for expected_cache in ("miss", "hit"):
        response = client.get(FEED, {"country": "IT", "instrument": "voucher"})
        assert response["X-Page-Cache"] == expected_cache
        assert response["Content-Disposition"] == (
            f'attachment; filename="practice-atlas_IT_voucher_{TODAY}.atom"'
        )


FOLLOW = "/follow/"


def test_the_follow_page_explains_the_feed_of_the_same_search(client, catalogue):
    response = client.get(FOLLOW, {"country": "IT", "q": "export", "page": "2"})
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert "<h1>Follow this search</h1>" in page
    assert "search “export”; Country: Italy" in page
    address = "http://testserver/practices/feed/?country=IT&amp;q=export"
    assert f'value="{html.unescape(address)}"' in page  # no page number
    assert 'readonly aria-describedby="feed-address-help"' in page
    assert 'href="/practices/?country=IT&q=export"' in page  # back to the list
    assert f"The {FEED_SIZE} practices published most recently" in page


def test_the_follow_page_of_the_whole_catalogue(client, catalogue):
    page = client.get(FOLLOW).content.decode()
    assert "<h1>Follow new practices</h1>" in page
    assert 'value="http://testserver/practices/feed/"' in page


def test_the_follow_page_refuses_bad_filters_with_the_reason(client, catalogue):
    response = client.get(FOLLOW, {"country": "XX"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Some filter values are not valid" in page
    assert "Country: Select a valid choice." in page
    assert 'id="feed-address"' not in page


@pytest.mark.parametrize(
    ("path", "link"),
    [
        ("/practices/", "/follow/"),
        ("/practices/?country=IT&page=1", "/follow/?country=IT"),
        ("/countries/it/", "/follow/?country=IT"),
    ],
)
def test_every_list_links_to_its_follow_page(client, catalogue, path, link):
    page = client.get(path).content.decode()
    assert f'href="{link}"' in page.replace("&amp;", "&")
