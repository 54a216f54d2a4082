"""Full-text search: PostgreSQL's web-search syntax, SQLite's fallback, snippets."""

import pytest
from django.db import connection

from practices.cards import attach_card_terms
from practices.models import Practice
from practices.search import fold, search, snippet
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


def test_english_stemming_on_postgresql_and_substrings_elsewhere():
    make_practice(slug="a", summary="The agency helps exporting firms.")
    if ON_POSTGRES:
        assert found("exporters") == {"a"}  # both stem to "export"
    else:
        assert found("export") == {"a"}
        assert found("exporters") == set()


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
