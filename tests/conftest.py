import pytest
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache

from practices.content import load_catalogue


@pytest.fixture(autouse=True)
def empty_page_cache():
    """Each test starts with an empty local-memory cache (the test settings' cache):
    cached pages are keyed by catalogue version, but a database rolled back between
    tests can bring an old version back."""
    cache = caches["default"]
    if isinstance(cache, LocMemCache):  # never clear a shared Redis
        cache.clear()


@pytest.fixture
def catalogue(db):
    """The real catalogue content, loaded as `make run` loads it."""
    return load_catalogue()
