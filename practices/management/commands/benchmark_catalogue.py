import re
import statistics
import time
import tracemalloc
from collections import Counter, deque
from itertools import cycle, islice
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings

from briefs.models import Brief
from ops.loadtest import get, gunicorn
from practices.models import Practice


class Command(BaseCommand):
    help = (
        "Render the main pages repeatedly against the data loaded now and print the "
        "median and 95th-percentile server-side time and the query count of each. "
        "The page cache is off (every request renders) unless --page-cache is given "
        "(then every counted request is a cache hit)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--runs", type=int, default=30)
        parser.add_argument(
            "--page-cache",
            action="store_true",
            help="Measure with the page cache on (practices/caching.py).",
        )
        parser.add_argument(
            "--worker-memory",
            action="store_true",
            help="Then start gunicorn with one worker on this database (committed "
            "data) and print its resident memory once it has served the pages.",
        )

    def handle(self, *args, runs, page_cache, worker_memory, **options):
        seconds = settings.PAGE_CACHE_SECONDS if page_cache else 0
        with override_settings(PAGE_CACHE_SECONDS=seconds):
            self.measure(runs, "on" if seconds else "off")
        if worker_memory:
            self.worker_memory(self.pages())

    def measure(self, runs, page_cache):
        pages = self.pages()
        host = next(
            (h.lstrip(".") for h in settings.ALLOWED_HOSTS if h != "*"), "localhost"
        )
        client = Client(HTTP_HOST=host)
        total = Practice.objects.published().count()
        self.stdout.write(
            f"{total} published practices on {connection.vendor}; {runs} runs a page;"
            f" page cache {page_cache}"
        )
        self.stdout.write(f"{'page':<28}{'median ms':>10}{'p95 ms':>9}{'queries':>9}")
        edited = Practice.objects.published().order_by("pk").first()
        for name, urls in pages:
            # After an edit: a curator's save commits (with what its commit
            # recomputes) before each request; only the request is timed.
            before = edited.save if name.endswith("after an edit") else None
            timings = []
            # The URLs in turn, two warm-up renders first; with the page cache, hits.
            for url in islice(
                cycle(urls if page_cache == "off" else urls[:1]), runs + 2
            ):
                if before:
                    before()
                with CaptureQueriesContext(connection) as queries:
                    started = time.perf_counter()
                    response = client.get(url)
                    if response.streaming:  # exports: the time to send it all
                        deque(response.streaming_content, maxlen=0)
                    timings.append((time.perf_counter() - started) * 1000)
                if response.status_code != 200:
                    raise CommandError(f"{url} answered {response.status_code}")
            timings = sorted(timings[2:])
            p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
            self.stdout.write(
                f"{name:<28}{statistics.median(timings):>10.1f}{p95:>9.1f}"
                f"{len(queries):>9}"
            )
        self.export_memory(client)

    def export_memory(self, client):
        """Peak Python memory while the full CSV export streams: it stays flat as
        the catalogue grows, because records are read a chunk at a time."""
        tracemalloc.start()
        response = client.get("/practices/export.csv")
        size = sum(len(chunk) for chunk in response.streaming_content)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        self.stdout.write(
            f"full CSV export: {size / 1e6:.1f} MB sent, peak traced Python memory "
            f"{peak / 1e6:.1f} MB"
        )

    def worker_memory(self, pages):
        """Resident memory of one gunicorn worker (production settings, this
        database) once it has served every page but the full export twice."""
        with gunicorn(WEB_CONCURRENCY="1") as (base_url, log, process):
            children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
            if not children.exists():
                self.stdout.write("gunicorn worker memory: not measured (no /proc)")
                return
            for name, urls in pages * 2:
                for url in [] if name.startswith("export CSV") else urls:
                    if (status := get(base_url + url)) != 200:
                        raise CommandError(f"{url} answered {status} from gunicorn")
            worker = children.read_text().split()[0]
            status = Path(f"/proc/{worker}/status").read_text()
            rss_kb = int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)[1])
        self.stdout.write(
            f"gunicorn worker resident memory after serving every page twice: "
            f"{rss_kb / 1024:.0f} MB"
        )

    def pages(self):
        """(page type, [URL, ...]): the URLs built from the most common values in
        the data, requested in turn."""
        published = Practice.objects.published().order_by("pk")
        slugs = list(published.values_list("slug", flat=True))
        brief = Brief.objects.published().first()
        if not slugs or brief is None:
            raise CommandError("Load the catalogue first (make run).")
        commonest = {}
        for relation, column, key in [
            ("countries", "country__code", "country"),
            ("themes", "theme__slug", "theme"),
            ("instruments", "instrumenttype__slug", "instrument"),
        ]:
            through = getattr(Practice, relation).through
            counts = Counter(through.objects.values_list(column, flat=True))
            if not counts:
                raise CommandError(
                    f"No practice has a {key} yet: nothing to filter on."
                )
            commonest[key] = counts.most_common(1)[0][0]
        filtered = urlencode(commonest)
        spread = slugs[:: max(1, len(slugs) // 40)][:40]
        return [
            ("list, no filter", ["/practices/"]),
            ("list, after an edit", ["/practices/"]),
            ("list, three facets", ["/practices/?" + filtered]),
            ("search", ["/practices/?q=export+consortia"]),
            # A different practice each time, spread over the catalogue, as first
            # readers see them (a worker keeps rendered Markdown in memory).
            ("detail", [Practice(slug=slug).get_absolute_url() for slug in spread]),
            ("brief", [brief.get_absolute_url()]),
            ("compare", ["/practices/compare/?" + urlencode({"p": slugs[:2]}, True)]),
            ("export CSV, all", ["/practices/export.csv"]),
            ("export JSON, three facets", ["/practices/export.json?" + filtered]),
            ("feed, three facets", ["/practices/feed/?" + filtered]),
            ("sitemap index", ["/sitemap.xml"]),
            ("sitemap, practices page 1", ["/sitemap-practices.xml"]),
        ]
