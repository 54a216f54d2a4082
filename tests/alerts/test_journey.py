"""Issue 24 #3, done when: sign-up → confirmation mail → confirmed → a matching
practice published → send_alerts sends one digest with it → the unsubscribe link
stops the next one. Once with the locmem backend, once through a real SMTP server
on loopback."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from alerts.models import Alert
from tests.alerts.conftest import ADDRESS, SITE, link_paths, sign_up
from tests.factories import make_practice

pytestmark = pytest.mark.django_db


def send_alerts(days_from_now):
    out = StringIO()
    call_command(
        "send_alerts",
        now=timezone.now() + timedelta(days=days_from_now),
        stdout=out,
        stderr=StringIO(),
    )
    return out.getvalue()


def test_sign_up_confirm_receive_a_digest_and_unsubscribe(client, italy, france):
    response = sign_up(client, query="country=IT&page=2&sort=title")
    assert response.status_code == 302
    assert response["Location"] == "/alerts/requested/?country=IT"
    page = client.get(response["Location"])
    assert "Check your inbox" in page.text
    assert ADDRESS not in page.text

    (confirmation,) = mail.outbox
    assert confirmation.to == [ADDRESS]
    assert confirmation.subject == (
        "Practice Atlas: confirm your e-mail alert (Country: Italy)"
    )
    assert "matching Country: Italy, weekly" in confirmation.body
    (confirm_path,) = link_paths(confirmation.body)
    assert "List-Unsubscribe" not in confirmation.extra_headers
    alert = Alert.objects.get()
    assert (alert.email, alert.query, alert.frequency) == (
        ADDRESS,
        "country=IT",
        "weekly",
    )
    assert alert.confirmed_at is None

    confirmed = client.get(confirm_path)
    assert confirmed.status_code == 200
    assert "Thank you: your alert is on." in confirmed.text
    assert "practices matching <strong>Country: Italy</strong>" in confirmed.text
    alert.refresh_from_db()
    assert alert.confirmed_at is not None

    make_practice(title="Export vouchers for Apulia", countries=[italy])
    make_practice(title="Missions from Brittany", countries=[france])  # not matching
    assert send_alerts(days_from_now=7) == (
        "Sent 1 digest (1 practice); 0 alerts had nothing new.\n"
    )
    digest = mail.outbox[1]
    assert digest.to == [ADDRESS]
    assert digest.subject == "Practice Atlas: 1 new practice (Country: Italy)"
    assert "Export vouchers for Apulia" in digest.body
    assert "Missions from Brittany" not in digest.body
    (unsubscribe_path,) = link_paths(digest.body)
    unsubscribe_url = f"{SITE}{unsubscribe_path}"
    assert digest.extra_headers["List-Unsubscribe"] == f"<{unsubscribe_url}>"
    assert digest.extra_headers["List-Unsubscribe-Post"] == (
        "List-Unsubscribe=One-Click"
    )
    assert f"{SITE}/practices/?country=IT" in digest.body

    # RFC 8058: the mail provider POSTs the form body, without any cookie.
    one_click = client.post(
        unsubscribe_path,
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert one_click.status_code == 200
    assert "You are unsubscribed" in one_click.text
    alert.refresh_from_db()
    assert alert.unsubscribed_at is not None
    assert alert.email == ""  # erased

    make_practice(title="Trade fairs in Tuscany", countries=[italy])
    assert send_alerts(days_from_now=15).startswith("Sent 0 digests")
    assert len(mail.outbox) == 2


def test_the_same_journey_through_a_real_smtp_server(client, italy, smtp_server):
    assert sign_up(client).status_code == 302
    ((recipients, confirmation),) = smtp_server.messages
    assert recipients == [ADDRESS]
    assert confirmation["To"] == ADDRESS
    assert confirmation["Auto-Submitted"] == "auto-generated"
    (confirm_path,) = link_paths(confirmation.get_content())
    assert client.get(confirm_path).status_code == 200

    make_practice(title="Export vouchers for Apulia", countries=[italy])
    assert send_alerts(days_from_now=7).startswith("Sent 1 digest (1 practice)")
    recipients, digest = smtp_server.messages[1]
    assert recipients == [ADDRESS]
    body = digest.get_content()
    assert "Export vouchers for Apulia" in body
    (unsubscribe_path,) = link_paths(body)
    assert digest["List-Unsubscribe"] == f"<{SITE}{unsubscribe_path}>"
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # On the wire as written, on one line: mail programs read the URL from it.
    header = f"\r\nList-Unsubscribe: <{SITE}{unsubscribe_path}>\r\n".encode()
    assert header in digest.raw

    one_click = client.post(
        unsubscribe_path,
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert one_click.status_code == 200
    make_practice(title="Trade fairs in Tuscany", countries=[italy])
    assert send_alerts(days_from_now=15).startswith("Sent 0 digests")
    assert len(smtp_server.messages) == 2
