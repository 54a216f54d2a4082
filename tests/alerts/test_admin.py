import pytest
from django.urls import reverse

from tests.alerts.conftest import ADDRESS, make_alert
from tests.factories import make_user

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:alerts_alert_changelist")


def test_curators_do_not_see_addresses(client, italy):
    """No curation group has the alert permissions: addresses stay with the site's
    administrators."""
    client.force_login(make_user(groups=["Editors", "Reviewers"]))
    assert client.get(CHANGELIST).status_code == 403


def test_the_admin_lists_searches_and_shows_alerts_read_only(admin_client, italy):
    alert = make_alert(query="country=IT")
    make_alert(query="", email="other@example.org")
    response = admin_client.get(CHANGELIST, {"q": ADDRESS})
    assert response.status_code == 200
    assert list(response.context["cl"].queryset) == [alert]
    assert ADDRESS in response.text
    response = admin_client.get(CHANGELIST, {"status": "active"})
    assert len(response.context["cl"].queryset) == 2

    change = admin_client.get(reverse("admin:alerts_alert_change", args=[alert.pk]))
    assert change.status_code == 200
    assert "Country: Italy" in change.text  # the list in words
    assert 'name="email"' not in change.text  # read-only
    assert admin_client.get(reverse("admin:alerts_alert_add")).status_code == 403

    delete = reverse("admin:alerts_alert_delete", args=[alert.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 302
    assert list(response.context["cl"].queryset.model.objects.all()) != [alert]
