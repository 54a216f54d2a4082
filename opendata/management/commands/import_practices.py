from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.template.defaultfilters import pluralize

from opendata.imports import CREATE, SKIP, import_practices

PROGRESS_THRESHOLD = 1_000_000  # bytes (some 400 exported records): a bar shows


class Command(BaseCommand):
    help = (
        "Import practices from a CSV or JSON file as the exports write them "
        "(/practices/export.csv, /practices/export.json), read as a stream. Every "
        "row is checked and its problems reported with its line; if any row has "
        "one, nothing is imported. Records are matched on slug: a practice whose "
        "stored record differs from the file is kept as curators left it "
        "(skipped) unless --update is given. The file's status and published_on "
        "are ignored (new practices are drafts) unless --keep-status is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="A .csv or .json file.")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Check the file and report what would change; write nothing.",
        )
        parser.add_argument(
            "--update",
            action="store_true",
            help="Overwrite stored practices whose record differs from the file "
            "(a column left out of the file keeps the stored value; an empty cell "
            "empties it).",
        )
        parser.add_argument(
            "--keep-status",
            action="store_true",
            help="Give each practice the status and published_on the file gives it, "
            "as the workflow allows (a status change must be a workflow move, and a "
            "published practice must have what publishing needs). Without it, new "
            "practices are drafts and stored ones keep their status.",
        )

    def handle(self, *args, file, update, dry_run, keep_status, verbosity, **options):
        path = Path(file)
        try:
            self.size, self.file = path.stat().st_size, path.open("rb")
        except OSError as error:
            raise CommandError(
                f"Cannot read {path}: {error.strerror or error}."
            ) from error
        self.stage, self.drawn = "Checking" if dry_run else "Importing", False
        progress = self.progress if verbosity > 0 else None
        with self.file:
            report = import_practices(
                self.file,
                path.name,
                update=update,
                dry_run=dry_run,
                keep_status=keep_status,
                progress=progress,
            )
        if self.drawn:
            self.stderr.write("")  # end the bar's line
        if not report.ok:
            for problem in report.problems:
                where = f"line {problem.line}" if problem.line else "file"
                slug = f"{problem.slug}: " if problem.slug else ""
                self.stderr.write(f"{where}: {slug}{problem.reason}")
            for note in report.notes:
                self.stderr.write(f"… {note}")
            count, rows = report.problem_count, report.problem_rows
            where = f"{rows} row{pluralize(rows)}" if rows else "the file"
            raise CommandError(
                f"Nothing imported: {count} problem{pluralize(count)} in {where}."
            )
        if verbosity > 0:
            self.stdout.write(
                f"{report.name}: {report.rows} row{pluralize(report.rows)} checked. "
                f"{report.summary}."
            )
            if report.counts[CREATE] and not keep_status:
                self.stdout.write(
                    "New practices are drafts: the file's statuses are ignored "
                    "(--keep-status keeps them)."
                )
            if report.skipped:
                more = report.more(SKIP)
                self.stdout.write(
                    "Skipped, as they differ from the catalogue (curators' edits "
                    "are kept: use --update to overwrite; the fields that differ in "
                    "brackets): "
                    + ", ".join(
                        f"{slug} ({', '.join(fields)})"
                        for slug, _, fields in report.practices[SKIP]
                    )
                    + (f" and {more:,} more" if more else "")
                )
            if dry_run:
                self.stdout.write("Dry run: nothing was written.")

    def progress(self, rows):
        """A bar on stderr ("\\rImporting [#####.....] 50% 2,500 rows"), for large
        files: how much of the file is read, redrawn after each batch of rows."""
        if self.size > PROGRESS_THRESHOLD:
            percent = self.file.tell() * 100 // self.size
            filled = 30 * percent // 100
            self.stderr.write(
                f"\r{self.stage} [{'#' * filled}{'.' * (30 - filled)}] {percent:3d}% "
                f"{rows:,} rows",
                ending="",
            )
            self.stderr.flush()
            self.drawn = True
