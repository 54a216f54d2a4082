from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.template.defaultfilters import pluralize

from opendata.imports import import_practices

PROGRESS_THRESHOLD = 200  # more records than this, and a progress bar shows


class Command(BaseCommand):
    help = (
        "Import practices from a CSV or JSON file as the exports write them "
        "(/practices/export.csv, /practices/export.json). Every row is checked "
        "first and every problem reported with its line; if any row has one, "
        "nothing is imported. Records are matched on slug: a practice whose "
        "stored record differs from the file is kept as curators left it "
        "(skipped) unless --update is given."
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

    def handle(self, *args, file, update, dry_run, verbosity, **options):
        path = Path(file)
        try:
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(
                f"Cannot read {path}: {error.strerror or error}."
            ) from error
        self.shown = None
        progress = self.progress if verbosity > 0 else None
        report = import_practices(
            data, path.name, update=update, dry_run=dry_run, progress=progress
        )
        if not report.ok:
            problems, notes = report.listed
            for problem in problems:
                where = f"line {problem.line}" if problem.line else "file"
                slug = f"{problem.slug}: " if problem.slug else ""
                self.stderr.write(f"{where}: {slug}{problem.reason}")
            for note in notes:
                self.stderr.write(f"… {note}")
            count, rows = len(report.problems), report.problem_rows
            where = f"{rows} row{pluralize(rows)}" if rows else "the file"
            raise CommandError(
                f"Nothing imported: {count} problem{pluralize(count)} in {where}."
            )
        if verbosity > 0:
            self.stdout.write(
                f"{report.name}: {report.rows} row{pluralize(report.rows)} checked. "
                f"{report.summary}."
            )
            if report.skipped:
                self.stdout.write(
                    "Skipped, as they differ from the catalogue (curators' edits "
                    "are kept: use --update to overwrite): " + ", ".join(report.skipped)
                )
            if dry_run:
                self.stdout.write("Dry run: nothing was written.")

    def progress(self, done, total, stage):
        """A bar on stderr ("\\rValidating [#####.....] 50% 2500/5000"), redrawn
        only when the percentage changes, for files of more than 200 records."""
        percent = done * 100 // total
        if total <= PROGRESS_THRESHOLD or (stage, percent) == self.shown:
            return
        self.shown, filled = (stage, percent), 30 * done // total
        self.stderr.write(
            f"\r{stage} [{'#' * filled}{'.' * (30 - filled)}] {percent:3d}% "
            f"{done}/{total}",
            ending="\n" if done == total else "",
        )
        self.stderr.flush()
