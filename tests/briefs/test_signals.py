"""Briefs are public pages: every change to one moves the catalogue version, which
cached pages are keyed on (practices/caching.py)."""

import pytest

from briefs.models import Brief, BriefSection, FeaturedPractice
from practices.models import CatalogueVersion
from tests.factories import committed, make_brief, make_practice

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", [Brief, BriefSection, FeaturedPractice])
def test_saving_and_deleting_moves_the_catalogue_version(model):
    make_brief(practices=[make_practice()])
    row = model.objects.get()
    before = CatalogueVersion.current()
    with committed():
        row.save()
    after_save = CatalogueVersion.current()
    assert after_save != before
    with committed():
        row.delete()
    assert CatalogueVersion.current() != after_save
