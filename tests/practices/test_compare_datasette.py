"""compare_datasette: the Datasette files it builds, read by Datasette in process
(no server started), and its report."""

import asyncio
import json
import sqlite3
from io import StringIO

import pytest
from datasette.app import Datasette
from django.core.management.base import CommandError
from django.http import QueryDict

from practices.listing import list_practices
from practices.management.commands.compare_datasette import (
    Command,
    build_datasette,
    pages,
)
from practices.models import Practice
from publishing.workflow import Status


def test_the_table_holds_every_published_practice_with_its_terms(catalogue, tmp_path):
    archived = Practice.objects.published().order_by("pk").last()
    Practice.objects.filter(pk=archived.pk).update(status=Status.ARCHIVED)
    build_datasette(tmp_path)
    database = sqlite3.connect(tmp_path / "atlas.db")
    columns = [row[1] for row in database.execute("PRAGMA table_info(practices)")]
    assert columns == [
        "id",
        "slug",
        "title",
        "summary",
        "country",
        "level",
        "themes",
        "instruments",
    ]
    published = Practice.objects.published().order_by("pk")
    assert [
        row[0] for row in database.execute("SELECT id FROM practices ORDER BY id")
    ] == list(published.values_list("pk", flat=True))
    practice = published.prefetch_related("countries", "themes", "instruments")[0]
    row = database.execute(
        "SELECT slug, title, country, level, themes, instruments FROM practices "
        "WHERE id = ?",
        [practice.pk],
    ).fetchone()
    assert row[:4] == (
        practice.slug,
        practice.title,
        ", ".join(country.name for country in practice.countries.all()),
        practice.level,
    )
    assert json.loads(row[4]) == [theme.name for theme in practice.themes.all()]
    assert json.loads(row[5]) == [i.name for i in practice.instruments.all()]
    # The FTS index holds titles and summaries, and joins back on the id.
    word = practice.title.split()[0]
    found = database.execute(
        "SELECT rowid FROM practices_fts WHERE practices_fts MATCH ?", [f'"{word}"']
    )
    assert practice.pk in {rowid for (rowid,) in found}
    database.close()
    metadata = json.loads((tmp_path / "metadata.json").read_text())
    assert metadata["databases"]["atlas"]["tables"]["practices"] == {
        "facets": ["country", "level", {"array": "themes"}, {"array": "instruments"}],
        "fts_table": "practices_fts",
    }


def test_datasette_lists_filters_and_searches_as_the_compared_pages(
    catalogue, tmp_path
):
    """Datasette's pages that the command times hold what ours hold: the same
    practices on the lists, every facet counted, search through FTS5, the row."""
    build_datasette(tmp_path)
    datasette = Datasette(
        [str(tmp_path / "atlas.db")],
        metadata=json.loads((tmp_path / "metadata.json").read_text()),
    )

    async def answers(paths):
        return [(await datasette.client.get(path)) for path in paths]

    compared = dict(pages(runs=3))
    assert list(compared) == ["list", "filtered list", "search", "practice page"]
    lists = [compared[name][0] for name in ("list", "filtered list", "search")]
    json_paths = [
        theirs.replace("practices", "practices.json", 1) for _, theirs in lists
    ]
    # A different practice for each request, the same on both sides.
    practices = Practice.objects.published().order_by("pk")[:5]
    assert compared["practice page"] == [
        (practice.get_absolute_url(), f"/atlas/practices/{practice.pk}")
        for practice in practices
    ]
    row = compared["practice page"][0][1]
    responses = asyncio.run(answers([*json_paths, row + ".json", row]))
    assert [response.status_code for response in responses] == [200] * 5
    for (ours, _), response in zip(lists[:2], responses[:2], strict=True):
        answer = response.json()
        listing = list_practices(QueryDict(ours.partition("?")[2]))
        assert answer["filtered_table_rows_count"] == listing.practices.count(), ours
        assert set(answer["facet_results"]) == {
            "country",
            "level",
            "themes",
            "instruments",
        }
    # Whole words of titles and summaries: some of what ours finds (prefixes, more
    # fields).
    search = responses[2].json()
    ours = list_practices(QueryDict(lists[2][0].partition("?")[2])).practices
    assert 0 < search["filtered_table_rows_count"] <= ours.count()
    assert "practices_fts match" in search["query"]["sql"]
    assert responses[3].json()["rows"][0][0] == practices[0].pk
    assert practices[0].title in responses[4].text


def test_the_report_marks_each_missed_target(catalogue):
    out = StringIO()
    met = [("list", 20.0, 300.0), ("practice page", 30.0, 8.0)]
    Command(stdout=out).report(met, runs=5)
    lines = out.getvalue().splitlines()
    assert (
        lines[2].split() == "list 20.0 300.0 15.0x faster target >= 3.0x faster".split()
    )
    assert lines[3].split()[2:] == "30.0 8.0 3.8x slower target <= 4.0x slower".split()
    assert lines[-1] == "All targets met."
    out = StringIO()
    missed = [("search", 100.0, 200.0), ("practice page", 40.0, 8.0)]
    with pytest.raises(CommandError, match="Missed: search, practice page"):
        Command(stdout=out).report(missed, runs=5)
    assert out.getvalue().count("<- missed") == 2
