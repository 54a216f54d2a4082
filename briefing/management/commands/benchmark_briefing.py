import statistics
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client
from django.test.utils import override_settings

from briefing import pack as packs
from briefing import pdf
from practices.models import Practice


class Command(BaseCommand):
    help = (
        "Make briefing packs of 4 and of 50 practices (the cap) from the data loaded "
        "now, as a page, a CSV and a PDF, and print the median and slowest time of "
        "each (the page cache off: every request renders)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--runs", type=int, default=5)

    def handle(self, *args, runs, **options):
        if why := pdf.unavailable():
            raise CommandError(f"PDFs cannot be made here: {why}.")
        slugs = list(
            Practice.objects.published()
            .order_by("title")
            .values_list("slug", flat=True)[: packs.MAX_PRACTICES]
        )
        if len(slugs) < packs.MAX_PRACTICES:
            raise CommandError(f"Needs {packs.MAX_PRACTICES} published practices.")
        host = next(
            (h.lstrip(".") for h in settings.ALLOWED_HOSTS if h != "*"), "localhost"
        )
        client = Client(HTTP_HOST=host)
        self.stdout.write(
            f"Briefing packs on {connection.vendor}; {runs} runs each (after one to "
            "warm up); median and slowest, in seconds"
        )
        with override_settings(PAGE_CACHE_SECONDS=0):
            for count in (4, packs.MAX_PRACTICES):
                query = "&".join(f"p={slug}" for slug in slugs[:count])
                for path in ("/briefing/", "/briefing.csv", "/briefing.pdf"):
                    times = self.measure(client, f"{path}?{query}", runs)
                    self.stdout.write(
                        f"{count:>3} practices  {path:<14} "
                        f"{statistics.median(times):6.2f}  {max(times):6.2f}"
                    )

    def measure(self, client, url, runs):
        client.get(url)
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise CommandError(f"{url} answered {response.status_code}")
        return times
