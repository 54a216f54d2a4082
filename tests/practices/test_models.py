from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from practices.models import Practice, Status
from tests.factories import make_country, make_practice, make_region

pytestmark = pytest.mark.django_db


def test_published_practice_needs_a_publication_date():
    with pytest.raises(IntegrityError, match="practice_published_has_date"):
        make_practice(status=Status.PUBLISHED, published_on=None)


def test_draft_may_have_no_publication_date():
    practice = make_practice(status=Status.DRAFT)
    assert practice.published_on is None


def test_end_year_cannot_precede_start_year():
    with pytest.raises(IntegrityError, match="practice_end_after_start"):
        make_practice(start_year=2020, end_year=2019)


def test_open_ended_period_is_allowed():
    assert make_practice(start_year=2020, end_year=None).pk


def test_slugs_are_unique():
    make_practice(slug="same")
    with pytest.raises(IntegrityError, match=r"practice_unique_slug|practice\.slug"):
        make_practice(slug="same")


@pytest.mark.parametrize("slug", ["compare", "feed"])
def test_slugs_of_site_pages_are_refused(slug):
    """/practices/compare/ and /practices/feed/ are pages: a practice there would
    never be reachable."""
    with pytest.raises(IntegrityError, match="practice_slug_not_reserved"):
        with transaction.atomic():
            make_practice(slug=slug)
    practice = Practice(
        title="Feed", slug=slug, summary="s", attribution="a", status=Status.DRAFT
    )
    with pytest.raises(ValidationError, match="taken by a page of the site"):
        practice.full_clean()


def test_unknown_level_is_refused_by_the_database():
    with pytest.raises(IntegrityError, match="practice_valid_level"):
        make_practice(level="galactic")


def test_unknown_status_is_refused_by_the_database():
    with pytest.raises(IntegrityError, match="practice_valid_status"):
        make_practice(status="maybe", published_on=date(2026, 1, 1))


def test_region_level_must_be_one_to_three():
    with pytest.raises(IntegrityError, match="region_level_range"):
        make_region(code="ITH55", level=4)


def test_country_code_is_two_capital_letters():
    with pytest.raises(IntegrityError, match="country_code_format"):
        make_country(code="it")


def test_clean_rejects_unknown_uncertain_field_names():
    practice = Practice(
        title="T", slug="t", summary="S", attribution="A", uncertain_fields=["nope"]
    )
    with pytest.raises(ValidationError, match="Unknown field names: nope"):
        practice.full_clean()


@pytest.mark.django_db  # the constraint is checked with a query
def test_full_clean_explains_reversed_years_from_the_constraint():
    practice = Practice(
        title="T",
        slug="t",
        summary="S",
        attribution="A",
        start_year=2020,
        end_year=2010,
    )
    with pytest.raises(ValidationError) as error:
        practice.full_clean()
    # One rule, the database's (practice_end_after_start), with its own message.
    assert error.value.messages == ["The end year cannot be before the start year."]


def test_labels_and_urls():
    country = make_country(code="ES", name="Spain")
    region = make_region(code="ES13", name="Cantabria", country=country)
    practice = make_practice(title="Export Consortia", slug="export-consortia")
    assert str(practice) == "Export Consortia"
    assert practice.get_absolute_url() == "/practices/export-consortia/"
    assert country.get_absolute_url() == "/countries/es/"
    assert str(region) == "Cantabria (ES13)"
    assert region.get_absolute_url() == "/regions/ES13/"


def test_constraint_failure_leaves_other_rows_untouched():
    kept = make_practice(slug="kept")
    with pytest.raises(IntegrityError), transaction.atomic():
        make_practice(slug="kept")
    assert Practice.objects.get(pk=kept.pk)
