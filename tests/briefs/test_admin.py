import pytest
from django.urls import reverse

from tests.factories import make_brief, make_practice

pytestmark = pytest.mark.django_db


def test_brief_admin_pages_render_with_inlines(admin_client):
    brief = make_brief(practices=[make_practice(title="Export Consortia")])
    assert admin_client.get(reverse("admin:briefs_brief_changelist")).status_code == 200
    response = admin_client.get(reverse("admin:briefs_brief_change", args=[brief.pk]))
    assert response.status_code == 200
    assert "Featured practices" in response.text
    assert "Export Consortia" in response.text
    assert admin_client.get(reverse("admin:briefs_brief_add")).status_code == 200


def test_brief_search(admin_client):
    make_brief(title="Internationalisation of SMEs")
    response = admin_client.get(
        reverse("admin:briefs_brief_changelist"), {"q": "internationalisation"}
    )
    assert "Internationalisation of SMEs" in response.text
