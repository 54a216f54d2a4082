"""A reader's shortlist: up to MAX_ITEMS practices, each with a short note of their
own, without an account. It is one signed token (django.core.signing, compressed)
kept in a cookie, so it survives a restart of the browser or the server, and put
in a link (/shortlist/?list=<token>) to share it: the same text both ways. The
signature only proves the token was made here; nothing in it is secret."""

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.validators import slug_re

from practices.models import Practice

COOKIE = "shortlist"
SALT = "briefing.shortlist"
MAX_ITEMS = 30
MAX_NOTE = 200  # characters
# A browser keeps a cookie of about 4 KB; the same token must also fit in a query
# string (config.security.MAX_QUERY_STRING_BYTES).
MAX_TOKEN = 3800  # characters
COOKIE_AGE = 365 * 24 * 3600  # seconds


class ShortlistError(ValueError):
    """The change or the token cannot be taken; the message says why."""


@dataclass
class Item:
    slug: str
    note: str = ""


def dumps(items):
    token = signing.dumps([[i.slug, i.note] for i in items], salt=SALT, compress=True)
    if len(token) > MAX_TOKEN:
        raise ShortlistError(
            "The shortlist's notes are too long to keep: shorten a note or remove "
            "a practice."
        )
    return token


def loads(token):
    """The items of a token; ShortlistError when it was not made here or is not a
    shortlist."""
    if not token:
        return []
    if len(token) > MAX_TOKEN:
        raise ShortlistError("This shortlist link is too long to be one of ours.")
    try:
        data = signing.loads(token, salt=SALT)
    except signing.BadSignature as error:
        raise ShortlistError(
            "This shortlist link is damaged or was not made by this site: ask for "
            "the link again."
        ) from error
    items = []
    for entry in data if isinstance(data, list) else [None]:
        if not (
            isinstance(entry, list)
            and len(entry) == 2
            and all(isinstance(value, str) for value in entry)
            and slug_re.fullmatch(entry[0])
        ):
            raise ShortlistError("This shortlist link holds something else.")
        items.append(Item(entry[0], entry[1][:MAX_NOTE]))
    return items[:MAX_ITEMS]


def from_request(request):
    """The reader's own shortlist (a damaged cookie reads as an empty one)."""
    try:
        return loads(request.COOKIES.get(COOKIE, ""))
    except ShortlistError:
        return []


def keep(response, items):
    """Store `items` as the reader's shortlist on `response` (cleared when empty)."""
    if not items:
        response.delete_cookie(COOKIE, samesite="Lax")
        return response
    response.set_cookie(
        COOKIE,
        dumps(items),
        max_age=COOKIE_AGE,
        samesite="Lax",
        httponly=True,
        secure=settings.SESSION_COOKIE_SECURE,  # HTTPS: as the session's
    )
    return response


def add(items, slug, note=""):
    if any(item.slug == slug for item in items):
        return items
    if len(items) >= MAX_ITEMS:
        raise ShortlistError(
            f"The shortlist already holds {MAX_ITEMS} practices: remove one before "
            "adding another."
        )
    return [*items, Item(slug, clean_note(note))]


def remove(items, slug):
    return [item for item in items if item.slug != slug]


def annotate(items, slug, note):
    if not any(item.slug == slug for item in items):
        raise ShortlistError("That practice is not on your shortlist: add it first.")
    return [
        Item(item.slug, clean_note(note)) if item.slug == slug else item
        for item in items
    ]


def clean_note(note):
    note = " ".join(note.split())
    if len(note) > MAX_NOTE:
        raise ShortlistError(f"A note is at most {MAX_NOTE} characters.")
    return note


def practices(items):
    """[(practice, note)] of the items still published, in the shortlist's order,
    and the slugs of those that are not (any more)."""
    found = (
        Practice.objects.published()
        .for_export()
        .in_bulk([i.slug for i in items], field_name="slug")
    )
    kept = [(found[i.slug], i.note) for i in items if i.slug in found]
    return kept, [i.slug for i in items if i.slug not in found]
