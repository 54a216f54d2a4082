"""The CSV and JSON exports: exactly the list's filtered set (count, members and
order) for every filter combination, streamed a chunk at a time, with stable
columns, sources, attribution and licence, and never an unpublished practice."""

import csv
import gc
import io
import json
import math
import weakref
from datetime import datetime, timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from opendata import exports
from opendata.records import CSV_COLUMNS, JSON_COLUMNS, LICENCE
from opendata.views import PracticeExportView
from practices.models import Practice, Status
from tests.factories import (
    HIDDEN_STATES,
    make_country,
    make_instrument,
    make_practice,
    make_region,
    make_theme,
)

pytestmark = pytest.mark.django_db

CSV_URL, JSON_URL, LIST_URL = (
    "/practices/export.csv",
    "/practices/export.json",
    "/practices/",
)


def body(response):
    assert response.streaming
    return b"".join(response.streaming_content).decode("utf-8")


def csv_rows(response):
    """[header, *rows] of a CSV export."""
    return list(csv.reader(io.StringIO(body(response), newline="")))


def json_document(response):
    return json.loads(body(response))


def list_page(client, params):
    """(count, slugs in order) of the HTML list for these parameters, page after
    page of 100."""
    slugs, page = [], 1
    while True:
        response = client.get(LIST_URL, {**params, "per_page": 100, "page": page})
        assert response.status_code == 200
        slugs += [p.slug for p in response.context["practices"]]
        if not response.context["page_obj"].has_next():
            return response.context["paginator"].count, slugs
        page += 1


# --- the list's count and order, for every filter combination ----------------------

COMBINATIONS = {
    "none": {},
    "country": {"country": "IT"},
    "two-countries": {"country": ["IT", "ES"]},
    "country-lower-case": {"country": "it"},
    "parent-region": {"region": "ITH"},  # ITH5's practices, by NUTS prefix
    "theme": {"theme": "cooperation-between-smes"},
    "instrument": {"instrument": "voucher"},
    "project": {"project": "compete-in"},
    "level": {"level": "national"},
    "period": {"period": "ongoing"},
    "q": {"q": "export"},
    "q-country-sort": {"q": "export", "country": "ES", "sort": "newest"},
    "relevance": {"q": "cooperation fairs", "sort": "relevance"},
    "start-year": {"theme": "access-to-new-markets", "sort": "start"},
    "every-filter": {
        "q": "cooperation",
        "country": ["IT", "PT"],
        "region": ["ITH", "PT1"],
        "theme": "cooperation-between-smes",
        "instrument": "trade-missions-and-fairs",
        "project": ["eis", "compete-in"],
        "level": "regional",
        "period": ["ongoing", "ended"],
        "sort": "newest",
    },
    "no-results": {"country": "MT", "level": "cross-border"},
}


@pytest.mark.parametrize("params", COMBINATIONS.values(), ids=COMBINATIONS.keys())
def test_exports_hold_exactly_what_the_list_shows(client, catalogue, params):
    total = Practice.objects.published().count()
    count, slugs = list_page(client, params)
    if params == COMBINATIONS["no-results"]:
        assert count == 0
    elif params.keys() - {"sort"}:
        assert 0 < count < total, "the combination selects a real subset"

    rows = csv_rows(client.get(CSV_URL, params))
    document = json_document(client.get(JSON_URL, params))

    assert rows[0] == CSV_COLUMNS
    slug_column = CSV_COLUMNS.index("slug")
    assert [row[slug_column] for row in rows[1:]] == slugs
    assert [record["slug"] for record in document["practices"]] == slugs
    assert len(rows) - 1 == len(document["practices"]) == count
    assert document["metadata"]["count"] == count


def test_page_and_per_page_are_ignored(client, catalogue):
    count, slugs = list_page(client, {"country": "ES"})
    params = {"country": "ES", "page": 2, "per_page": 5}
    rows = csv_rows(client.get(CSV_URL, params))
    assert [row[0] for row in rows[1:]] == slugs
    document = json_document(client.get(JSON_URL, params))
    assert document["metadata"]["count"] == count == len(document["practices"])
    assert "page" not in document["metadata"]["links"]["self"]


def test_unknown_sort_falls_back_like_the_list(client, catalogue):
    params = {"country": "ES", "sort": "'; DROP TABLE x"}
    _count, slugs = list_page(client, params)
    assert slugs == list_page(client, {"country": "ES", "sort": "title"})[1]
    rows = csv_rows(client.get(CSV_URL, params))
    assert [row[0] for row in rows[1:]] == slugs
    document = json_document(client.get(JSON_URL, params))
    assert document["metadata"]["filters"]["sort"] == "title"


@pytest.mark.parametrize(
    "params, wrong",
    [
        ({"country": "XX"}, ["Country", "XX"]),
        ({"level": "galactic", "period": "later"}, ["galactic", "later"]),
        ({"theme": "no-such-theme", "country": "IT"}, ["Theme", "no-such-theme"]),
        ({"q": "x" * 201}, ["Search"]),
    ],
)
def test_invalid_filters_are_refused_with_the_reason(client, catalogue, params, wrong):
    response = client.get(CSV_URL, params)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert "not valid" in response.text
    for text in wrong:
        assert text in response.text

    response = client.get(JSON_URL, params)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    errors = response.json()["errors"]
    assert errors and all(isinstance(error, str) for error in errors)
    for text in wrong:
        assert any(text in error for error in errors)


# --- streaming -------------------------------------------------------------------


@pytest.mark.parametrize("url", [CSV_URL, JSON_URL])
def test_exports_stream_a_chunk_at_a_time(client, catalogue, monkeypatch, url):
    chunk_size = 5
    monkeypatch.setattr(exports, "CHUNK_SIZE", chunk_size)
    total = Practice.objects.published().count()
    chunks = math.ceil(total / chunk_size)
    assert chunks > 2

    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        assert response.status_code == 200 and response.streaming
        stream = iter(response.streaming_content)
        head = next(stream)  # the CSV header or the JSON metadata
        before_rows = len(queries)
        next(stream)  # the first practice
        per_chunk = len(queries) - before_rows
        rest = list(stream)
        after = len(queries)

    assert b"slug" in head or b"metadata" in head
    # The first record costs one chunk's queries (the practices and their
    # relations), not the whole export's...
    assert 0 < per_chunk <= 8  # 7, and one for the outcome figures
    # ...and the whole export costs that for each chunk, however many practices.
    assert after - before_rows == per_chunk * chunks
    records = [chunk for chunk in rest if chunk.strip() != b"]}"]  # JSON's end
    assert len(records) == total - 1


def test_head_reads_no_practices(rf, catalogue):
    """A server may still iterate a HEAD answer's body (the test client does
    not): the view gives it nothing to read."""
    request = rf.head(CSV_URL, {"country": "IT"})
    request.session, request.user = {}, AnonymousUser()
    response = PracticeExportView.as_view(format="csv")(request)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    with CaptureQueriesContext(connection) as queries:
        content = b"".join(response.streaming_content)
    assert content.decode().splitlines() == [",".join(CSV_COLUMNS)]
    assert not queries.captured_queries


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"country": "IT", "instrument": "voucher"}, "practice-atlas_IT_voucher"),
        (  # the search first, as on the form; codes sorted; non-ASCII left out
            {"q": "innovation vouchers", "country": ["DE", "AT"]},
            "practice-atlas_innovation-vouchers_AT_DE",
        ),
        ({"q": "Zürich Außenhandel 中文"}, "practice-atlas_Zurich-Auenhandel"),
        ({"q": "中文", "sort": "title", "page": "2"}, "practice-atlas"),
    ],
)
def test_a_download_is_named_after_what_it_holds_and_when(
    client, catalogue, params, name
):
    response = client.get(CSV_URL, params)
    body(response)
    assert response["Content-Disposition"] == (
        f'attachment; filename="{name}_{TODAY}.csv"'
    )


def test_exports_are_downloads_with_the_security_headers(client, catalogue):
    for url, content_type in [(CSV_URL, "text/csv"), (JSON_URL, "application/json")]:
        response = client.get(url)
        assert response["Content-Type"] == f"{content_type}; charset=utf-8"
        extension = url.rsplit(".", 1)[1]
        assert response["Content-Disposition"] == (
            f'attachment; filename="practice-atlas_{TODAY}.{extension}"'
        )
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "Content-Security-Policy" in response
        body(response)  # consumed, so the request finishes


# --- what a record holds ---------------------------------------------------------


@pytest.fixture
def sourced(db):
    return make_practice(
        title='=HYPERLINK("https://evil.example")',
        slug="formula-title",
        summary="+1 export scheme",
        countries=[make_country(code="IT", name="Italy")],
        sources=["https://one.example/a;b", "https://two.example/c"],
        attribution="Adapted from the Interreg Europe good practice database.",
    )


def test_csv_has_the_stable_columns_sources_and_attribution(client, sourced):
    rows = csv_rows(client.get(CSV_URL))
    assert rows[0] == CSV_COLUMNS
    assert CSV_COLUMNS[:3] == ["slug", "title", "url"]  # stable names, stable order
    (row,) = [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    assert row["slug"] == "formula-title"
    assert row["url"] == "http://testserver/practices/formula-title/"
    assert row["source_urls"] == "https://one.example/a;b\nhttps://two.example/c"
    assert row["source_titles"] == "Source 0\nSource 1"
    assert row["attribution"] == sourced.attribution
    assert row["licence"] == ""  # no Interreg Europe page among its sources
    assert row["countries"] == "IT"
    # Cells a spreadsheet would run as formulas are guarded with an apostrophe.
    assert row["title"] == '\'=HYPERLINK("https://evil.example")'
    assert row["summary"] == "'+1 export scheme"


def test_json_has_the_metadata_block_and_records(client, sourced):
    make_practice(slug="elsewhere", countries=[make_country(code="ES", name="Spain")])
    document = json_document(client.get(JSON_URL, {"country": "it", "page": "3"}))
    assert set(document) == {"metadata", "practices"}
    metadata = document["metadata"]
    generated = datetime.fromisoformat(metadata["generated_at"])
    assert generated.tzinfo is not None
    assert abs(timezone.now() - generated) < timedelta(minutes=5)
    assert metadata["filters"] == {"country": ["IT"], "sort": "title"}
    assert metadata["count"] == 1
    assert metadata["licence"] == LICENCE
    assert "attribution" in metadata["attribution"]
    links = metadata["links"]
    assert links["self"] == links["json"]
    assert links["json"] == "http://testserver/practices/export.json?country=it"
    assert links["csv"] == "http://testserver/practices/export.csv?country=it"
    assert links["list"] == "http://testserver/practices/?country=it"
    assert links["data_dictionary"] == "http://testserver/data/"

    (record,) = document["practices"]
    assert list(record) == JSON_COLUMNS
    assert record["title"] == sourced.title  # JSON needs no formula guard
    assert record["sources"] == [
        {"url": "https://one.example/a;b", "title": "Source 0"},
        {"url": "https://two.example/c", "title": "Source 1"},
    ]
    assert record["attribution"] == sourced.attribution
    assert record["licence"] == ""


@pytest.fixture
def named(db):
    """A practice with two of each relation, whose names sort otherwise than their
    codes (Spain before Italy by code, not by name), and Markdown lists."""
    return make_practice(
        slug="named",
        level="cross-border",
        countries=[
            make_country(code="IT", name="Italy"),
            make_country(code="ES", name="Spain"),
        ],
        regions=[make_region(code="ITH5", name="Emilia-Romagna")],
        themes=[
            make_theme(slug="b-markets", name="Access to new markets"),
            make_theme(slug="a-first", name="Take the first steps"),
        ],
        instruments=[make_instrument(slug="voucher", name="Voucher")],
        description="What it does:\n\n- advice\n- a voucher\n\nThen more.",
        resources="- one adviser\n  - nested: half time",
    )


def test_csv_names_what_each_code_stands_for_beside_it(client, named):
    header, row = csv_rows(client.get(CSV_URL))
    row = dict(zip(header, row, strict=True))
    for codes, names in [
        ("level", "level_name"),
        ("countries", "country_names"),
        ("regions", "region_names"),
        ("themes", "theme_names"),
        ("instruments", "instrument_names"),
    ]:
        assert header.index(names) == header.index(codes) + 1
    assert row["level"] == "cross-border" and row["level_name"] == "Cross-border"
    assert row["countries"] == "ES;IT" and row["country_names"] == "Spain; Italy"
    assert row["region_names"] == "Emilia-Romagna"
    assert row["themes"] == "a-first;b-markets"
    assert row["theme_names"] == "Take the first steps; Access to new markets"
    assert row["instrument_names"] == "Voucher"


def test_json_names_what_each_code_stands_for(client, named):
    (record,) = json_document(client.get(JSON_URL))["practices"]
    assert record["countries"] == ["ES", "IT"]
    assert record["country_names"] == ["Spain", "Italy"]
    assert record["region_names"] == ["Emilia-Romagna"]
    assert record["theme_names"] == ["Take the first steps", "Access to new markets"]
    assert record["instrument_names"] == ["Voucher"]
    assert record["level_name"] == "Cross-border"
    # JSON keeps the stored Markdown.
    assert record["description"] == named.description


def test_csv_cells_are_plain_text_without_markdown_bullets(client, named):
    header, row = csv_rows(client.get(CSV_URL))
    row = dict(zip(header, row, strict=True))
    assert row["description"] == "What it does:\n\n• advice\n• a voucher\n\nThen more."
    # No apostrophe from the formula guard: a bullet is not a formula.
    assert row["resources"] == "• one adviser\n  • nested: half time"


@pytest.mark.parametrize(
    ("url", "licensed"),
    [
        ("https://www.interregeurope.eu/good-practices/export-desk", True),
        ("https://interregeurope.eu/policy-learning-platform", True),
        ("http://projects2014-2020.interregeurope.eu/eis/", True),
        ("https://interregeurope.eu.example.org/page", False),
        ("https://example.org/?from=https://www.interregeurope.eu/", False),
        ("https://www.interreg4c.eu/programme/", False),
    ],
)
def test_a_record_carries_interreg_europe_terms_only_when_it_cites_their_pages(
    client, url, licensed
):
    make_practice(slug="sourced", sources=["https://example.org/desk", url])
    (record,) = json_document(client.get(JSON_URL))["practices"]
    assert record["licence"] == (LICENCE["url"] if licensed else "")
    (row,) = csv_rows(client.get(CSV_URL))[1:]
    assert (LICENCE["url"] in row) == licensed


def test_json_metadata_names_the_search(client, catalogue):
    document = json_document(client.get(JSON_URL, {"q": "  export  ", "sort": "x"}))
    assert document["metadata"]["filters"] == {"q": "export", "sort": "relevance"}


# --- publication -----------------------------------------------------------------

TODAY = timezone.localdate()


@pytest.mark.parametrize("params", [{}, {"country": "IT"}, {"q": "quokka"}])
def test_no_unpublished_practice_is_exported(client, params):
    italy = make_country(code="IT", name="Italy")
    make_practice(
        title="Quokka live", slug="quokka-live", countries=[italy], summary="Quokka."
    )
    for state, values in HIDDEN_STATES.items():
        make_practice(
            title=f"Quokka {state}",
            slug=f"quokka-{state}",
            countries=[italy],
            summary="Quokka.",
            **values,
        )
    for response in (client.get(CSV_URL, params), client.get(JSON_URL, params)):
        text = body(response)
        assert "quokka-live" in text
        for state in HIDDEN_STATES:
            assert f"quokka-{state}" not in text
            assert f"Quokka {state}" not in text
    document = json_document(client.get(JSON_URL, params))
    assert document["metadata"]["count"] == 1


def test_a_practice_unpublished_after_listing_is_skipped(client, monkeypatch):
    """The ids come from the list's index; the records are read from published()
    again, so a practice unpublished meanwhile is never written."""
    kept = make_practice(slug="kept")
    gone = make_practice(slug="gone", title="Gone")
    original = exports.iter_practices

    def unpublish_first(queryset, ids, chunk_size=None):
        Practice.objects.filter(pk=gone.pk).update(status=Status.DRAFT)
        return original(queryset, ids, chunk_size)

    monkeypatch.setattr(exports, "iter_practices", unpublish_first)
    text = body(client.get(CSV_URL))
    assert kept.slug in text and "gone" not in text


@pytest.mark.parametrize("url", [CSV_URL, JSON_URL])
def test_an_unchanged_export_answers_304_and_a_change_renews_it(client, url):
    """Streamed exports are never stored in the page cache, but carry its
    validators: a client that has the file is told it is current."""
    make_practice(title="Kept")
    first = client.get(url)
    assert first["ETag"] and "public" in first["Cache-Control"]
    body(first)
    again = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    make_practice(title="Added later")
    renewed = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert renewed.status_code == 200
    assert "Added later" in body(renewed)


def test_each_chunk_is_freed_once_written(monkeypatch):
    """Memory stays flat however many practices are exported: once a chunk is
    written its practices are freed at once (by reference counting alone, the
    cyclic collector is off here), not kept until a later collection."""
    for number in range(12):
        make_practice(title=f"Practice {number:02}")
    ids = list(Practice.objects.order_by("title").values_list("pk", flat=True))
    practices = exports.iter_practices(Practice.objects.all(), ids, chunk_size=4)
    first_chunk = []
    gc.disable()
    try:
        for position, practice in enumerate(practices):
            if position < 4:
                first_chunk.append(weakref.ref(practice))
            del practice
            if position == 9:  # two chunks later
                break
        assert [ref() for ref in first_chunk] == [None] * 4
    finally:
        gc.enable()
