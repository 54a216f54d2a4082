import pytest

from practices.content import load_catalogue


@pytest.fixture
def catalogue(db):
    """The real catalogue content, loaded as `make run` loads it."""
    return load_catalogue()
