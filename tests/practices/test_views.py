import pytest
from django.db import connection
from django.urls import resolve, reverse

from practices.models import Status
from tests.evidence.factories import make_figure, make_grade
from tests.factories import (
    make_brief,
    make_country,
    make_instrument,
    make_practice,
    make_project,
    make_region,
    make_theme,
)
from tests.shared_data import shared_data

POSTGRESQL = connection.vendor == "postgresql"

pytestmark = pytest.mark.django_db


def make_rich_practices(n):
    """n published practices with every relation filled (an evidence grade and
    outcome figures too), plus one draft."""
    italy = make_country(code="IT", name="Italy")
    north_east = make_region(code="ITH", name="Nord-Est", country=italy)
    region = make_region(code="ITH5", country=italy, parent=north_east)
    make_region(code="ITH4", name="Friuli-Venezia Giulia", parent=north_east)
    theme, instrument, project = make_theme(), make_instrument(), make_project()
    practices = [
        make_practice(
            countries=[italy],
            regions=[region],
            themes=[theme],
            instruments=[instrument],
            project=project,
            sources=["https://example.org/a", "https://example.org/b"],
        )
        for _ in range(n)
    ]
    for practice in practices:  # graded, with figures that give a cost per firm
        make_grade(practice, level=2)
        for metric, value, currency in [
            ("firms-supported", 30, ""),
            ("public-budget", 90000, "EUR"),
        ]:
            make_figure(
                practice,
                metric=metric,
                value=value,
                currency=currency,
                period_start=2016,
                period_end=2016,
            )
    make_practice(title="Secret draft", status=Status.DRAFT, countries=[italy])
    make_brief(practices=practices[:3])
    return practices


def test_list_shows_published_practices_with_count(client):
    make_rich_practices(3)
    response = client.get(reverse("practices:list"))
    assert response.status_code == 200
    assert "3 practices" in response.text
    assert "Secret draft" not in response.text


def test_list_filters_live_in_the_query_string(client):
    make_practice(title="Kept", countries=[make_country(code="IT")])
    make_practice(title="Dropped", countries=[make_country(code="ES", name="Spain")])
    response = client.get(reverse("practices:list"), {"country": "it"})
    assert "Kept" in response.text
    assert "Dropped" not in response.text
    assert "1 practice matches these filters" in response.text


def test_unknown_filter_value_gives_400_with_a_clear_message(client):
    make_practice(title="Anything")
    response = client.get(reverse("practices:list"), {"country": "ZZ"})
    assert response.status_code == 400
    assert "Some filter values are not valid" in response.text
    assert "Anything" not in response.text


@pytest.mark.parametrize("page", ["abc", "0", "999", "-1", "1e9"])
def test_bad_page_numbers_give_404_not_500(client, page):
    make_practice()
    response = client.get(reverse("practices:list"), {"page": page})
    assert response.status_code == 404


def test_pagination_keeps_the_filters(client):
    italy = make_country(code="IT")
    for _ in range(25):
        make_practice(countries=[italy])
    response = client.get(reverse("practices:list"), {"country": "IT"})
    assert "?country=IT&amp;page=2" in response.text
    second = client.get(reverse("practices:list"), {"country": "IT", "page": 2})
    assert second.status_code == 200
    assert "Page 2 of 2" in second.text


def test_detail_shows_every_group_and_not_recorded_gaps(client):
    practice = make_practice(
        title="Export Consortia",
        summary="Firms export together.",
        description="How it works.",
        evidence="- 10 consortia",
        budget="",
        uncertain_fields=["evidence"],
        sources=["https://example.org/gp"],
    )
    response = client.get(practice.get_absolute_url())
    assert response.status_code == 200
    text = response.text
    for heading in [
        "About this practice",
        "Resources needed",
        "Evidence of success",
        "Potential for learning or transfer",
        "Sources",
    ]:
        assert heading in text
    assert "<li>10 consortia</li>" in text
    assert "Not recorded" in text
    assert "Unconfirmed" in text
    assert "https://example.org/gp" in text
    assert "Written for the tests." in text  # attribution line


def test_detail_lists_the_briefs_that_feature_it(client):
    practice = make_practice()
    make_brief(title="Internationalisation of SMEs", practices=[practice])
    make_brief(title="Hidden brief", practices=[practice], status=Status.DRAFT)
    text = client.get(practice.get_absolute_url()).text
    assert "Internationalisation of SMEs" in text
    assert "Hidden brief" not in text


def test_markdown_is_sanitised(client):
    practice = make_practice(
        description="<script>alert(1)</script> [x](javascript:alert(2)) **ok**"
    )
    text = client.get(practice.get_absolute_url()).text
    assert "<script>alert(1)" not in text
    assert "javascript:" not in text
    assert "<strong>ok</strong>" in text


def test_drafts_and_unknown_slugs_are_404(client):
    draft = make_practice(status=Status.DRAFT)
    assert client.get(draft.get_absolute_url()).status_code == 404
    response = client.get("/practices/no-such-practice/")
    assert response.status_code == 404
    assert "Page not found" in response.text


def test_country_page_accepts_either_case_and_lists_regions(client):
    italy = make_country(code="IT", name="Italy")
    region = make_region(code="ITH5", name="Emilia-Romagna", country=italy)
    make_practice(title="ERGO", countries=[italy], regions=[region])
    make_practice(title="Hidden", countries=[italy], status=Status.DRAFT)
    quiet = make_region(code="ITC1", name="Piemonte", country=italy)
    make_practice(title="Draft only", regions=[quiet], status=Status.DRAFT)
    for code in ["it", "IT"]:
        response = client.get(f"/countries/{code}/")
        assert response.status_code == 200
        assert "ERGO" in response.text
        assert "Emilia-Romagna" in response.text
        assert "1 practice<" in response.text
        assert "Hidden" not in response.text
        assert "Piemonte" not in response.text  # only a draft names it
    assert client.get("/countries/zz/").status_code == 404
    assert client.get("/countries/italy/").status_code == 404


def test_indexes_show_counts_of_published_practices(client):
    italy = make_country(code="IT", name="Italy")
    make_country(code="FR", name="France")  # no practice: listed with none
    theme, instrument = make_theme(name="Skills"), make_instrument(name="Voucher")
    make_practice(countries=[italy], themes=[theme], instruments=[instrument])
    make_practice(countries=[italy], status=Status.DRAFT)
    countries = client.get("/countries/").text
    assert "Italy" in countries and "1 practice" in countries
    # Every country, linked to its page (not to a filtered list).
    assert '<a href="/countries/fr/">France</a></th><td class="num">0<' in countries
    assert '<a href="/countries/it/">Italy</a></th><td class="num">1<' in countries
    assert "Skills" in client.get("/themes/").text
    assert "Voucher" in client.get("/instruments/").text


@pytest.mark.parametrize(
    "url, heading, intro",
    [
        ("/countries/", "Countries", "Every country of the catalogue, with its"),
        ("/themes/", "Themes", "What a practice addresses: the problem or goal"),
        ("/instruments/", "Instrument types", "How a practice intervenes: the policy"),
    ],
)
def test_indexes_have_their_heading_and_intro(client, url, heading, intro):
    text = client.get(url).text
    assert f"<title>{heading} · " in text and f"<h1>{heading}</h1>" in text
    assert intro in text


@pytest.mark.parametrize(
    "name, kwargs, path",
    [
        ("practices:list", {}, "/practices/"),
        ("practices:compare", {}, "/practices/compare/"),
        ("practices:compare-add", {}, "/practices/compare/add/"),
        ("practices:compare-remove", {}, "/practices/compare/remove/"),
        ("practices:detail", {"slug": "ergo"}, "/practices/ergo/"),
        ("practices:preview", {"slug": "ergo"}, "/practices/ergo/preview/"),
        ("countries:list", {}, "/countries/"),
        ("countries:detail", {"code": "it"}, "/countries/it/"),
        ("themes:list", {}, "/themes/"),
        ("themes:detail", {"slug": "skills"}, "/themes/skills/"),
        ("instruments:list", {}, "/instruments/"),
        ("instruments:detail", {"slug": "voucher"}, "/instruments/voucher/"),
    ],
)
def test_every_page_keeps_its_address(name, kwargs, path):
    assert reverse(name, kwargs=kwargs) == path
    match = resolve(path)
    assert f"{match.namespace}:{match.url_name}" == name and match.kwargs == kwargs


def test_theme_and_instrument_pages_list_their_practices(client):
    theme, instrument = make_theme(slug="skills"), make_instrument(slug="voucher")
    make_practice(title="With both", themes=[theme], instruments=[instrument])
    make_practice(title="With neither")
    for url in ["/themes/skills/", "/instruments/voucher/"]:
        text = client.get(url).text
        assert "With both" in text and "With neither" not in text
    assert client.get("/themes/unknown/").status_code == 404


# Query counts: pinned, and the same whatever the amount of data. Counted with
# the page cache off (what rendering costs: a cache miss).
# Every page starts with the catalogue version (its ETag and cache key,
# practices/caching.py).
# Cards read their places and taxonomies in one query (practices.cards).
# list: version, the facet counts (one query, whose period counts add up to
#       the list's length: no count query), a page of ids, its practices, their
#       card terms. A search is part of the facet counts and ids queries. The
#       filters' values and labels (one query), and without filters the facet
#       counts, are kept for the catalogue version: the repeat counted reads
#       neither.
# detail: version, practice+project+grade, 4 prefetches, sources, outcome
#       figures with their sources, the sources the grade rests on, briefs
#       featuring it, the briefs' recommendations it illustrates, related (its
#       shared values, one grouped query, the few it found; on PostgreSQL the
#       grouped query reads its shared values itself), more from country, from
#       project.
# compare: version, practices+project+grade, 4 prefetches, sources, figures.
# evidence: version, the figures that give costs per firm (the counts per level
#       are the list's unfiltered facet counts, kept for the catalogue version).
# home: version, briefs, countries, themes, instruments (their counts and the
#       practice counts are kept for the catalogue version), latest practices +
#       card terms.
# country: version, the country, count, page, card terms, its regions' counts
#       and its regions, its Eurostat figures; theme: three fewer. countries:
#       version, the countries (their counts are the list's, kept for the
#       catalogue version).
# region: version, the region with its country, its NUTS 1 region, the counts
#       around it, count, page, card terms, then a few practices of its NUTS 1
#       region and of its country, and the Eurostat figures of the region and
#       its country in one query (its peers are kept for the catalogue version
#       and, with figures, cost two more: test_peers). An empty region: no page
#       or card terms.
# list-empty-region: version, the period counts (no count, no page of an empty
#       list), then the region selected, its NUTS 1 region and the counts,
#       then the ways out (practices.ways_out: one query).
# list-empty-search: version, the facet counts, the country selected and
#       its count (places.empty_places), then the ways out: each filter and
#       word dropped and the instrument named like a word, in one query.
PAGES = {
    "list": (lambda ps: reverse("practices:list"), 4),
    "list-filtered": (
        lambda ps: f"/practices/?country=it&theme={ps[0].themes.get().slug}",
        5,
    ),
    "list-search": (lambda ps: "/practices/?q=practice&sort=relevance", 5),
    "detail": (lambda ps: ps[0].get_absolute_url(), 15 if POSTGRESQL else 16),
    "home": (lambda ps: reverse("home"), 7),
    "country": (lambda ps: "/countries/it/", 8),
    "region": (lambda ps: "/regions/ITH5/", 10),
    "region-empty": (lambda ps: "/regions/ITH4/", 8),
    "list-empty-region": (lambda ps: "/practices/?region=ITH4", 6),
    "list-empty-search": (
        lambda ps: (
            "/practices/?q=instruments+nowhere&country=it"
            f"&theme={ps[0].themes.get().slug}"
        ),
        5,
    ),
    "theme": (lambda ps: ps[0].themes.get().get_absolute_url(), 5),
    "countries": (lambda ps: "/countries/", 2),
    "compare": (lambda ps: f"/practices/compare/?p={ps[0].slug}&p={ps[1].slug}", 8),
    "evidence": (lambda ps: reverse("evidence:scale"), 2),
}


@shared_data
def three_rich_practices():
    return make_rich_practices(3)


@shared_data
def thirty_rich_practices():
    return make_rich_practices(30)


def assert_query_count(client, django_assert_num_queries, settings, name, practices):
    url, expected = PAGES[name]
    url = url(practices)
    settings.PAGE_CACHE_SECONDS = 0
    assert client.get(url).status_code == 200
    with django_assert_num_queries(expected):
        assert client.get(url).status_code == 200
    # With the page cache on, a repeat is one query: the catalogue version.
    settings.PAGE_CACHE_SECONDS = 600
    assert client.get(url).headers["X-Page-Cache"] == "miss"
    with django_assert_num_queries(1):
        assert client.get(url).headers["X-Page-Cache"] == "hit"


@pytest.mark.parametrize("name", PAGES)
def test_query_counts_with_a_few_practices(
    client, django_assert_num_queries, settings, name, three_rich_practices
):
    assert_query_count(
        client, django_assert_num_queries, settings, name, three_rich_practices
    )


@pytest.mark.parametrize("name", PAGES)
def test_query_counts_stay_the_same_with_ten_times_more(
    client, django_assert_num_queries, settings, name, thirty_rich_practices
):
    assert_query_count(
        client, django_assert_num_queries, settings, name, thirty_rich_practices
    )


def test_lists_right_after_a_line_of_text_render_as_lists(client):
    practice = make_practice(description="It works in steps:\n- first\n- second")
    text = client.get(practice.get_absolute_url()).text
    assert "<li>first</li>" in text and "- first" not in text


def test_indexes_are_in_alphabetical_order(client):
    spain = make_country(code="ES", name="Spain")
    britain = make_country(code="GB", name="United Kingdom", nuts_code="UK")
    france = make_country(code="FR", name="France")
    for country in (spain, britain, france):
        make_practice(countries=[country])
    text = client.get("/countries/").text
    assert text.index("France") < text.index("Spain") < text.index("United Kingdom")


def test_cards_show_places_and_instruments_from_one_query(client):
    italy = make_country(code="IT", name="Italy")
    spain = make_country(code="ES", name="Spain")
    practice = make_practice(
        title="Shared stands",
        countries=[spain, italy],
        regions=[make_region(code="ITH5", name="Emilia-Romagna", country=italy)],
        instruments=[make_instrument(name="Voucher"), make_instrument(name="Grant")],
    )
    text = client.get(reverse("practices:list")).text
    assert "Italy, Spain · Emilia-Romagna" in text
    assert "<li>Grant</li><li>Voucher</li>" in text
    assert practice.get_absolute_url() in text
