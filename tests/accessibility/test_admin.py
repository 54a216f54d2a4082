from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accessibility.models import Feedback
from tests.accessibility.conftest import MORNING

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:accessibility_feedback_changelist")


@pytest.fixture
def reports():
    return {
        "open": Feedback.objects.create(
            description="The compare table cannot be scrolled with a keyboard",
            page_url="/practices/compare/",
            email="reader@example.org",
        ),
        "done": Feedback.objects.create(
            description="Focus outline invisible on the search button",
            is_handled=True,
            handled_at=timezone.now(),
        ),
    }


def test_changelist_lists_reports(admin_client, reports):
    response = admin_client.get(CHANGELIST)
    assert response.status_code == 200
    assert "The compare table cannot be scrolled" in response.text
    assert "Focus outline invisible" in response.text


def test_changelist_search(admin_client, reports):
    response = admin_client.get(CHANGELIST, {"q": "compare table"})
    assert response.status_code == 200
    assert list(response.context["cl"].queryset) == [reports["open"]]
    response = admin_client.get(CHANGELIST, {"q": "reader@example.org"})
    assert list(response.context["cl"].queryset) == [reports["open"]]


def test_changelist_filters_on_handled(admin_client, reports):
    response = admin_client.get(CHANGELIST, {"is_handled__exact": "0"})
    assert response.status_code == 200
    assert list(response.context["cl"].queryset) == [reports["open"]]
    response = admin_client.get(CHANGELIST, {"is_handled__exact": "1"})
    assert list(response.context["cl"].queryset) == [reports["done"]]


def test_change_form_renders_the_report_read_only(admin_client, reports):
    url = reverse("admin:accessibility_feedback_change", args=[reports["open"].pk])
    response = admin_client.get(url)
    assert response.status_code == 200
    assert "The compare table cannot be scrolled" in response.text
    assert 'name="description"' not in response.text  # read-only
    assert 'name="is_handled"' in response.text


def test_ticking_handled_records_when(admin_client, reports):
    report = reports["open"]
    url = reverse("admin:accessibility_feedback_change", args=[report.pk])
    response = admin_client.post(url, {"is_handled": "on"})
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.is_handled and report.handled_at is not None

    response = admin_client.post(url, {})
    assert response.status_code == 302
    report.refresh_from_db()
    assert not report.is_handled and report.handled_at is None


def test_mark_handled_action(admin_client, reports):
    response = admin_client.post(
        CHANGELIST,
        {"action": "mark_handled", "_selected_action": [reports["open"].pk]},
    )
    assert response.status_code == 302
    reports["open"].refresh_from_db()
    assert reports["open"].is_handled and reports["open"].handled_at is not None


def test_reports_cannot_be_added_in_the_admin(admin_client):
    url = reverse("admin:accessibility_feedback_add")
    assert admin_client.get(url).status_code == 403


CAP_NOTICE = "limit of 2 reports was reached at"  # after "Today&#x27;s"


def receive(clock, *moments):
    for moment in moments:
        clock(moment)
        Feedback.objects.create(description=f"Report of {moment:%d %B %H:%M}")


def test_changelist_tells_curators_when_the_daily_cap_was_reached(
    admin_client, settings, clock
):
    settings.FEEDBACK_DAILY_CAP = 2
    # Yesterday's reports reached yesterday's cap, not today's.
    yesterday = MORNING - timedelta(days=1)
    receive(clock, yesterday, yesterday + timedelta(minutes=1))
    receive(clock, MORNING - timedelta(hours=2))
    assert CAP_NOTICE not in admin_client.get(CHANGELIST).text

    receive(clock, MORNING + timedelta(minutes=1))
    text = admin_client.get(CHANGELIST).text
    assert (
        f"{CAP_NOTICE} 10:46: the feedback form refuses new reports until midnight"
    ) in text
    assert 'class="warning"' in text  # the admin's own message style

    clock(MORNING + timedelta(days=1))
    assert CAP_NOTICE not in admin_client.get(CHANGELIST).text


def test_cap_notice_is_shown_once_after_an_action(admin_client, settings, clock):
    settings.FEEDBACK_DAILY_CAP = 2
    receive(clock, MORNING, MORNING)
    response = admin_client.post(
        CHANGELIST,
        {"action": "mark_handled", "_selected_action": [Feedback.objects.first().pk]},
        follow=True,
    )
    assert response.text.count(CAP_NOTICE) == 1
