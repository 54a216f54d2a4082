from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from alerts.models import Alert
from tests.alerts.conftest import ADDRESS, make_alert

pytestmark = pytest.mark.django_db


def refused(**fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        Alert.objects.create(**fields)


def test_the_frequency_is_weekly_or_monthly():
    refused(email=ADDRESS, query="", frequency="daily")


def test_one_open_alert_per_address_list_and_frequency():
    Alert.objects.create(email=ADDRESS, query="country=IT", frequency="weekly")
    refused(email=ADDRESS, query="country=IT", frequency="weekly")
    Alert.objects.create(email=ADDRESS, query="country=IT", frequency="monthly")
    Alert.objects.update(unsubscribed_at=timezone.now(), email="")
    # Unsubscribed ones do not count.
    Alert.objects.create(email=ADDRESS, query="country=IT", frequency="weekly")


def test_an_address_while_open_and_none_once_unsubscribed():
    refused(email="", query="", frequency="weekly")
    refused(email=ADDRESS, query="", frequency="weekly", unsubscribed_at=timezone.now())


def test_a_digest_is_sent_only_once_confirmed():
    refused(email=ADDRESS, query="", frequency="weekly", last_sent_at=timezone.now())


def test_due_lapsed_and_open():
    now = timezone.now()
    weekly = make_alert(last_sent_at=now - timedelta(days=7), email="w@example.org")
    # A run an hour early still finds it due; more than that, not.
    early = make_alert(
        last_sent_at=now - timedelta(days=6, hours=23), email="e@example.org"
    )
    make_alert(last_sent_at=now - timedelta(days=6, hours=22), email="x@example.org")
    monthly = make_alert(
        frequency="monthly", last_sent_at=now - timedelta(days=30), email="m@x.org"
    )
    pending = Alert.objects.create(email="p@example.org", query="", frequency="weekly")
    lapsed = Alert.objects.create(email="l@example.org", query="", frequency="weekly")
    Alert.objects.filter(pk=lapsed.pk).update(created_at=now - timedelta(days=8))

    assert set(Alert.objects.due(now)) == {weekly, early, monthly}
    assert set(Alert.objects.due(now, "monthly")) == {monthly}
    assert list(Alert.objects.lapsed()) == [lapsed]
    assert pending in Alert.objects.open()
    assert lapsed not in Alert.objects.open()
