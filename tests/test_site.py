"""Site-wide invariants: migrations, one <h1> per page, 404s, security headers."""

import gzip
import re

import pytest
from django.core.management import call_command

from practices.models import Country, InstrumentType, Practice, Theme

pytestmark = pytest.mark.django_db


def test_no_missing_migrations():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def public_pages():
    """One URL of every public page type, from the real content."""
    practice = Practice.objects.published().first()
    return [
        "/",
        "/practices/",
        "/practices/?country=it&theme=cooperation-between-smes",
        "/practices/?q=export",
        practice.get_absolute_url(),
        "/practices/go4export-interactive-development/",
        "/briefs/",
        "/briefs/internationalisation-of-smes/",
        "/countries/",
        Country.objects.first().get_absolute_url(),
        "/themes/",
        Theme.objects.first().get_absolute_url(),
        "/instruments/",
        InstrumentType.objects.first().get_absolute_url(),
        "/data/",
        "/evidence/",
    ]


def test_every_page_type_renders_with_exactly_one_h1(client, catalogue):
    for url in public_pages():
        response = client.get(url)
        assert response.status_code == 200, url
        assert len(re.findall(r"<h1[\s>]", response.text)) == 1, url


def test_every_page_has_landmarks_and_a_skip_link(client, catalogue):
    for url in public_pages():
        text = client.get(url).text
        assert 'href="#main"' in text, url
        assert '<main id="main"' in text, url
        assert '<html lang="en">' in text, url


def test_404_page_is_friendly_with_one_h1(client, db):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert len(re.findall(r"<h1[\s>]", response.text)) == 1
    assert "Page not found" in response.text


def test_security_headers_on_every_response(client, catalogue):
    response = client.get("/")
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_featured_practices_without_facts_say_not_recorded(client, catalogue):
    # (GO4EXPORT, the other one until issue 22, now has unconfirmed facts.)
    text = client.get("/practices/export-development-program/").text
    assert text.count("Not recorded") >= 8


@pytest.mark.parametrize(
    "url, content_type",
    [
        ("/practices/", "text/html"),
        ("/practices/export.csv", "text/csv"),
        ("/practices/export.json", "application/json"),
        ("/practices/feed/", "application/atom+xml"),
        ("/sitemap-practices.xml", "application/xml"),
    ],
)
def test_pages_exports_and_feeds_are_compressed_for_clients_that_accept_it(
    client, catalogue, url, content_type
):
    plain = client.get(url)
    assert "Content-Encoding" not in plain.headers
    plain = body_of(plain)
    response = client.get(url, headers={"accept-encoding": "gzip"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith(content_type)
    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    compressed = body_of(response)
    assert len(compressed) < len(plain) / 3
    assert gzip.decompress(compressed)[:40] == plain[:40]


def body_of(response):
    return b"".join(response) if response.streaming else response.content


def test_the_favicon_is_served_and_linked_from_every_page(client, catalogue):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert b"".join(response.streaming_content)[:4] == b"\x00\x00\x01\x00"  # ICO
    head = client.get("/").text.split("</head>")[0]
    # The same file among the static files: links stay on STATIC_URL.
    assert '<link rel="icon" href="/static/root/favicon.ico" sizes="32x32">' in head
    assert 'href="/static/favicon.svg" type="image/svg+xml"' in head
