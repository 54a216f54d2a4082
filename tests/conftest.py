import os
import subprocess
import sys
from io import StringIO

import pytest
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.management import call_command

from practices.content import load_catalogue
from tests.factories import make_user
from tests.shared_data import leave_unless_used, shared_data, used_by


def database_use(item):
    """How a test uses the database: "rollback" (inside a transaction, rolled back
    after it), "flush" (commits, then the database is emptied: transaction=True,
    transactional_db), "live" (reads the catalogue a live server commits once for
    the browser tests, tests/browser/conftest.py) or None."""
    fixtures = getattr(item, "fixturenames", ())
    if "live_catalogue" in fixtures:
        return "live"
    marker = item.get_closest_marker("django_db")
    if marker is not None and (
        marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")
    ):
        return "flush"
    if "transactional_db" in fixtures or "live_server" in fixtures:
        return "flush"
    if marker is not None or "db" in fixtures:
        return "rollback"
    return None


ORDER = {"rollback": 0, "flush": 1, None: 2, "live": 3}


def pytest_itemcollected(item):
    """A test that asks for shared data (tests/shared_data.py) uses the database."""
    if used_by(item) and database_use(item) in (None, "rollback"):
        item.add_marker(pytest.mark.django_db)  # the shared rows need it
    elif used_by(item):
        raise pytest.UsageError(
            f"{item.nodeid}: shared data needs a test rolled back after it"
        )


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """The order tests run in, as Django's runner orders them, and more:
    1. tests rolled back after them, those sharing data (tests/shared_data.py) one
       set after the other, so each set is built once;
    2. tests that flush the database (nothing shared is open then; the flush also
       removes what migrations put in, such as the curation groups, so they come
       after every test that relies on it);
    3. tests without the database;
    4. the browser tests, against the catalogue committed once for them all.
    A stable sort keeps pytest's own grouping (by module, by parameter) in each.
    With pytest-xdist (`make test`), each worker gets its tests in this order."""
    items.sort(key=lambda item: (ORDER[database_use(item)], used_by(item) or ""))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    leave_unless_used(item, uses_database=database_use(item) is not None)


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


@shared_data
def catalogue():
    """The real catalogue content, loaded as `make run` loads it (once: see
    tests/shared_data.py), with the regional figures; what load_catalogue()
    created, by kind."""
    created = load_catalogue()
    call_command("load_indicators", stdout=StringIO())
    return created


@pytest.fixture
def editor(db):
    return make_user(groups=["Editors"], username="edith")


@pytest.fixture
def reviewer(db):
    return make_user(groups=["Reviewers"], username="rita")
