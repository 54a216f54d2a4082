from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from practices import links
from practices.models import LinkCheck

SECTIONS = [
    (links.Outcome.BROKEN, "Broken"),
    (links.Outcome.UNREACHABLE, "Unreachable (no answer)"),
    (
        links.Outcome.TRY_LATER,
        "Try later (429/503; not recorded, asked again next run)",
    ),
    (links.Outcome.SKIPPED, "Skipped (not http or https)"),
]


class Command(BaseCommand):
    help = (
        "Check every link the catalogue keeps (practice sources, briefs' originals, "
        "project websites), politely, and record the results: the admin flags "
        "broken ones. Exits 0 even when links are broken, unless --fail-on-broken."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--timeout",
            type=float,
            default=links.DEFAULT_TIMEOUT,
            help="Seconds to wait to connect and for each read (default %(default)s).",
        )
        parser.add_argument(
            "--delay",
            type=float,
            default=links.DEFAULT_DELAY,
            help="Seconds between two requests to the same host (default %(default)s).",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=links.DEFAULT_WORKERS,
            help="Hosts checked in parallel (default %(default)s).",
        )
        which = parser.add_mutually_exclusive_group()
        which.add_argument(
            "--only",
            action="append",
            metavar="URL",
            help="Check only this link (repeatable); it must be used by a record.",
        )
        which.add_argument(
            "--stale-days",
            type=int,
            metavar="N",
            help="Skip links that were checked OK within the last N days.",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="List the links that would be checked; request and record nothing.",
        )
        parser.add_argument(
            "--fail-on-broken",
            action="store_true",
            help="Exit with status 1 when any link is broken or unreachable.",
        )

    def handle(self, *args, **options):
        if options["timeout"] <= 0:
            raise CommandError("--timeout must be more than 0 seconds.")
        if options["delay"] < 0:
            raise CommandError("--delay cannot be negative.")
        if options["workers"] < 1:
            raise CommandError("--workers must be at least 1.")
        if options["only"] and options["stale_days"] is not None:
            raise CommandError("Use --only or --stale-days, not both.")
        if options["stale_days"] is not None and options["stale_days"] < 0:
            raise CommandError("--stale-days cannot be negative.")

        usages = links.catalogue_links()
        urls = self.select(usages, options)
        if options["dry_run"]:
            hosts = {links.host_key(url) for url in urls}
            self.stdout.write(
                f"Would check {len(urls)} links on {len(hosts)} hosts "
                "(dry run: nothing requested, nothing recorded):"
            )
            for url in urls:
                self.stdout.write(f"  {url}\n    used by {', '.join(usages[url])}")
            return

        self.stdout.write(
            f"Checking {len(urls)} links (timeout {options['timeout']:g} s, "
            f"{options['delay']:g} s between requests to one host, "
            f"{options['workers']} hosts at a time)…"
        )
        results = []
        interrupted = False
        checks = links.check_urls(
            urls,
            timeout=options["timeout"],
            delay=options["delay"],
            workers=options["workers"],
        )
        try:
            for result in checks:
                links.record(result)
                results.append(result)
                self.progress(len(results), len(urls), result)
        except KeyboardInterrupt:
            interrupted = True
        finally:
            checks.close()  # stops the workers before their next request

        if not interrupted and not options["only"]:
            gone = LinkCheck.objects.exclude(url__in=list(usages)).delete()[0]
            if gone:
                self.stdout.write(f"Forgot {gone} results for links no longer used.")
        broken = self.summary(results, usages)
        if interrupted:
            raise CommandError(
                f"Interrupted after {len(results)} of {len(urls)} links; the results "
                "above are recorded.",
                returncode=130,
            )
        if options["fail_on_broken"] and broken:
            raise CommandError(
                f"{broken} links are broken or unreachable.", returncode=1
            )

    def select(self, usages, options):
        if options["only"]:
            unknown = [url for url in options["only"] if url not in usages]
            if unknown:
                raise CommandError(
                    "Not used by any practice, brief or project: " + ", ".join(unknown)
                )
            return sorted(set(options["only"]))
        urls = list(usages)
        if options["stale_days"] is not None:
            since = timezone.now() - timedelta(days=options["stale_days"])
            fresh = set(
                LinkCheck.objects.filter(
                    url__in=urls, ok=True, checked_at__gte=since
                ).values_list("url", flat=True)
            )
            self.stdout.write(
                f"Skipping {len(fresh)} links checked OK within the last "
                f"{options['stale_days']} days."
            )
            urls = [url for url in urls if url not in fresh]
        return urls

    def progress(self, done, total, result):
        label = {
            links.Outcome.OK: self.style.SUCCESS("OK"),
            links.Outcome.BROKEN: self.style.ERROR("BROKEN"),
            links.Outcome.UNREACHABLE: self.style.ERROR("UNREACHABLE"),
            links.Outcome.TRY_LATER: self.style.WARNING("TRY LATER"),
            links.Outcome.SKIPPED: self.style.WARNING("SKIPPED"),
        }[result.outcome]
        width = len(str(total))
        self.stdout.write(
            f"[{done:>{width}}/{total}] {label} {result.describe()}  {result.url}"
        )

    def summary(self, results, usages):
        """Print the counts and the links that need attention; returns how many are
        broken or unreachable."""
        by_outcome = {outcome: [] for outcome in links.Outcome}
        for result in sorted(results, key=lambda result: result.url):
            by_outcome[result.outcome].append(result)
        counts = {outcome: len(found) for outcome, found in by_outcome.items()}
        self.stdout.write(
            f"\nChecked {len(results)} links: {counts[links.Outcome.OK]} OK, "
            f"{counts[links.Outcome.BROKEN]} broken, "
            f"{counts[links.Outcome.UNREACHABLE]} unreachable, "
            f"{counts[links.Outcome.TRY_LATER]} to try later, "
            f"{counts[links.Outcome.SKIPPED]} skipped."
        )
        for outcome, heading in SECTIONS:
            if not by_outcome[outcome]:
                continue
            self.stdout.write(f"\n{heading}:")
            for result in by_outcome[outcome]:
                users = ", ".join(usages.get(result.url, [])) or "no record"
                self.stdout.write(
                    f"  {result.url}\n    {result.describe()} · used by {users}"
                )
        return counts[links.Outcome.BROKEN] + counts[links.Outcome.UNREACHABLE]
