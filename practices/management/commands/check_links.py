from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from practices import links
from practices.links import Outcome
from practices.models import LinkCheck

# Per outcome: the style of its progress lines, its word in the summary's counts
# and the heading of its list in the summary (none for OK).
OUTCOMES = {
    Outcome.OK: ("SUCCESS", "OK", ""),
    Outcome.BROKEN: ("ERROR", "broken", "Broken"),
    Outcome.UNREACHABLE: ("ERROR", "unreachable", "Unreachable (no answer)"),
    Outcome.TRY_LATER: (
        "WARNING",
        "to try later",
        "Try later (429/503; not recorded, asked again next run)",
    ),
    Outcome.SKIPPED: ("WARNING", "skipped", "Skipped (not http or https)"),
}


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
        parser.add_argument(
            "--only",
            action="append",
            metavar="URL",
            help="Check only this link (repeatable); it must be used by a record.",
        )
        parser.add_argument(
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

    def handle(self, *args, only, stale_days, timeout, delay, workers, **options):
        if timeout <= 0:
            raise CommandError("--timeout must be more than 0 seconds.")
        if delay < 0:
            raise CommandError("--delay cannot be negative.")
        if workers < 1:
            raise CommandError("--workers must be at least 1.")
        if only and stale_days is not None:
            raise CommandError("Use --only or --stale-days, not both.")
        if stale_days is not None and stale_days < 0:
            raise CommandError("--stale-days cannot be negative.")

        usages = links.catalogue_links()
        if unknown := [url for url in only or [] if url not in usages]:
            raise CommandError(
                "Not used by any practice, brief or project: " + ", ".join(unknown)
            )
        urls = sorted(set(only)) if only else list(usages)
        if stale_days is not None:
            since = timezone.now() - timedelta(days=stale_days)
            fresh = LinkCheck.objects.filter(ok=True, checked_at__gte=since)
            fresh = set(fresh.filter(url__in=urls).values_list("url", flat=True))
            self.stdout.write(
                f"Skipping {len(fresh)} links checked OK within the last "
                f"{stale_days} days."
            )
            urls = [url for url in urls if url not in fresh]

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
            f"Checking {len(urls)} links (timeout {timeout:g} s, {delay:g} s between "
            f"requests to one host, {workers} hosts at a time)…"
        )
        results, interrupted, width = [], False, len(str(len(urls)))
        checks = links.check_urls(urls, timeout=timeout, delay=delay, workers=workers)
        try:
            for result in checks:
                links.record(result)
                results.append(result)
                style = getattr(self.style, OUTCOMES[result.outcome][0])
                label = style(result.outcome.name.replace("_", " "))
                self.stdout.write(
                    f"[{len(results):>{width}}/{len(urls)}] {label} "
                    f"{result.describe()}  {result.url}"
                )
        except KeyboardInterrupt:
            interrupted = True
        finally:
            checks.close()  # stops the workers before their next request

        if not interrupted and not only:
            gone = LinkCheck.objects.exclude(url__in=list(usages)).delete()[0]
            if gone:
                self.stdout.write(f"Forgot {gone} results for links no longer used.")

        found = {outcome: [] for outcome in Outcome}
        for result in sorted(results, key=lambda result: result.url):
            found[result.outcome].append(result)
        counts = ", ".join(
            f"{len(found[o])} {word}" for o, (_, word, _) in OUTCOMES.items()
        )
        self.stdout.write(f"\nChecked {len(results)} links: {counts}.")
        for outcome, (_, _, heading) in OUTCOMES.items():
            if heading and found[outcome]:
                self.stdout.write(f"\n{heading}:")
                for result in found[outcome]:  # every URL checked has users
                    users = ", ".join(usages[result.url])
                    self.stdout.write(
                        f"  {result.url}\n    {result.describe()} · used by {users}"
                    )

        if interrupted:
            raise CommandError(
                f"Interrupted after {len(results)} of {len(urls)} links; the results "
                "above are recorded.",
                returncode=130,
            )
        broken = len(found[Outcome.BROKEN]) + len(found[Outcome.UNREACHABLE])
        if options["fail_on_broken"] and broken:
            raise CommandError(
                f"{broken} links are broken or unreachable.", returncode=1
            )
