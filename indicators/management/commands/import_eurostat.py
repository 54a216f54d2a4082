from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from indicators.loading import IndicatorFileError, read_eurostat, store
from indicators.models import INDICATORS, NUTS_VERSIONS


class Command(BaseCommand):
    help = (
        "Import one indicator from a file downloaded from Eurostat (TSV or "
        "SDMX-CSV), replacing the values stored for the same units and years. "
        "Example: import_eurostat estat_tgs00010.tsv --indicator unemployment_rate "
        "--where sex=T --where isced11=TOTAL --nuts-version 2021. A file that "
        "cannot be read changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--indicator", required=True, choices=list(INDICATORS))
        parser.add_argument(
            "--where",
            action="append",
            default=[],
            metavar="DIMENSION=VALUE",
            help="Keep the series with this value of a dimension (repeat it).",
        )
        parser.add_argument(
            "--dataset",
            help="Eurostat's dataset code (SDMX-CSV names it; TSV does not, unless "
            "the file is named estat_<code>.tsv).",
        )
        parser.add_argument("--unit", help="The unit, as the pages show it.")
        parser.add_argument(
            "--nuts-version", type=int, default=2021, choices=NUTS_VERSIONS
        )

    def handle(self, *args, file, indicator, where, dataset, unit, nuts_version, **o):
        path = Path(file)
        pairs = [item.partition("=") for item in where]
        if bad := [item for item, (key, _, value) in zip(where, pairs, strict=True)
                   if not key.strip() or not value.strip()]:  # fmt: skip
            raise CommandError(f"--where takes DIMENSION=VALUE, not {bad[0]!r}")
        if dataset is None and path.stem.lower().startswith("estat_"):
            dataset = path.stem[len("estat_") :]
        try:
            rows = read_eurostat(
                path.read_text(encoding="utf-8-sig"),
                path.name,
                indicator,
                where={key.strip(): value.strip() for key, _, value in pairs},
                dataset=dataset,
                unit=unit,
                nuts_version=nuts_version,
            )
            added, replaced = store(rows, replace=True)
        except (IndicatorFileError, OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Nothing imported: {exc}") from exc
        years = sorted({row["year"] for row in rows})
        self.stdout.write(
            self.style.SUCCESS(
                f"{indicator}: {added} values added, {replaced} replaced, for "
                f"{len({row['nuts_code'] for row in rows})} units, years "
                f"{years[0]}–{years[-1]}."
            )
        )
