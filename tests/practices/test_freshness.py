"""The list, its counts and the search follow every change."""

import uuid
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError
from django.http import QueryDict

from briefs.models import BriefSection
from practices.cards import attach_card_terms
from practices.listing import list_practices
from practices.models import (
    CatalogueVersion,
    Country,
    InstrumentType,
    Practice,
    PracticeSource,
    Project,
    Region,
    Status,
    Theme,
)
from practices.search import snippet
from tests.factories import (
    committed,
    make_brief,
    make_country,
    make_instrument,
    make_practice,
    make_project,
    make_region,
    make_theme,
)

pytestmark = pytest.mark.django_db


def listed(client, query=""):
    return [p.slug for p in client.get(f"/practices/?{query}").context["practices"]]


def theme_count(slug):
    facets = list_practices(QueryDict()).facets(QueryDict())
    themes = next(facet for facet in facets if facet.name == "theme")
    return next((o.count for o in themes.options if o.value == slug), 0)


def test_every_kind_of_change_moves_the_version(db):
    seen = [CatalogueVersion.current()]

    def moved():
        seen.append(CatalogueVersion.current())
        return seen[-1] != seen[-2]

    theme = make_theme(slug="t")
    assert moved()
    practice = make_practice(themes=[theme])
    assert moved()
    with committed():
        practice.themes.remove(theme)
    assert moved()
    with committed():
        theme.practices.add(practice)
    assert moved()
    with committed():
        theme.practices.clear()
    assert moved()
    theme.name = "Renamed"
    with committed():
        theme.save()
    assert moved()
    with committed():
        theme.delete()
    assert moved()
    with committed():
        practice.delete()
    assert moved()


@pytest.mark.parametrize(
    "model", [Country, Region, Theme, InstrumentType, Project, PracticeSource]
)
def test_saving_and_deleting_anything_a_page_shows_moves_the_version(db, model):
    make_practice(
        countries=[make_country()],
        regions=[make_region()],
        themes=[make_theme()],
        instruments=[make_instrument()],
        project=make_project(),
        sources=["https://example.org/source"],
    )
    row = model.objects.get()
    before = CatalogueVersion.current()
    with committed():
        row.save()
    after_save = CatalogueVersion.current()
    assert after_save != before
    with committed():
        if model is not PracticeSource:
            Practice.objects.get().delete()  # terms are protected while in use
        if model is Country:
            Region.objects.all().delete()
    after_practice = CatalogueVersion.current()
    with committed():
        row.delete()
    assert CatalogueVersion.current() != after_practice


def test_changed_at_never_moves_back(db):
    make_theme()
    first = CatalogueVersion.current().changed_at
    CatalogueVersion.objects.filter(pk=1).update(
        changed_at=first + timedelta(hours=1)  # a bump from a clock running ahead
    )
    CatalogueVersion.bump()
    assert CatalogueVersion.current().changed_at == first + timedelta(hours=1)


def test_deleting_and_recreating_a_term_leaves_no_ghost_counts(db):
    theme = make_theme(slug="markets", name="Markets")
    make_practice(themes=[theme])
    assert theme_count("markets") == 1
    theme.delete()
    make_theme(slug="markets", name="Markets again")
    assert theme_count("markets") == 0


def test_deleting_a_term_updates_the_search_index(db):
    theme = make_theme(name="Zebra markets")
    practice = make_practice(themes=[theme])
    assert "zebra" in Practice.objects.get(pk=practice.pk).search_text
    with committed():
        theme.delete()
    practice.refresh_from_db()
    assert "zebra" not in practice.search_text


def test_clearing_a_term_refreshes_only_its_practices(db):
    theme = make_theme(name="Zebra markets")
    linked = make_practice(themes=[theme])
    other = make_practice()
    other_text = Practice.objects.get(pk=other.pk).search_text
    assert "zebra" in Practice.objects.get(pk=linked.pk).search_text
    with committed():
        theme.practices.clear()
    assert "zebra" not in Practice.objects.get(pk=linked.pk).search_text
    assert Practice.objects.get(pk=other.pk).search_text == other_text


def test_admin_actions_and_generated_data_move_the_version(admin_client, catalogue):
    before = CatalogueVersion.current()
    with committed():
        call_command("generate_practices", count=3, seed=9, stdout=None)
    assert CatalogueVersion.current() != before
    before = CatalogueVersion.current()
    practice = Practice.objects.first()
    with committed():
        admin_client.post(
            "/admin/practices/practice/",
            {"action": "unpublish", "_selected_action": [practice.pk]},
        )
    assert CatalogueVersion.current() != before


def test_region_codes_must_be_upper_case_nuts_codes(db):
    with pytest.raises(IntegrityError):
        make_region(code="Es7", level=1, country=make_country(code="ES", name="Spain"))


def test_country_urls_accept_only_two_letters(client, db):
    make_country(code="IT", name="Italy")
    assert client.get("/countries/it/").status_code == 200
    for bad in ["e%00", "i%C3%BC", "ita", "1t"]:
        assert client.get(f"/countries/{bad}/").status_code == 404


def test_disabled_facet_rows_carry_a_real_class(client, db):
    make_practice(countries=[make_country(code="IT", name="Italy")])
    make_country(code="FR", name="France")
    text = client.get("/practices/").text
    assert '<li class="disabled">' in text and "&quot;disabled&quot;" not in text


def test_snippet_highlights_a_word_also_excluded_as_part_of_another(db):
    practice = make_practice(summary="Support for export and non-export firms.")
    attach_card_terms([practice])
    label, html = snippet(practice, "non-export export")
    assert "<mark>export</mark>" in html


def test_section_anchors_cannot_take_the_pages_own_ids(db):
    brief = make_brief()
    section = BriefSection(brief=brief, heading="Main", anchor="main", body="x")
    with pytest.raises(ValidationError, match="used by the page itself"):
        section.full_clean()


def test_rebuild_search_index_command(db):
    practice = make_practice(title="Findable")
    Practice.objects.filter(pk=practice.pk).update(search_text="")
    call_command("rebuild_search_index", stdout=None)
    assert "findable" in Practice.objects.get(pk=practice.pk).search_text


def test_facet_labels_follow_renames_even_of_unused_terms(client, db):
    make_practice()
    theme = make_theme(slug="unused", name="Old label")
    assert "Old label" in client.get("/practices/").text
    theme.name = "New label"
    with committed():
        theme.save()
    text = client.get("/practices/").text
    assert "New label" in text and "Old label" not in text


def test_a_change_made_by_another_process_shows_at_the_next_request(client):
    first = make_practice(slug="first")
    assert listed(client) == ["first"]
    # Another process writes: no signal reaches this one, only the version row.
    Practice.objects.bulk_create(
        [
            Practice(
                slug="second",
                title="Second",
                summary="S",
                attribution="A",
                status=Status.PUBLISHED,
                published_on=first.published_on,
            )
        ]
    )
    CatalogueVersion.objects.filter(pk=1).update(token=uuid.uuid4())
    assert listed(client) == ["first", "second"]
