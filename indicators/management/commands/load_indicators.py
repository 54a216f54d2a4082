from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from indicators.loading import IndicatorFileError, read_long, store

INDICATORS_DIR = Path(settings.BASE_DIR) / "fixtures" / "indicators"


class Command(BaseCommand):
    help = (
        "Add the regional indicators of fixtures/indicators/*.csv (Eurostat's "
        "figures, see its README) to the database. Values already stored are kept, "
        "so running it again is safe; import_eurostat refreshes them."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="*", help="default: fixtures/indicators")

    def handle(self, *args, files, **options):
        paths = [Path(f) for f in files] or sorted(INDICATORS_DIR.glob("*.csv"))
        rows = []
        try:
            for path in paths:
                rows += read_long(path.read_text(encoding="utf-8"), path.name)
            added, _ = store(rows, replace=False)
        except (IndicatorFileError, OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Indicators not loaded: {exc}") from exc
        if added:
            self.stdout.write(self.style.SUCCESS(f"Indicators: {added} values added."))
        else:
            self.stdout.write("Indicators: everything is already loaded.")
