from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

# A Thursday morning in the site's time zone (TIME_ZONE): 15 minutes before the next
# clock hour, 13 h 15 min before midnight.
MORNING = datetime(2026, 11, 26, 10, 45, tzinfo=ZoneInfo("Europe/Brussels"))


@pytest.fixture
def clock(monkeypatch):
    """Sets the time that timezone.now() answers (so created_at, "today" and the
    feedback limits) to a given moment; returns that moment."""

    def set_to(moment):
        monkeypatch.setattr(timezone, "now", lambda: moment.astimezone(UTC))
        return moment

    return set_to
