import pytest
from django.urls import reverse

from practices.models import Practice, Status
from tests.factories import (
    EVIDENCE_INLINES,
    make_country,
    make_instrument,
    make_practice,
    make_project,
    make_region,
    make_theme,
    publishable_parts,
)

pytestmark = pytest.mark.django_db

MODELS = ["country", "region", "theme", "instrumenttype", "project", "practice"]


@pytest.fixture
def records():
    italy = make_country(code="IT", name="Italy")
    region = make_region(code="ITH5", country=italy)
    return make_practice(
        title="Emilia-Romagna Go Global",
        institution="Emilia-Romagna Region",
        countries=[italy],
        regions=[region],
        themes=[make_theme()],
        instruments=[make_instrument()],
        project=make_project(),
        sources=["https://example.org/gp"],
    )


@pytest.mark.parametrize("model", MODELS)
def test_changelist_and_add_form_render(admin_client, records, model):
    assert (
        admin_client.get(reverse(f"admin:practices_{model}_changelist")).status_code
        == 200
    )
    assert admin_client.get(reverse(f"admin:practices_{model}_add")).status_code == 200


def test_practice_change_form_renders(admin_client, records):
    url = reverse("admin:practices_practice_change", args=[records.pk])
    response = admin_client.get(url)
    assert response.status_code == 200
    assert "Unconfirmed facts" in response.text


@pytest.mark.parametrize(
    "term", ["go global", "emilia-romagna region", "ITH5", "italy"]
)
def test_search_finds_by_title_institution_and_place(admin_client, records, term):
    response = admin_client.get(
        reverse("admin:practices_practice_changelist"), {"q": term}
    )
    assert "Emilia-Romagna Go Global" in response.text


def test_publish_and_unpublish_actions(admin_client):
    # A draft is submitted for review first (tests/practices/test_workflow.py).
    draft = make_practice(status=Status.IN_REVIEW, **publishable_parts())
    url = reverse("admin:practices_practice_changelist")
    admin_client.post(url, {"action": "publish", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert draft.status == Status.PUBLISHED and draft.published_on is not None
    admin_client.post(url, {"action": "unpublish", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT


def test_admin_edit_with_bad_years_is_refused_and_keeps_the_record(
    admin_client, records
):
    url = reverse("admin:practices_practice_change", args=[records.pk])
    data = {
        "title": "Changed",
        "slug": records.slug,
        "summary": records.summary,
        "attribution": records.attribution,
        "status": Status.PUBLISHED,
        "published_on": "2026-01-01",
        "start_year": "2020",
        "end_year": "2010",
        "sources-TOTAL_FORMS": "0",
        "sources-INITIAL_FORMS": "0",
        **EVIDENCE_INLINES,
    }
    response = admin_client.post(url, data)
    assert response.status_code == 200  # the form comes back with the error
    assert "The end year cannot be before the start year." in response.text
    assert Practice.objects.get(pk=records.pk).title == "Emilia-Romagna Go Global"


def test_anonymous_users_are_sent_to_login(client):
    response = client.get(reverse("admin:practices_practice_changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_admin_edit_saves_unconfirmed_flags_and_sources(admin_client, records):
    url = reverse("admin:practices_practice_change", args=[records.pk])
    source = records.sources.get()
    data = {
        "title": "Emilia-Romagna Go Global",
        "slug": records.slug,
        "summary": "New summary.",
        "attribution": records.attribution,
        "status": Status.PUBLISHED,
        "published_on": "2026-01-01",
        "uncertain_fields": ["budget", "project"],
        "sources-TOTAL_FORMS": "1",
        "sources-INITIAL_FORMS": "1",
        **EVIDENCE_INLINES,
        "sources-0-id": source.pk,
        "sources-0-practice": records.pk,
        "sources-0-position": "0",
        "sources-0-title": "Good-practice page",
        "sources-0-url": "https://example.org/gp",
    }
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["errors"]
    records.refresh_from_db()
    assert records.summary == "New summary."
    assert records.uncertain_fields == ["budget", "project"]
    assert records.sources.get().title == "Good-practice page"
