from django.core.management.base import BaseCommand

from practices.models import CatalogueVersion, Practice
from practices.search import refresh_search_index


class Command(BaseCommand):
    help = (
        "Rebuild every practice's search index. Saves keep it current; use this "
        "after changing the database outside Django (raw SQL, a restore)."
    )

    def handle(self, *args, **options):
        ids = list(Practice.objects.values_list("pk", flat=True))
        refresh_search_index(ids)
        CatalogueVersion.bump()
        self.stdout.write(f"Rebuilt the search index of {len(ids)} practices.")
