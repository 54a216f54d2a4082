"""generate_practices and benchmark_catalogue."""

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from practices.models import Practice
from tests.factories import committed

pytestmark = pytest.mark.django_db


def run(*args, **kwargs):
    out = StringIO()
    call_command(*args, stdout=out, **kwargs)
    return out.getvalue()


def test_generate_requires_the_catalogue_and_a_count(db):
    with pytest.raises(CommandError, match="Load the catalogue first"):
        run("generate_practices", count=5)


def test_generate_creates_marked_searchable_practices_and_delete_removes_only_them(
    catalogue,
):
    real = Practice.objects.count()
    with pytest.raises(CommandError, match="--count"):
        run("generate_practices")
    with committed():  # indexed when the command's transaction commits
        assert "Created 40 synthetic" in run("generate_practices", count=40, seed=3)
    # Same seed again: nothing new, the same slugs are reused.
    assert "Created 0 synthetic" in run("generate_practices", count=40, seed=3)
    synthetic = Practice.objects.published().filter(slug__startswith="synthetic-")
    assert synthetic.count() == 40
    for practice in synthetic.prefetch_related("countries", "themes", "instruments"):
        assert practice.title.startswith("[Synthetic]")
        assert "not a real practice" in practice.attribution
        assert practice.countries.all() and practice.themes.all()
        assert practice.instruments.all() and practice.search_text
    run("generate_practices", delete=True)
    assert Practice.objects.count() == real


def test_generate_lifts_the_time_limits_meant_for_requests(catalogue):
    """At 100,000 practices the commit alone outlasts a request's 5 s limit on
    PostgreSQL, and the command failed: "the database did not answer within 7.0
    seconds". SQLite has no such limits."""
    postgres = connection.vendor == "postgresql"
    limits = "SHOW statement_timeout" if postgres else "SELECT '0'"
    with connection.cursor() as cursor:
        cursor.execute(limits)
        assert (cursor.fetchone()[0] == "0") is not postgres  # the web's 5 s
    try:
        assert "Created 2 synthetic" in run("generate_practices", count=2)
        with connection.cursor() as cursor:
            cursor.execute(limits)
            assert cursor.fetchone()[0] == "0"
        assert getattr(connection.connection, "answer_timeout", None) is None
    finally:  # the SET rolls back with the test; the client-side limit must too
        if postgres:
            connection.connection.answer_timeout = connection.answer_timeout


def test_benchmark_prints_every_page_type(catalogue):
    out = run("benchmark_catalogue", runs=2)
    for page in [
        "list, no filter",
        "list, after an edit",
        "list, three facets",
        "search",
        "detail",
        "brief",
        "compare",
        "export CSV, all",
        "export JSON, three facets",
        "feed, three facets",
        "sitemap index",
        "sitemap, practices page 1",
    ]:
        assert re.search(rf"{re.escape(page)}\s+[\d.]+\s+[\d.]+\s+\d+", out), page
    assert re.search(r"full CSV export: [\d.]+ MB sent, peak .* [\d.]+ MB", out)


def test_benchmark_renders_unless_asked_to_measure_the_page_cache(catalogue):
    """Without --page-cache every request renders; with it, every counted request
    is a hit: one query (the catalogue version)."""
    rendered = run("benchmark_catalogue", runs=2)
    cached = run("benchmark_catalogue", runs=2, page_cache=True)
    assert "page cache off" in rendered and "page cache on" in cached
    row = re.compile(r"^(detail|brief)\s+[\d.]+\s+[\d.]+\s+(\d+)$", re.M)
    assert all(int(queries) > 1 for _, queries in row.findall(rendered))
    assert [int(queries) for _, queries in row.findall(cached)] == [1, 1]
