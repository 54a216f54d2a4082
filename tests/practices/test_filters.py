import pytest
from django.http import QueryDict

from practices.filters import PracticeFilterSet
from practices.models import ImplementationLevel, Practice
from tests.factories import (
    make_country,
    make_instrument,
    make_practice,
    make_project,
    make_region,
    make_theme,
)

pytestmark = pytest.mark.django_db


def filtered(query):
    filterset = PracticeFilterSet(
        QueryDict(query), queryset=Practice.objects.published()
    )
    assert filterset.is_valid(), filterset.errors
    return set(filterset.qs.values_list("slug", flat=True))


@pytest.fixture
def places():
    spain = make_country(code="ES", name="Spain")
    italy = make_country(code="IT", name="Italy")
    es2 = make_region(code="ES2", name="Noreste", country=spain)
    es21 = make_region(code="ES21", name="País Vasco", country=spain, parent=es2)
    es212 = make_region(code="ES212", name="Gipuzkoa", country=spain, parent=es21)
    ith5 = make_region(code="ITH5", name="Emilia-Romagna", country=italy)
    make_practice(slug="donostia", countries=[spain], regions=[es212])
    make_practice(slug="bologna", countries=[italy], regions=[ith5])
    make_practice(slug="madrid", countries=[spain])


def test_country_codes_are_accepted_in_either_case(places):
    assert filtered("country=es") == {"donostia", "madrid"}
    assert filtered("country=ES") == {"donostia", "madrid"}


def test_several_values_of_one_filter_mean_or(places):
    assert filtered("country=es&country=it") == {"donostia", "madrid", "bologna"}


def test_region_matches_the_regions_inside_it(places):
    assert filtered("region=es2") == {"donostia"}
    assert filtered("region=ES212") == {"donostia"}
    assert filtered("region=ITH5") == {"bologna"}


def test_different_filters_combine_with_and():
    theme, other_theme = make_theme(slug="skills"), make_theme(slug="markets")
    grant = make_instrument(slug="grant")
    make_practice(slug="both", themes=[theme], instruments=[grant])
    make_practice(slug="theme-only", themes=[theme])
    make_practice(slug="other", themes=[other_theme], instruments=[grant])
    assert filtered("theme=skills&instrument=grant") == {"both"}
    assert filtered("theme=skills&theme=markets&instrument=grant") == {"both", "other"}


def test_practice_with_two_matching_terms_is_listed_once():
    a, b = make_theme(slug="a"), make_theme(slug="b")
    make_practice(slug="twice", themes=[a, b])
    filterset = PracticeFilterSet(
        QueryDict("theme=a&theme=b"), queryset=Practice.objects.published()
    )
    assert list(filterset.qs.values_list("slug", flat=True)) == ["twice"]


def test_project_and_level():
    project = make_project(slug="compete-in")
    make_practice(slug="p1", project=project, level=ImplementationLevel.REGIONAL)
    make_practice(slug="p2", level=ImplementationLevel.LOCAL)
    assert filtered("project=compete-in") == {"p1"}
    assert filtered("level=local") == {"p2"}


def test_text_search_needs_every_word_somewhere():
    make_practice(slug="a", title="Export consortia", summary="Firms in Cantabria")
    make_practice(slug="b", title="Export vouchers", summary="Firms in Murcia")
    assert filtered("q=export") == {"a", "b"}
    assert filtered("q=EXPORT cantabria") == {"a"}
    assert filtered("q=export lapland") == set()


def test_text_search_looks_in_place_and_taxonomy_names():
    make_practice(slug="a", countries=[make_country(code="MT", name="Malta")])
    make_practice(slug="b", themes=[make_theme(name="Investment attraction")])
    assert filtered("q=malta") == {"a"}
    assert filtered("q=investment") == {"b"}


@pytest.mark.parametrize(
    "query",
    [
        "country=ZZ",
        "region=XX999",
        "theme=no-such-theme",
        "instrument=<script>",
        "project=unknown",
        "level=galactic",
        "q=" + "x" * 201,
    ],
)
def test_unknown_values_make_the_filter_invalid(query):
    make_country(code="IT")
    filterset = PracticeFilterSet(
        QueryDict(query), queryset=Practice.objects.published()
    )
    assert not filterset.is_valid()


def test_level_and_period_filters_need_no_distinct_rows():
    """Columns of the practice (the term filters are subqueries): no join repeats
    a practice, so the database need not sort them out again (SELECT DISTINCT)."""
    filterset = PracticeFilterSet(
        QueryDict("level=regional&period=ongoing"),
        queryset=Practice.objects.published(),
    )
    assert filterset.is_valid(), filterset.errors
    assert "DISTINCT" not in str(filterset.qs.query)
