"""tests/shared_data.py and the order of the suite (tests/conftest.py)."""

import pytest
from django.db import connection

from practices.models import Practice
from tests.conftest import ORDER, database_use
from tests.shared_data import used_by


def test_a_test_with_shared_data_runs_in_a_savepoint_of_its_transaction(catalogue):
    """The shared rows are in an outer transaction; the test's own changes are in
    a savepoint inside it, rolled back after the test, as in Django's TestCase."""
    assert connection.in_atomic_block
    assert connection.savepoint_ids  # the test's savepoint, inside the shared one
    assert Practice.objects.count() >= catalogue["practices"]


def test_tests_asking_for_shared_data_get_the_database(request, catalogue):
    assert request.node.get_closest_marker("django_db") is not None
    assert used_by(request.node) == "catalogue"


def test_the_suite_runs_in_database_order(request):
    """Rolled-back tests (each shared set together), then flushing ones, then those
    without a database, then the browser tests: what tests/shared_data.py and the
    browser tests' committed catalogue rely on."""
    items = request.session.items
    keys = [(ORDER[database_use(item)], used_by(item) or "") for item in items]
    assert keys == sorted(keys)
    if any(database_use(item) == "live" for item in items):
        assert database_use(items[-1]) == "live"


@pytest.mark.django_db(transaction=True)
def test_a_flushing_test_runs_outside_any_shared_transaction():
    assert not connection.in_atomic_block
