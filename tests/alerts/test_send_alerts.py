"""send_alerts: what a digest holds (new practices, changed ones with what changed,
nothing outside the list), when alerts are due, and that one failed send stops
neither the others nor the next run."""

from datetime import date, timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from alerts.models import Alert
from practices.listing import list_practices
from practices.models import CatalogueVersion, Status
from tests.alerts.conftest import ADDRESS, make_alert
from tests.factories import (
    HIDDEN_STATES,
    committed,
    make_practice,
    make_theme,
    publishable_parts,
)

pytestmark = pytest.mark.django_db

NEXT_WEEK = timedelta(days=7)


def send_alerts(after=NEXT_WEEK, **options):
    """Runs the command as at `after` from now; returns (stdout, stderr)."""
    out, err = StringIO(), StringIO()
    now = timezone.now() + after
    call_command("send_alerts", now=now, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def test_a_digest_lists_new_and_changed_practices_with_what_changed(italy, france):
    changed = make_practice(title="Changed voucher", countries=[italy])
    relabelled = make_practice(title="Re-verified only", countries=[italy])
    make_practice(title="Untouched", countries=[italy])
    outside = make_practice(title="French practice", countries=[france])
    alert = make_alert()  # its last digest: now

    theme = make_theme(name="New markets")
    with committed():
        changed.summary = "A new summary."
        changed.end_year = 2027
        changed.save()
        changed.themes.add(theme)
        relabelled.last_verified_on = date(2026, 12, 1)  # bookkeeping: not listed
        relabelled.save()
        outside.summary = "Changed too, but not in the list."
        outside.save()
    make_practice(title="Brand new", countries=[italy])
    make_practice(title="A draft", countries=[italy], status=Status.DRAFT)

    out, _ = send_alerts()
    assert out == "Sent 1 digest (2 practices); 0 alerts had nothing new.\n"
    (digest,) = mail.outbox
    assert (
        digest.subject
        == "Practice Atlas: 1 new and 1 changed practices (Country: Italy)"
    )
    body = digest.body
    new_part, changed_part = body.split("\nChanged\n")
    assert "Newly published\n\n* Brand new\n  https://atlas.example.org/practices/" in (
        new_part
    )
    assert "* Changed voucher\n  What changed: Summary, End year, Themes\n" in (
        changed_part
    )
    for absent in ["Re-verified only", "Untouched", "French practice", "A draft"]:
        assert absent not in body
    alert.refresh_from_db()
    assert alert.last_sent_at > timezone.now()  # the run's moment


def test_a_practice_published_after_the_last_digest_is_new(italy):
    draft = make_practice(
        title="Waiting for review", status=Status.DRAFT, **publishable_parts()
    )  # in Italy
    scheduled = make_practice(
        title="Published next week",
        countries=[italy],
        published_on=timezone.localdate() + timedelta(days=5),
    )
    make_alert()
    with committed():
        draft.status, draft.published_on = Status.IN_REVIEW, None
        draft.save()
        draft.status, draft.published_on = Status.PUBLISHED, timezone.localdate()
        draft.save()
    out, _ = send_alerts()
    assert out.startswith("Sent 1 digest (1 practice)")
    assert "* Waiting for review" in mail.outbox[0].body
    assert "Newly published" in mail.outbox[0].body
    # Public from its date on (published() reads today, not the run's moment).
    assert "Published next week" not in mail.outbox[0].body
    assert scheduled.published_on > timezone.localdate()


def test_no_hidden_practice_is_ever_in_a_digest(italy):
    make_alert()
    for state, values in HIDDEN_STATES.items():
        make_practice(title=f"Hidden {state}", countries=[italy], **values)
    make_practice(title="Visible", countries=[italy])
    out, _ = send_alerts()
    assert out.startswith("Sent 1 digest (1 practice)")
    assert "* Visible" in mail.outbox[0].body
    assert "Hidden" not in mail.outbox[0].body


def test_a_search_alert_holds_what_the_search_finds(italy):
    make_alert(query="q=vouchers&country=IT")
    make_practice(title="Innovation vouchers for exporters", countries=[italy])
    make_practice(title="Trade missions to Asia", countries=[italy])
    out, _ = send_alerts()
    assert out.startswith("Sent 1 digest (1 practice)")
    assert "Innovation vouchers for exporters" in mail.outbox[0].body
    assert mail.outbox[0].subject.endswith("(search “vouchers”; Country: Italy)")


def test_nothing_new_sends_nothing_and_the_next_digest_covers_the_time(italy):
    alert = make_alert()
    out, _ = send_alerts()
    assert out == "Sent 0 digests (0 practices); 1 alert had nothing new.\n"
    assert not mail.outbox
    alert.refresh_from_db()
    assert alert.last_sent_at < timezone.now()  # unchanged

    make_practice(title="Later", countries=[italy])
    out, _ = send_alerts(after=NEXT_WEEK + timedelta(days=1))
    assert out.startswith("Sent 1 digest (1 practice)")


def test_only_due_active_alerts_are_sent(italy, france):
    now = timezone.now()
    week_ago, two_days_ago = now - timedelta(days=7), now - timedelta(days=2)
    due_weekly = make_alert(last_sent_at=week_ago, email="weekly@example.org")
    make_alert(last_sent_at=two_days_ago, email="recent@example.org")
    make_alert(frequency="monthly", last_sent_at=week_ago, email="month@example.org")
    due_monthly = make_alert(
        frequency="monthly",
        last_sent_at=None,
        confirmed_at=now - timedelta(days=30),
        email="monthly@example.org",
    )
    Alert.objects.create(email="pending@example.org", query="", frequency="weekly")
    make_alert(
        email="", unsubscribed_at=week_ago, last_sent_at=week_ago
    )  # unsubscribed
    make_practice(title="Export vouchers", countries=[italy])

    out, _ = send_alerts(after=timedelta(0))
    assert out.startswith("Sent 2 digests (2 practices)")
    assert sorted(message.to[0] for message in mail.outbox) == [
        "monthly@example.org",
        "weekly@example.org",
    ]
    mail.outbox.clear()
    Alert.objects.filter(pk=due_weekly.pk).update(last_sent_at=week_ago)
    Alert.objects.filter(pk=due_monthly.pk).update(last_sent_at=week_ago)
    out, _ = send_alerts(after=timedelta(0), frequency="monthly")
    assert out.startswith("Sent 0 digests")


def test_alerts_never_confirmed_are_deleted(settings):
    lapsed = Alert.objects.create(email=ADDRESS, query="", frequency="weekly")
    Alert.objects.filter(pk=lapsed.pk).update(
        created_at=timezone.now() - timedelta(days=settings.ALERT_CONFIRMATION_DAYS + 1)
    )
    waiting = Alert.objects.create(email="b@example.org", query="", frequency="weekly")
    out, _ = send_alerts(after=timedelta(0))
    assert out.startswith("Deleted 1 alerts never confirmed.\n")
    assert list(Alert.objects.all()) == [waiting]


def test_an_alert_whose_filters_are_no_longer_valid_is_reported(italy):
    theme = make_theme(slug="gone")
    alert = make_alert(query="theme=gone")
    theme.delete()
    out, err = send_alerts()
    assert out.startswith("Sent 0 digests")
    assert f"Alert {alert.pk} not sent: its filters are no longer valid" in err
    assert "Theme: Select a valid choice." in err


def test_one_refused_send_stops_neither_the_others_nor_the_next_run(italy, smtp_server):
    refused = make_alert(email="gone@example.org")
    delivered = make_alert(email=ADDRESS)
    make_practice(title="Export vouchers", countries=[italy])
    smtp_server.refused.add("gone@example.org")

    with pytest.raises(CommandError) as raised:
        send_alerts()
    message = str(raised.value)
    assert message == (
        "1 digest could not be sent (each is tried again at the next run): "
        f"alert {refused.pk} (SMTPRecipientsRefused 550)."
    )
    assert "gone@example.org" not in message  # no address in the output
    ((recipients, _),) = smtp_server.messages
    assert recipients == [ADDRESS]
    refused.refresh_from_db()
    delivered.refresh_from_db()
    assert refused.last_sent_at < timezone.now() < delivered.last_sent_at

    smtp_server.refused.clear()
    out, _ = send_alerts()
    assert out.startswith("Sent 1 digest (1 practice)")
    assert smtp_server.messages[1][0] == ["gone@example.org"]


def test_queries_do_not_grow_with_the_practices(italy, france):
    """Per alert: the alert (locked), the list's filters, the practices, their
    history records at both moments and each tracked relation of those records,
    and the update; not a query per practice."""
    few = make_practice(countries=[italy])
    many = [make_practice(countries=[france]) for _ in range(6)]
    make_alert(query="country=IT")
    make_alert(query="country=FR", frequency="monthly", email="b@example.org")
    theme = make_theme()
    with committed():
        for practice in [few, *many]:
            practice.summary = "Changed."
            practice.save()
            practice.themes.add(theme)
    make_practice(countries=[italy])
    for _ in range(6):
        make_practice(countries=[france])

    # The filters' options, read once per catalogue version, whichever run is first.
    assert list_practices(QueryDict("country=IT"), version=CatalogueVersion.current())
    counts = {}
    for frequency in ["weekly", "monthly"]:
        with CaptureQueriesContext(connection) as queries:
            send_alerts(after=timedelta(days=31), frequency=frequency)
        counts[frequency] = len(queries)
    subjects = [message.subject.split(" (")[0] for message in mail.outbox]
    assert subjects == [
        "Practice Atlas: 1 new and 1 changed practices",
        "Practice Atlas: 6 new and 6 changed practices",
    ]
    # The deletion of lapsed alerts, the catalogue version, the due alerts, then
    # per alert: a savepoint, the alert, the practices, the history records at
    # both moments, one query per tracked relation (4), the update, the release.
    assert counts == {"weekly": 14, "monthly": 14}


def test_without_site_url_the_links_name_the_local_site(italy, settings):
    settings.SITE_URL = ""
    make_alert()
    make_practice(title="Export vouchers", slug="export-vouchers", countries=[italy])
    _, err = send_alerts()
    assert err == "SITE_URL is not set: the mails link to http://127.0.0.1:8000.\n"
    (digest,) = mail.outbox
    assert "http://127.0.0.1:8000/practices/export-vouchers/" in digest.body
    assert digest.extra_headers["List-Unsubscribe"].startswith(
        "<http://127.0.0.1:8000/alerts/unsubscribe/"
    )
