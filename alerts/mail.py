"""The two mails an alert sends: the confirmation (double opt-in) and the digest,
in plain text with absolute links. Every digest carries its one-click unsubscribe
link in the body and in the List-Unsubscribe headers (RFC 2369, RFC 8058)."""

import email.policy

from django.conf import settings
from django.core import mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.text import Truncator

from opendata.discovery import with_query

from .tokens import confirm_url, site_link, unsubscribe_url

# Automatic mails: no out-of-office replies to them (RFC 3834).
HEADERS = {"Auto-Submitted": "auto-generated"}


class EmailMessage(mail.EmailMessage):
    """Headers on lines of up to 998 characters, as RFC 5322 allows. At Python's
    78, a word longer than a line, such as the unsubscribe URL, is folded into
    RFC 2047 encoded words, which mail programs do not read as a URL."""

    def message(self, *, policy=email.policy.default):
        return super().message(policy=policy.clone(max_line_length=998))


def follow_links(query):
    """A list's page and the page to follow it (where to sign up again), for its
    query string."""
    return {
        "list_url": with_query(reverse("practices:list"), query),
        "follow_url": with_query(reverse("opendata:follow"), query) + "#email",
    }


def list_links(alert, request=None):
    """follow_links of the alert's list, as absolute URLs for a mail."""
    links = follow_links(alert.query)
    return {name: site_link(url, request) for name, url in links.items()}


def subject(text, description):
    about = Truncator(description).chars(60) if description else "all practices"
    return f"{settings.SITE_NAME}: {text} ({about})"


def confirmation(alert, listing, request):
    context = {
        "alert": alert,
        "description": listing.description,
        "confirm_url": confirm_url(alert, request),
        "days": settings.ALERT_CONFIRMATION_DAYS,
        "site_name": settings.SITE_NAME,
        **list_links(alert, request),
    }
    return EmailMessage(
        subject=subject("confirm your e-mail alert", listing.description),
        body=render_to_string("alerts/confirmation_email.txt", context),
        to=[alert.email],
        headers=HEADERS,
    )


def digest(alert, listing, entries):
    unsubscribe = unsubscribe_url(alert)
    new = [entry for entry in entries if entry.is_new]
    changed = [entry for entry in entries if not entry.is_new]
    context = {
        "alert": alert,
        "description": listing.description,
        "new": [(entry, site_link(entry.practice.get_absolute_url())) for entry in new],
        "changed": [
            (entry, site_link(entry.practice.get_absolute_url())) for entry in changed
        ],
        "unsubscribe_url": unsubscribe,
        "site_name": settings.SITE_NAME,
        **list_links(alert),
    }
    counts = [f"{len(new)} new"] if new else []
    counts += [f"{len(changed)} changed"] if changed else []
    noun = "practice" if len(entries) == 1 else "practices"
    return EmailMessage(
        subject=subject(f"{' and '.join(counts)} {noun}", listing.description),
        body=render_to_string("alerts/digest_email.txt", context),
        to=[alert.email],
        headers={
            **HEADERS,
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
