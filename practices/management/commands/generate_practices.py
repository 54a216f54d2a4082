import random
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from practices.models import (
    Country,
    ImplementationLevel,
    InstrumentType,
    Practice,
    Project,
    Region,
    Status,
    Theme,
)
from practices.signals import refresh_on_commit

PREFIX = "synthetic-"
WORDS = (
    "export readiness market entry trade fair mission voucher grant coaching mentor "
    "network consortium cluster digital e-commerce platform training peer learning "
    "internship talent investment region SMEs small firms abroad partners buyers "
    "agency chamber programme call co-financing evidence evaluation growth jobs "
    "turnover customers suppliers innovation tourism agrifood manufacturing services"
).split()


class Command(BaseCommand):
    help = (
        "Create N synthetic published practices for load tests and benchmarks, "
        f"spread over the real places and taxonomies. Their slugs start with "
        f"'{PREFIX}' and their titles with '[Synthetic]'; --delete removes them."
    )

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=0)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--delete", action="store_true", help="Remove every synthetic practice."
        )

    def handle(self, *args, count, seed, delete, **options):
        if delete:
            deleted = Practice.objects.filter(slug__startswith=PREFIX).delete()[0]
            self.stdout.write(
                f"Deleted {deleted} synthetic rows (practices and links)."
            )
            return
        if count <= 0:
            raise CommandError("Give --count N (a positive number) or --delete.")
        regions = list(Region.objects.values_list("pk", "country_id"))
        countries = list(Country.objects.values_list("pk", flat=True))
        themes = list(Theme.objects.values_list("pk", flat=True))
        instruments = list(InstrumentType.objects.values_list("pk", flat=True))
        projects = list(Project.objects.values_list("pk", flat=True))
        if not (countries and themes and instruments):
            raise CommandError(
                "Load the catalogue first (make run, or manage.py load_catalogue)."
            )
        rng = random.Random(seed)
        slugs = [f"{PREFIX}{seed}-{i}" for i in range(1, count + 1)]
        existing = set(
            Practice.objects.filter(slug__in=slugs).values_list("slug", flat=True)
        )
        with transaction.atomic():
            created = self._create(
                [s for s in slugs if s not in existing],
                rng,
                regions,
                countries,
                themes,
                instruments,
                projects,
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Created {len(created)} synthetic practices"
                f" ({len(existing)} with these slugs already existed)."
            )
        )

    def _create(self, slugs, rng, regions, countries, themes, instruments, projects):
        today = timezone.localdate()
        practices = []
        for slug in slugs:
            start = rng.randint(2000, 2025)
            practices.append(
                Practice(
                    slug=slug,
                    title=f"[Synthetic] {' '.join(rng.sample(WORDS, 4)).capitalize()}",
                    summary=" ".join(rng.choices(WORDS, k=25)).capitalize() + ".",
                    description=" ".join(rng.choices(WORDS, k=120)).capitalize() + ".",
                    evidence=" ".join(rng.choices(WORDS, k=40)).capitalize() + ".",
                    level=rng.choice(ImplementationLevel.values),
                    start_year=start,
                    end_year=rng.choice([None, start + rng.randint(0, 8)]),
                    project_id=rng.choice(projects)
                    if projects and rng.random() < 0.4
                    else None,
                    attribution="Synthetic record made by generate_practices for "
                    "testing; not a real practice.",
                    status=Status.PUBLISHED,
                    published_on=today - timedelta(days=rng.randint(0, 2000)),
                )
            )
        Practice.objects.bulk_create(practices, batch_size=500)
        links = {"countries": [], "regions": [], "themes": [], "instruments": []}
        for practice in practices:
            if regions and rng.random() < 0.7:
                region, country = rng.choice(regions)
                links["regions"].append((practice.pk, region))
                links["countries"].append((practice.pk, country))
            else:
                links["countries"].append((practice.pk, rng.choice(countries)))
            for theme in rng.sample(themes, rng.randint(1, min(3, len(themes)))):
                links["themes"].append((practice.pk, theme))
            for item in rng.sample(
                instruments, rng.randint(1, min(3, len(instruments)))
            ):
                links["instruments"].append((practice.pk, item))
        for relation, pairs in links.items():
            through = getattr(Practice, relation).through
            target = through._meta.get_field(
                {
                    "countries": "country",
                    "regions": "region",
                    "themes": "theme",
                    "instruments": "instrumenttype",
                }[relation]
            ).attname
            through.objects.bulk_create(
                [through(practice_id=p, **{target: t}) for p, t in pairs],
                batch_size=1000,
            )
        # bulk_create sends no signals: index them and bump the version on commit.
        refresh_on_commit(p.pk for p in practices)
        return practices
