from django.core.management.base import BaseCommand, CommandError
from django.template.defaultfilters import pluralize

from practices.content import (
    STALE_EVIDENCE,
    ContentError,
    catalogue_files,
    load_catalogue,
)


class Command(BaseCommand):
    help = (
        "Add the catalogue content from fixtures/catalogue/ to the database. "
        "Records that already exist (matched on code or slug) are left exactly as "
        "curators keep them, so running it again is safe."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "files",
            nargs="*",
            help="Content files (default: fixtures/catalogue/*.json)",
        )

    def handle(self, *args, files, **options):
        try:
            created = load_catalogue(files or None)
        except ContentError as exc:
            raise CommandError(f"Catalogue content not loaded: {exc}") from exc
        if stale := created.pop(STALE_EVIDENCE, 0):
            self.stdout.write(
                f"Evidence of {stale} practice{pluralize(stale)} left out: it cites "
                "sources that the stored record (loaded or edited before) does not "
                "hold."
            )
        if not created:
            self.stdout.write("Catalogue content: everything is already loaded.")
            return
        summary = ", ".join(f"{count} {kind}" for kind, count in created.items())
        used = len(files) if files else len(catalogue_files())
        self.stdout.write(
            self.style.SUCCESS(f"Catalogue content added from {used} files: {summary}.")
        )
