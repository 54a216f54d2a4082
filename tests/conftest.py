import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache

from practices.content import load_catalogue
from tests.factories import make_user


def _database_order(item):
    """0: uses the database inside a transaction; 1: flushes it afterwards
    (transaction=True, transactional_db, live_server); 2: no database."""
    marker = item.get_closest_marker("django_db")
    fixtures = getattr(item, "fixturenames", ())
    if marker is not None:
        kwargs = marker.kwargs
        if kwargs.get("transaction") or kwargs.get("reset_sequences"):
            return 1
    if "transactional_db" in fixtures or "live_server" in fixtures:
        return 1
    return 0 if marker is not None or "db" in fixtures else 2


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """Tests in a transaction run before the ones that flush the database, as in
    Django's runner. pytest-django sorts them so, but pytest then regroups tests
    by session-scoped parameters (the browser tests' browser name) and put the
    browser tests first: their flush removed what migrations put in the test
    database (the curation groups of practices 0008_curation_groups) before the
    tests that rely on it. A stable sort keeps pytest's grouping within each part."""
    items.sort(key=_database_order)


@pytest.fixture(scope="session")
def collected_static(tmp_path_factory):
    """A STATIC_ROOT collected as production collects it (hashed, compressed
    names and a manifest), once per session, for tests that start the real
    settings in another process; never the project's own staticfiles/."""
    root = tmp_path_factory.mktemp("static")
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=settings.BASE_DIR,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "STATIC_ROOT": str(root),
        },
        check=True,
        timeout=120,
    )
    return root


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


@pytest.fixture
def editor(db):
    return make_user(groups=["Editors"], username="edith")


@pytest.fixture
def reviewer(db):
    return make_user(groups=["Reviewers"], username="rita")
