"""No address ever appears on a public surface: pages, exports, feed, sitemap,
data page, the alert pages themselves, the request log or send_alerts' output."""

import logging
from datetime import timedelta
from io import StringIO
from urllib.parse import quote

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from tests.alerts.conftest import ADDRESS, link_paths, sign_up
from tests.factories import make_practice

pytestmark = pytest.mark.django_db

PUBLIC = [
    "/",
    "/practices/",
    "/practices/?country=IT",
    "/practices/export.csv",
    "/practices/export.json",
    "/practices/export.csv?country=IT",
    "/practices/feed/",
    "/practices/feed/?country=IT",
    "/sitemap.xml",
    "/sitemap-practices.xml",
    "/robots.txt",
    "/data/",
    "/data/catalog.jsonld",
    "/follow/",
    "/follow/?country=IT",
    "/alerts/requested/?country=IT",
    "/countries/it/",
]


def forms_of(address):
    """The address as a page might hold it: as typed, in lower case, quoted."""
    return {address, address.lower(), quote(address), quote(address, safe="")}


def test_no_address_on_any_public_surface_or_log_line(client, italy, caplog):
    caplog.set_level(logging.DEBUG)
    make_practice(title="Export vouchers for Apulia", countries=[italy])
    assert sign_up(client).status_code == 302
    (confirm_path,) = link_paths(mail.outbox[0].body)
    assert client.get(confirm_path).status_code == 200
    make_practice(title="Trade fairs in Tuscany", countries=[italy])
    out, err = StringIO(), StringIO()
    now = timezone.now() + timedelta(days=7)
    call_command("send_alerts", now=now, stdout=out, stderr=err)
    assert out.getvalue().startswith("Sent 1 digest")
    (unsubscribe_path,) = link_paths(mail.outbox[1].body)

    surfaces = {url: client.get(url) for url in PUBLIC}
    surfaces[confirm_path] = client.get(confirm_path)
    surfaces[unsubscribe_path] = client.get(unsubscribe_path)
    surfaces[f"POST {unsubscribe_path}"] = client.post(unsubscribe_path)
    for url, response in surfaces.items():
        assert response.status_code == 200, url
        body = b"".join(response) if response.streaming else response.content
        text = body.decode()
        for form in forms_of(ADDRESS):
            assert form not in text, url
        assert "lovelace" not in text.lower(), url
    # Not a line of the log (requests, errors) nor of the command's output.
    logged = caplog.text + "".join(str(vars(r)) for r in caplog.records)
    assert "lovelace" not in logged.lower()
    assert "lovelace" not in (out.getvalue() + err.getvalue()).lower()
