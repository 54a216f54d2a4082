import logging
import re
import socket
from datetime import timedelta
from email import message_from_bytes, policy
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from alerts.models import Alert
from config.mail import mailer_settings
from tests.factories import make_country

# Distinctive, so that a page holding it anywhere (even lower-cased) is caught.
ADDRESS = "ada.lovelace+alerts@post.example.net"
SITE = "https://atlas.example.org"


@pytest.fixture(autouse=True)
def site_url(settings):
    """Links in mails name the public site (send_alerts has no request)."""
    settings.SITE_URL = SITE


@pytest.fixture
def italy(db):
    return make_country(code="IT", name="Italy")


@pytest.fixture
def france(db):
    return make_country(code="FR", name="France")


def sign_up(client, query="country=IT", email=ADDRESS, frequency="weekly", **extra):
    return client.post(
        f"/alerts/?{query}", {"email": email, "frequency": frequency}, **extra
    )


def link_paths(text):
    """The paths of the site's alert links in a mail's text."""
    return [urlsplit(url).path for url in re.findall(rf"{SITE}/alerts/\S+/", text)]


def make_alert(query="country=IT", email=ADDRESS, frequency="weekly", **kwargs):
    """A confirmed alert whose last digest went out just now: what changes after
    this goes into its next one."""
    now = timezone.now()
    kwargs.setdefault("confirmed_at", now - timedelta(days=30))
    kwargs.setdefault("last_sent_at", now)
    return Alert.objects.create(email=email, query=query, frequency=frequency, **kwargs)


class Mailbox:
    """An aiosmtpd handler that keeps what it is sent, and refuses the
    recipients in `refused` as an unknown mailbox."""

    def __init__(self):
        self.messages, self.refused = [], set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refused:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        message.raw = envelope.content  # as it came over the wire
        self.messages.append((envelope.rcpt_tos, message))
        return "250 Message accepted"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server(settings, monkeypatch):
    """A real SMTP server on loopback, and Django's SMTP backend pointed at it.
    Controller.start() returns once the server answers: no waiting."""
    # aiosmtpd logs each command it is sent: noise in the test output.
    monkeypatch.setattr(logging.getLogger("mail.log"), "level", logging.WARNING)
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.MAILERS = mailer_settings(f"smtp://127.0.0.1:{controller.port}", 5)
    yield mailbox
    controller.stop()
