from django.core.management.base import BaseCommand

from practices.models import CatalogueVersion, FacetValue, Practice
from practices.search import refresh_search_index


class Command(BaseCommand):
    help = (
        "Rebuild every practice's search index and facet values. Saves keep them "
        "current; use this after changing the database outside Django (raw SQL, "
        "a restore)."
    )

    def handle(self, *args, **options):
        ids = list(Practice.objects.values_list("pk", flat=True))
        refresh_search_index(ids)
        FacetValue.refresh(ids)
        CatalogueVersion.bump()
        self.stdout.write(
            f"Rebuilt the search index and facet values of {len(ids)} practices."
        )
