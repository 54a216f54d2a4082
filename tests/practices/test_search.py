"""Full-text search: PostgreSQL's web-search syntax, SQLite's FTS5 fallback,
snippets."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.http import QueryDict
from django.utils.http import urlencode

from practices.cards import attach_card_terms
from practices.listing import list_practices
from practices.models import Practice
from practices.search import FTS_TABLE, fold, prefix_query, search, snippet
from tests.factories import committed, make_country, make_practice, make_theme

pytestmark = pytest.mark.django_db
ON_POSTGRES = connection.vendor == "postgresql"


def found(query):
    return set(search(Practice.objects.all(), query).values_list("slug", flat=True))


def test_fold_lowercases_and_strips_accents():
    assert fold("Económica ŁÓDŹ") == "economica łodz"


def test_search_is_case_and_accent_insensitive():
    make_practice(slug="a", summary="Cantabria Económica reported it.")
    assert found("economica") == {"a"}
    assert found("ECONÓMICA") == {"a"}


def test_every_word_must_match():
    make_practice(slug="a", title="Export consortia", summary="Firms in Cantabria")
    make_practice(slug="b", title="Export vouchers", summary="Firms in Murcia")
    assert found("export cantabria") == {"a"}
    assert found("export lapland") == set()


def test_minus_excludes_a_word():
    make_practice(slug="a", title="Export consortia in Cantabria")
    make_practice(slug="b", title="Export vouchers in Murcia")
    assert found("export -murcia") == {"a"}


def test_or_and_phrases_on_postgresql_and_the_fallback_elsewhere():
    make_practice(slug="a", title="Trade fair support", summary="Regional stands.")
    make_practice(slug="b", title="Export vouchers", summary="Fair prices for trade.")
    if ON_POSTGRES:
        assert found('"trade fair"') == {"a"}
        assert found("vouchers or stands") == {"a", "b"}
    else:  # the fallback needs every word, in any order
        assert found('"trade fair"') == {"a", "b"}
        assert found("vouchers or stands") == set()


def test_english_stemming_on_both_databases_and_word_prefixes_on_sqlite():
    make_practice(slug="a", summary="The agency helps exporting firms.")
    assert found("exporters") == {"a"}  # both stem to "export"
    assert found("agencies") == {"a"}
    if not ON_POSTGRES:
        assert found("export") == {"a"}
        assert found("Export -exp") == set()  # exclusions are prefixes too
        assert found("porting") == set()  # the start of a word, not any part


@pytest.mark.parametrize("query", ["vouchers", "Vouchers", "voucher", "VOUCHER"])
def test_plurals_find_the_singular_with_rank_and_snippet(client, query):
    make_practice(slug="title", title="Export voucher for SMEs", summary="Money.")
    make_practice(slug="body", title="Fairs", evidence="One voucher was paid out.")
    make_practice(slug="other", title="Trade missions", summary="Delegations.")
    response = client.get("/practices/", {"q": query})
    assert response.status_code == 200
    practices = response.context["practices"]
    assert [p.slug for p in practices] == ["title", "body"]  # the title first
    assert "<mark>voucher</mark>" in response.text
    assert "Matched in Evidence of success" in response.text


def test_index_covers_places_taxonomies_and_follows_renames():
    theme = make_theme(name="Investment attraction")
    make_practice(
        slug="a", themes=[theme], countries=[make_country(code="MT", name="Malta")]
    )
    assert found("malta investment") == {"a"}
    theme.name = "Inward investors"
    with committed():
        theme.save()
    assert found("inward") == {"a"}


def test_index_follows_edits_of_the_practice():
    practice = make_practice(slug="a", title="Old name")
    practice.title = "Brand new name"
    with committed():
        practice.save()
    assert found("brand") == {"a"}
    assert found("old") == set()


def test_title_matches_rank_first():
    make_practice(slug="body", summary="Something", evidence="Consortia were formed.")
    make_practice(slug="title", title="Consortia for exporters")
    ranked = search(Practice.objects.all(), "consortia").order_by("-rank")
    assert list(ranked.values_list("slug", flat=True)) == ["title", "body"]


def test_snippet_names_the_field_and_marks_the_match():
    practice = make_practice(
        title="Some practice",
        summary="Nothing here.",
        evidence="In 2017, 755 companies were co-financed <b>by</b> the region.",
    )
    attach_card_terms([practice])
    label, html = snippet(practice, "companies")
    assert label == "Evidence of success"
    assert "<mark>companies</mark>" in html
    assert "&lt;b&gt;by&lt;/b&gt;" in html  # the record's text is escaped


def test_list_shows_matched_in_and_relevance_note(client):
    make_practice(title="Alpha", evidence="Seven consortia were set up.")
    text = client.get("/practices/", {"q": "consortia"}).text
    assert "Matched in Evidence of success" in text
    assert "<mark>consortia</mark>" in text
    assert "Sorted by relevance" in text


def test_deleted_practices_leave_the_index():
    practice = make_practice(slug="a", title="Zebra markets")
    with committed():
        practice.delete()
    assert found("zebra") == set()
    if not ON_POSTGRES:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {FTS_TABLE}")
            assert cursor.fetchone() == (0,)


def test_rebuild_search_index_repairs_the_index():
    make_practice(slug="a", title="Zebra markets")
    with connection.cursor() as cursor:  # as after raw SQL or a restore
        if ON_POSTGRES:
            cursor.execute(
                "UPDATE practices_practice SET search_text = '', search_vector = NULL"
            )
        else:
            cursor.execute(f"DELETE FROM {FTS_TABLE}")
            cursor.execute(
                f"INSERT INTO {FTS_TABLE} (rowid, title, summary, search_text)"
                " VALUES (999999, 'ghost', '', 'ghost')"
            )
    assert found("zebra") == set()
    call_command("rebuild_search_index", stdout=None)
    assert found("zebra") == {"a"}
    assert found("ghost") == set()


# Text that means something to FTS5 (or to SQL) must be searched as plain words.
HOSTILE_QUERIES = [
    '"',
    "'",
    '"export',
    'export"',
    "export*",
    "*",
    "^export",
    "-",
    "- -",
    "--export",
    "NEAR(",
    "NEAR(export consortia, 2)",
    "AND OR",
    "export AND",
    "OR export",
    "NOT export",
    "(export",
    "export)",
    "+export",
    "title:export",
    "{title summary}: export",
    "export; DROP TABLE practices_practice_fts",
    "l'export",
    "_",
    "\x00",
    "export\x00consortia",
    "😀",
    "export 😀🇪🇺",
    " ".join("abcdefghij" * 9),  # 90 words
    "consortia " * 20,  # 200 characters
    "é" * 200,
]


@pytest.mark.parametrize("query", HOSTILE_QUERIES)
def test_any_search_text_gives_a_result_page(client, query):
    make_practice(title="Export consortia")
    response = client.get("/practices/", {"q": query})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('"export', {"a"}),
        ("export*", {"a"}),
        ("NEAR(export", {"a"}),  # "near" is a word like any other here
        ("export AND OR", {"a"}),
        # PostgreSQL's web-search syntax has no NOT; "not" is a stop word there.
        ("NOT export", {"a"} if ON_POSTGRES else set()),
        ("^consortia -", {"a"}),
        ("export -consortia", set()),
        ("export\x00", {"a"}),
        ("😀", set()),  # no words: nothing matches
        ("e-commerce", {"b"}),  # a phrase of "e" and "commerce"
        ("L'Europe", {"b"}),
    ],
)
def test_search_syntax_in_a_query_is_read_as_plain_words(query, expected):
    make_practice(slug="a", title="Export consortia near the border")
    make_practice(slug="b", title="E-commerce platforms for l'Europe")
    listing = list_practices(QueryDict(urlencode({"q": query})))
    assert set(listing.practices.values_list("slug", flat=True)) == expected


def test_fts5_words_are_quoted_with_their_quotes_doubled():
    assert prefix_query('say "hi"') == '"say ""hi"""*'
    assert prefix_query("export", "title") == 'title : "export"*'


def test_a_hundred_different_words_are_searched():
    make_practice(slug="a", title="Export consortia")
    words = [f"word{n}" for n in range(100)]
    assert found(" ".join(words)) == set()
    assert found(" ".join(["export"] * 100)) == {"a"}


# 99 different words in 197 characters (the search box takes 200): Chinese
# characters, each a word of its own.
NINETY_NINE_WORDS = " ".join(chr(0x4E00 + n) for n in range(99))


@pytest.mark.parametrize(
    ("url", "sort"),
    [
        ("/practices/", "relevance"),
        ("/practices/", "title"),
        ("/practices/export.csv", "relevance"),
        ("/practices/export.json", "relevance"),
        ("/practices/feed/", "relevance"),
    ],
)
def test_a_99_word_search_answers_on_every_surface(client, url, sort):
    # It holds the first 32 words, so the list pages and ranks it (on SQLite a
    # rank that nested one expression per word overflowed the parser's stack,
    # which the site then took for a database outage: 503).
    make_practice(slug="a", title="Words", summary=NINETY_NINE_WORDS[:63])
    make_practice(slug="b", title="Other words", summary=NINETY_NINE_WORDS[:61])
    response = client.get(url, {"q": NINETY_NINE_WORDS, "sort": sort})
    assert response.status_code == 200
    if url == "/practices/":
        assert [p.slug for p in response.context["practices"]] == ["a"]
        assert "Only the first 32 words of your search were used." in (
            response.content.decode()
        )


def test_a_search_is_cut_after_32_words_and_says_so_only_then(client):
    make_practice(slug="a", title="Export consortia")
    words = [f"export{n}" for n in range(40)]
    assert found(" ".join(["export", *words])) == set()  # "export0" … must match
    assert found(" ".join([*["export"] * 32, *words])) == {"a"}  # cut: only "export"
    notice = "Only the first 32 words"
    assert notice not in client.get("/practices/", {"q": "fair " * 32}).text
    assert notice in client.get("/practices/", {"q": "fair " * 33}).text


def test_migration_0020_rebuilds_the_index_stemmed_and_back():
    """SQLite's FTS5 table; on PostgreSQL the migration changes nothing, and its
    own `english` configuration stems either way."""
    from importlib import import_module

    from django.apps import apps

    migration = import_module("practices.migrations.0020_sqlite_full_text_stemming")

    class Editor:  # what the operation uses of a schema editor
        def execute(self, sql):
            with connection.cursor() as cursor:
                cursor.execute(sql)

    Editor.connection = connection
    make_practice(slug="a", title="Export voucher")
    migration.rebuild(migration.UNSTEMMED)(apps, Editor())
    assert found("voucher") == {"a"}  # the practices already there are indexed
    # Unstemmed on SQLite, "vouchers" is no prefix of "voucher".
    assert found("export vouchers") == ({"a"} if ON_POSTGRES else set())
    migration.rebuild(migration.STEMMED)(apps, Editor())
    assert found("export vouchers") == {"a"}
