from django.core.management.base import BaseCommand
from django.db import transaction

from practices.models import CatalogueVersion, FacetValue
from practices.search import rebuild_search_index


class Command(BaseCommand):
    help = (
        "Rebuild every practice's search index and facet values. Saves keep them "
        "current; use this after changing the database outside Django (raw SQL, "
        "a restore)."
    )

    def handle(self, *args, **options):
        # One transaction, as on every save (practices/signals.py).
        with transaction.atomic():
            ids = rebuild_search_index()
            FacetValue.refresh(ids)
            CatalogueVersion.bump()
        self.stdout.write(
            f"Rebuilt the search index and facet values of {len(ids)} practices."
        )
