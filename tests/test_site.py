"""Site-wide invariants: migrations, one <h1> per page, 404s, security headers."""

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
    text = client.get("/practices/go4export-interactive-development/").text
    assert text.count("Not recorded") >= 8
