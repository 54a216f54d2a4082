import random
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from practices.content import analyze
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
        countries, themes, instruments, projects = (
            list(model.objects.values_list("pk", flat=True))
            for model in (Country, Theme, InstrumentType, Project)
        )
        if not (countries and themes and instruments):
            raise CommandError(
                "Load the catalogue first (make run, or manage.py load_catalogue)."
            )
        rng = random.Random(seed)
        slugs = [f"{PREFIX}{seed}-{i}" for i in range(1, count + 1)]
        # By prefix, not slug__in: 100,000 slugs are too many parameters for SQLite.
        same_seed = Practice.objects.filter(slug__startswith=f"{PREFIX}{seed}-")
        existing = set(same_seed.values_list("slug", flat=True))

        def text(words):
            return " ".join(rng.choices(WORDS, k=words)).capitalize() + "."

        today = timezone.localdate()
        practices = []
        for slug in slugs:
            if slug in existing:
                continue
            start = rng.randint(2000, 2025)
            practice = Practice(
                slug=slug,
                title=f"[Synthetic] {' '.join(rng.sample(WORDS, 4)).capitalize()}",
                summary=text(25),
                description=text(120),
                evidence=text(40),
                level=rng.choice(ImplementationLevel.values),
                start_year=start,
                end_year=rng.choice([None, start + rng.randint(0, 8)]),
                attribution="Synthetic record made by generate_practices for "
                "testing; not a real practice.",
                status=Status.PUBLISHED,
            )
            if projects and rng.random() < 0.4:
                practice.project_id = rng.choice(projects)
            practice.published_on = today - timedelta(days=rng.randint(0, 2000))
            practices.append(practice)
        if connection.vendor == "postgresql":  # 100,000 rows take longer than a page
            connection.lift_time_limits()
        with transaction.atomic():
            Practice.objects.bulk_create(practices, batch_size=500)
            links = {"countries": [], "regions": [], "themes": [], "instruments": []}
            for practice in practices:
                if regions and rng.random() < 0.7:
                    region, country = rng.choice(regions)
                    links["regions"].append((practice.pk, region))
                else:
                    country = rng.choice(countries)
                links["countries"].append((practice.pk, country))
                for relation, ids in (("themes", themes), ("instruments", instruments)):
                    for term in rng.sample(ids, rng.randint(1, min(3, len(ids)))):
                        links[relation].append((practice.pk, term))
            for relation, pairs in links.items():
                field = Practice._meta.get_field(relation)
                through, column = field.remote_field.through, field.m2m_reverse_name()
                through.objects.bulk_create(
                    [through(practice_id=p, **{column: t}) for p, t in pairs],
                    batch_size=1000,
                )
            # bulk_create sends no signals: index them and bump the version on commit.
            refresh_on_commit(p.pk for p in practices)
        analyze()  # as load_catalogue does
        self.stdout.write(
            self.style.SUCCESS(
                f"Created {len(practices)} synthetic practices"
                f" ({len(existing)} with these slugs already existed)."
            )
        )
