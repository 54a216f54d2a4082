from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from opendata.imports import import_practices

# More records than this, and a progress bar shows how far the import has got.
PROGRESS_THRESHOLD = 200


class ProgressBar:
    """A one-line text bar on stderr ("\\rValidating [#####.....] 50% 2500/5000"),
    redrawn only when the percentage changes (at most 101 writes a stage), and
    shown only for files with more than PROGRESS_THRESHOLD records."""

    WIDTH = 30

    def __init__(self, stream, enabled=True):
        self.stream, self.enabled, self.shown = stream, enabled, None

    def __call__(self, done, total, stage):
        if not self.enabled or total <= PROGRESS_THRESHOLD:
            return
        percent = done * 100 // total
        if (stage, percent) == self.shown:
            return
        self.shown = (stage, percent)
        filled = self.WIDTH * done // total
        bar = "#" * filled + "." * (self.WIDTH - filled)
        self.stream.write(
            f"\r{stage} [{bar}] {percent:3d}% {done}/{total}",
            ending="\n" if done == total else "",
        )
        self.stream.flush()


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

    def handle(self, *args, **options):
        path = Path(options["file"])
        try:
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(
                f"Cannot read {path}: {error.strerror or error}."
            ) from error
        verbosity = options["verbosity"]
        report = import_practices(
            data,
            path.name,
            update=options["update"],
            dry_run=options["dry_run"],
            progress=ProgressBar(self.stderr, enabled=verbosity > 0),
        )
        if not report.ok:
            for problem in report.problems:
                where = "file" if problem.line is None else f"line {problem.line}"
                slug = f"{problem.slug}: " if problem.slug else ""
                self.stderr.write(f"{where}: {slug}{problem.reason}")
            raise CommandError(f"Nothing imported: {_problems(report)}.")
        if verbosity > 0:
            self._summary(report)

    def _summary(self, report):
        would = "would be " if report.dry_run else ""
        self.stdout.write(
            f"{report.name}: {report.rows} {_plural(report.rows, 'row')} checked. "
            f"{len(report.created)} {would}created, "
            f"{len(report.updated)} {would}updated, "
            f"{len(report.unchanged)} unchanged, "
            f"{len(report.skipped)} skipped."
        )
        if report.skipped:
            self.stdout.write(
                "Skipped, as they differ from the catalogue (curators' edits are "
                "kept: use --update to overwrite): " + ", ".join(report.skipped)
            )
        if report.dry_run:
            self.stdout.write("Dry run: nothing was written.")


def _plural(count, noun):
    return noun if count == 1 else f"{noun}s"


def _problems(report):
    text = f"{len(report.problems)} {_plural(len(report.problems), 'problem')}"
    if report.problem_rows:
        text += f" in {report.problem_rows} {_plural(report.problem_rows, 'row')}"
    else:
        text += " in the file"
    return text
