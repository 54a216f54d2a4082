from datetime import date, timedelta

import pytest
from django.utils import timezone

from practices.listing import with_catalogue_counts
from practices.models import CatalogueVersion, Country, Practice, Status, Theme
from tests.factories import make_country, make_practice, make_theme

pytestmark = pytest.mark.django_db


def test_published_excludes_drafts_and_future_dates():
    live = make_practice(status=Status.PUBLISHED, published_on=date(2026, 1, 1))
    make_practice(status=Status.DRAFT)
    make_practice(
        status=Status.PUBLISHED,
        published_on=timezone.localdate() + timedelta(days=1),
    )
    assert list(Practice.objects.published()) == [live]


def test_practice_counts_count_only_published_practices():
    italy = make_country(code="IT", name="Italy")
    theme = make_theme(name="Access to new markets")
    make_practice(countries=[italy], themes=[theme])
    make_practice(countries=[italy], themes=[theme])
    make_practice(countries=[italy], themes=[theme], status=Status.DRAFT)

    [country] = with_catalogue_counts(Country.objects.all(), CatalogueVersion.current())
    [theme] = with_catalogue_counts(Theme.objects.all(), CatalogueVersion.current())
    assert country.practice_count == theme.practice_count == 2


def test_practice_counts_do_not_double_count_a_practice_with_many_terms():
    italy = make_country(code="IT", name="Italy")
    make_practice(countries=[italy], themes=[make_theme(), make_theme()])
    [country] = with_catalogue_counts(Country.objects.all(), CatalogueVersion.current())
    assert country.practice_count == 1
