"""Browser tests: headless Debian Chromium driven by pytest-playwright, with
axe-core (bundled by pytest-playwright-axe) checking WCAG 2.1 AA.

Playwright's own browser download does not work on our machines, so the tests
launch the system's `chromium`. Without it they skip with the reason (a laptop
without Chromium); in CI (`CI` set) a missing Chromium is an error instead.
"""

import os
import shutil
from io import StringIO

import pytest
from django.core.management import call_command

from practices.content import load_catalogue
from practices.models import CatalogueVersion

# pytest-playwright's sync API keeps an asyncio event loop open in the main
# thread; without this every database test after the first browser test fails
# with SynchronousOnlyOperation. Set at import, before any test runs.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    # Without these Chromium keeps calling home, which hammers a closed network.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def chromium_executable():
    path = shutil.which("chromium")
    if path:
        return path
    reason = (
        "Browser tests need Chromium on PATH as `chromium` (Debian/Ubuntu: "
        "`apt-get install chromium`); Playwright's own browser download is not used."
    )
    if os.environ.get("CI"):
        pytest.fail(f"CI is set, so browser tests must run: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args, chromium_executable):
    """pytest-playwright's launch options, pointed at the system Chromium."""
    return {
        **browser_type_launch_args,
        "executable_path": chromium_executable,
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session", autouse=True)
def live_catalogue(release_live_server_connections, django_db_blocker, live_server):
    """pytest-django's live server, with the real catalogue committed once for
    every browser test (the server's threads read it through connections of their
    own). Browser tests run last (tests/conftest.py), so no other test sees these
    rows, and a test that changes a row puts it back (`change` below).
    Autouse, so started before Chromium and stopped after it: stopped first, its
    request threads failed on Chromium's last keep-alive connections."""
    with django_db_blocker.unblock():
        load_catalogue()
        call_command("load_indicators", stdout=StringIO())  # region pages' figures
    return live_server.url


@pytest.fixture
def transactional_db(django_db_blocker):
    """pytest-django asks for this for every test that uses the live server, and
    would empty the database after each one, so that the next had to load the
    catalogue again. Here it only lets the test and the server's threads use the
    database, which keeps the catalogue committed by `live_catalogue`."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def site(live_catalogue, transactional_db):
    """The base URL of the live server holding the real catalogue."""
    return live_catalogue


@pytest.fixture
def change(site):
    """change(record, field=value, ...): save a change the live server can see,
    for this test only: the row is put back as it was afterwards, and the
    catalogue version moves again so no page cached meanwhile is served."""
    saved = []

    def change(record, **values):
        model = type(record)
        row = {
            f.attname: getattr(record, f.attname) for f in model._meta.concrete_fields
        }
        saved.append((model, record.pk, row))
        for name, value in values.items():
            setattr(record, name, value)
        record.save()

    yield change
    for model, pk, row in reversed(saved):
        model.objects.filter(pk=pk).update(**row)
    if saved:
        CatalogueVersion.bump()


@pytest.fixture(scope="session")
def release_live_server_connections(django_db_setup, django_db_blocker):
    """Set up before the live server and the browser, so torn down after them,
    and before the test database is dropped: the live server's request threads may
    still hold PostgreSQL sessions for Chromium's keep-alive connections, and
    PostgreSQL refuses to drop a database that others are using."""
    yield
    from django.db import connection

    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
