from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accessibility.models import Feedback
from tests.accessibility.conftest import MORNING

pytestmark = pytest.mark.django_db


@pytest.fixture
def reports(clock):
    """Reports received 400, 366, 364 and 10 days before MORNING (one handled),
    with the clock then set to MORNING."""
    ages = {"400": 400, "366": 366, "364": 364, "10": 10}
    received = {}
    for name, days in ages.items():
        clock(MORNING - timedelta(days=days))
        received[name] = Feedback.objects.create(
            description=f"Received {days} days ago",
            is_handled=name == "400",
            handled_at=timezone.now() if name == "400" else None,
        )
    clock(MORNING)
    return received


def purge(*args):
    out = StringIO()
    call_command("purge_feedback", *args, stdout=out)
    return out.getvalue()


def kept():
    return set(Feedback.objects.values_list("description", flat=True))


def test_purge_deletes_only_reports_older_than_the_retention(reports, settings):
    assert settings.FEEDBACK_RETENTION_DAYS == 365
    output = purge()
    assert output == "Deleted 2 feedback reports received before 2025-11-26 10:45.\n"
    assert kept() == {"Received 364 days ago", "Received 10 days ago"}


def test_purge_reads_the_retention_from_the_settings(reports, settings):
    settings.FEEDBACK_RETENTION_DAYS = 30
    assert purge().startswith("Deleted 3 ")
    assert kept() == {"Received 10 days ago"}


def test_purge_days_option(reports):
    assert purge("--days", "9").startswith("Deleted 4 ")
    assert not Feedback.objects.exists()


def test_purge_dry_run_deletes_nothing(reports):
    output = purge("--days", "365", "--dry-run")
    assert output == (
        "Would delete 2 feedback reports received before 2025-11-26 10:45.\n"
    )
    assert Feedback.objects.count() == 4


@pytest.mark.parametrize("days", ["0", "-5"])
def test_purge_refuses_a_retention_under_one_day(reports, days):
    with pytest.raises(CommandError, match="--days must be 1 or more"):
        purge("--days", days)
    assert Feedback.objects.count() == 4
