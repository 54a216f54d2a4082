"""Database rows built once and shared by every test that asks for them: what
Django's TestCase.setUpTestData does for a class, for any pytest fixture.

pytest-django runs each test inside a transaction that is rolled back afterwards.
A fixture decorated with @shared_data builds its rows inside an outer transaction
that stays open while the tests asking for it run: each test is then a savepoint
within it, so what a test changes is still undone, but the rows are built once
per session instead of once per test (loading the real catalogue takes seconds).

Only one such transaction can be open at a time, and a test that flushes the
database (transaction=True) or reads committed data (the browser tests' live
server) must run outside it. So the tests are put in order (tests/conftest.py):
the tests of each shared data set run one after the other, and the set is rolled
back before the first test that does not use it (`leave_unless_used`).

pytest-django's own issue on the subject, with this recipe:
https://github.com/pytest-dev/pytest-django/issues/1145
"""

import pytest
from django.db import transaction

from tests.factories import committed

NAMES = set()  # every shared data fixture, by name


class _Open:
    """The shared data set whose transaction is open, if any."""

    name = None
    atomic = None
    blocker = None
    closed = set()  # sets rolled back already: their rows are gone


def shared_data(build):
    """Decorate a function that creates rows: a session-wide fixture of that name
    returns what it returned, with its rows in the database of each test that asks
    for it. Tests must not change the returned objects in memory (rows may be
    changed: they are rolled back); copy them first, as test_visibility.py does."""
    name = build.__name__
    NAMES.add(name)

    @pytest.fixture(scope="session", name=name)
    def fixture(django_db_setup, django_db_blocker):
        leave()
        with django_db_blocker.unblock():
            atomic = transaction.atomic()
            atomic.__enter__()
            _Open.name, _Open.atomic, _Open.blocker = name, atomic, django_db_blocker
            # As if committed: the search index and catalogue version are current.
            with committed():
                value = build()
        yield value
        leave()

    fixture.__doc__ = build.__doc__
    return fixture


def used_by(item):
    """The shared data set the test asks for, or None."""
    names = NAMES.intersection(getattr(item, "fixturenames", ()))
    if len(names) > 1:
        raise pytest.UsageError(f"{item.nodeid} asks for {sorted(names)}: one at most")
    return names.pop() if names else None


def leave_unless_used(item, uses_database):
    """Before a test runs: roll back the open shared data set unless the test
    uses it (a test without database access may run inside it)."""
    name = used_by(item)
    if name in _Open.closed:
        pytest.fail(
            f"{item.nodeid} asks for the shared data '{name}', which was rolled back "
            "already: the tests using it must run one after the other "
            "(see the order in tests/conftest.py).",
            pytrace=False,
        )
    if uses_database and name != _Open.name:
        leave()


def leave():
    """Roll back the open shared data set, if any."""
    if _Open.atomic is None:
        return
    with _Open.blocker.unblock():
        transaction.set_rollback(True)
        _Open.atomic.__exit__(None, None, None)
    _Open.closed.add(_Open.name)
    _Open.name = _Open.atomic = _Open.blocker = None
