import json
import sqlite3
import statistics
import sys
import tempfile
import time
import urllib.request
from importlib.metadata import version
from itertools import cycle, islice
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

from django.core.management.base import BaseCommand, CommandError

from ops.loadtest import free_port, gunicorn, server
from practices.models import Country, InstrumentType, Practice, Theme
from practices.views import PAGE_SIZE

from .benchmark_catalogue import Command as Benchmark

TABLE = "/atlas/practices"  # Datasette's table page: database atlas, table practices
FACETS = ["country", "level", {"array": "themes"}, {"array": "instruments"}]
# Datasette's median time over ours, at least: the lists 3 times faster than
# Datasette's, the practice page at most 4 times slower than its row page.
TARGETS = {"list": 3, "filtered list": 3, "search": 3, "practice page": 1 / 4}


def build_datasette(folder):
    """Write atlas.db (the published practices as one table, `practices`, with an
    FTS5 index on title and summary) and metadata.json (its facets) into `folder`,
    for `datasette serve atlas.db --metadata metadata.json`."""
    database = sqlite3.connect(Path(folder) / "atlas.db")
    database.executescript(
        """
        CREATE TABLE practices (id INTEGER PRIMARY KEY, slug TEXT, title TEXT,
            summary TEXT, country TEXT, level TEXT, themes TEXT, instruments TEXT);
        CREATE INDEX practices_country ON practices (country);
        CREATE INDEX practices_level ON practices (level);
        CREATE VIRTUAL TABLE practices_fts USING fts5(
            title, summary, content="practices", content_rowid="id");
        """
    )
    practices = Practice.objects.published().order_by("pk")
    practices = practices.prefetch_related("countries", "themes", "instruments")
    for p in practices.iterator(chunk_size=2000):
        countries = ", ".join(country.name for country in p.countries.all())
        themes, instruments = (
            json.dumps([term.name for term in terms.all()])
            for terms in (p.themes, p.instruments)
        )
        database.execute(
            "INSERT INTO practices VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (p.pk, p.slug, p.title, p.summary, countries, p.level, themes, instruments),
        )
    database.execute("INSERT INTO practices_fts (practices_fts) VALUES ('rebuild')")
    database.commit()
    database.close()
    table = {"facets": FACETS, "fts_table": "practices_fts"}
    metadata = {"databases": {"atlas": {"tables": {"practices": table}}}}
    (Path(folder) / "metadata.json").write_text(json.dumps(metadata, indent=2))


def pages(runs):
    """(name, [(our path, Datasette's path), ...]) with benchmark_catalogue's values.
    Each practice page is requested once: a page seen again skips work that a
    worker keeps (its Markdown), which the first reader of a practice waits for."""
    ours = {name: urls[0] for name, urls in Benchmark().pages()}
    filtered = ours["list, three facets"]
    chosen = dict(parse_qsl(filtered.partition("?")[2]))
    theirs = {"country": Country.objects.get(code=chosen["country"]).name}
    for name, model in [("theme", Theme), ("instrument", InstrumentType)]:
        theirs[f"{name}s__arraycontains"] = model.objects.get(slug=chosen[name]).name
    words = dict(parse_qsl(ours["search"].partition("?")[2]))["q"]
    practices = Practice.objects.published().order_by("pk")[: runs + 2]
    return [
        ("list", [(ours["list, no filter"], TABLE)]),
        ("filtered list", [(filtered, f"{TABLE}?{urlencode(theirs)}")]),
        ("search", [(ours["search"], f"{TABLE}?{urlencode({'_search': words})}")]),
        (
            "practice page",
            [(p.get_absolute_url(), f"{TABLE}/{p.pk}") for p in practices],
        ),
    ]


def median_ms(servers, paths, runs):
    """Median ms of each server, the (ours, Datasette's) paths requested in turn,
    from the first again when there are fewer than requests; after 2 warm-ups."""
    timings = []
    for pair in islice(cycle(paths), runs + 2):
        for server_url, path in zip(servers, pair, strict=True):
            started = time.perf_counter()
            with urllib.request.urlopen(server_url + path, timeout=60) as response:
                response.read()  # a 4xx or 5xx raises
            timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings[4::2]), statistics.median(timings[5::2])


class Command(BaseCommand):
    help = (
        "Serve the published practices with Datasette beside this site (page cache "
        "off) and compare the median response times of four pages (issue 18)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--runs", type=int, default=20)

    def handle(self, *args, runs, **options):
        with tempfile.TemporaryDirectory() as folder:
            build_datasette(folder)
            port = free_port()
            command = [Path(sys.executable).with_name("datasette"), "serve", "--port"]
            command += [str(port), f"{folder}/atlas.db", "--metadata"]
            command += [f"{folder}/metadata.json", "--setting", "default_page_size"]
            datasette = server("datasette", [*command, str(PAGE_SIZE)], port, "/")
            # One process each, as Datasette is; as many rows a page.
            ours = gunicorn(PAGE_CACHE_SECONDS="0", WEB_CONCURRENCY="1")
            with ours as (our_url, *_), datasette as (their_url, *_):
                rows = [
                    (name, *median_ms((our_url, their_url), paths, runs))
                    for name, paths in pages(runs)
                ]
        self.report(rows, runs)

    def report(self, rows, runs):
        self.stdout.write(
            f"{Practice.objects.published().count()} published practices; ours on "
            f"gunicorn, page cache off; Datasette {version('datasette')}; median ms "
            f"of {runs} requests each"
        )
        self.stdout.write(f"{'page':<15}{'ours':>8}{'Datasette':>11}  ours are")
        missed = [name for name, ours, theirs in rows if theirs / ours < TARGETS[name]]
        for name, ours, theirs in rows:
            target = TARGETS[name]
            self.stdout.write(
                f"{name:<15}{ours:>8.1f}{theirs:>11.1f}  {speed(theirs / ours):<14}"
                f"target {'>=' if target >= 1 else '<='} {speed(target)}"
                + ("  <- missed" if name in missed else "")
            )
        if missed:
            raise CommandError("Missed: " + ", ".join(missed))
        self.stdout.write("All targets met.")


def speed(ratio):
    """Datasette's time over ours, in words."""
    return f"{ratio:.1f}x faster" if ratio >= 1 else f"{1 / ratio:.1f}x slower"
