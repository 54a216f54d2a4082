"""The Atom feed of practices: any list of practices, filtered or searched, as a
subscription. It takes the list's filters through the same list_practices, so its
entries are the list's, newest first (whatever `sort` says), up to FEED_SIZE."""

import re
from datetime import datetime, time

from django.conf import settings
from django.http import HttpResponse, HttpResponseBadRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape
from django.utils.http import urlencode
from django.utils.translation import get_language

from practices.caching import public_page
from practices.cards import attach_card_terms
from practices.facts import is_unconfirmed
from practices.listing import list_practices

from .discovery import absolute_uri
from .records import LICENCE

FEED_SIZE = 50
# Characters XML 1.0 cannot hold (a search may contain them): left out of the feed.
XML_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]")


def xml_text(text):
    return XML_CONTROL_CHARACTERS.sub("", str(text))


def filter_parts(listing):
    """[(query-string name, [values])] of the filters in effect, in the filter
    form's order, each value as validated (codes upper-cased, search stripped)."""
    filters = listing.filters
    parts = []
    for name in listing.filterset.filters:
        if name not in filters:
            continue
        value = listing.query if name == "q" else filters[name]
        values = [value] if isinstance(value, str) else sorted(value)
        if any(values):
            parts.append((name, values))
    return parts


def describe(listing, parts):
    """A title naming the filters as the list page does, e.g.
    "Country: Italy; Theme: New markets; search “vouchers”"."""
    words = []
    for name, values in parts:
        if name == "q":
            words.append(f"search “{values[0]}”")
            continue
        labels = listing.labels(name)
        names = ", ".join(str(labels.get(value, value)) for value in values)
        words.append(f"{listing.filterset.filters[name].label}: {names}")
    return "; ".join(words)


def atom_feed(request, listing):
    """The feed of the listing's newest practices."""
    parts = filter_parts(listing)
    description = describe(listing, parts)
    title = f"{settings.SITE_NAME}: practices"
    if description:
        title += f" — {description}"
    feed_path = reverse("opendata:feed")
    query = urlencode(parts, doseq=True)
    feed_id = absolute_uri(request, f"{feed_path}?{query}" if query else feed_path)
    # The list page with the same query string, in the feed's order, from page 1.
    shown = request.GET.copy()
    for name in ("page", "sort"):
        shown.pop(name, None)
    shown["sort"] = "newest"
    link = absolute_uri(request, f"{reverse('practices:list')}?{shown.urlencode()}")

    # The FEED_SIZE newest, read in one query (plus one for their theme names),
    # whatever the size of the catalogue.
    practices = attach_card_terms(listing.practices.for_listing()[:FEED_SIZE])

    scope = "matching these filters" if parts else "in the catalogue"
    feed = Atom1Feed(
        title=xml_text(title),
        subtitle=xml_text(
            f"The newest published practices {scope} (up to {FEED_SIZE}), newest "
            "first. Each entry links to the practice's page, with its sources and "
            "attribution line."
        ),
        link=link,
        description=None,
        language=get_language(),
        feed_url=absolute_uri(request, request.get_full_path()),
        feed_guid=feed_id,
        author_name=settings.SITE_NAME,
        author_link=absolute_uri(request, reverse("home")),
        feed_copyright=f"{LICENCE['name']}: {LICENCE['url']}. Each entry carries "
        "the attribution line of its record.",
    )
    for practice in practices:
        url = absolute_uri(request, practice.get_absolute_url())
        # Atom summaries are written as type="html": escaped, the summary reads as
        # the plain text it is. Unconfirmed facts say so, or are left out (a
        # category cannot say so), as on the practice's page (practices/facts.py).
        summary = escape(practice.summary)
        if is_unconfirmed(practice, "summary"):
            summary += " [Unconfirmed: the sources do not confirm this summary.]"
        themes = [] if is_unconfirmed(practice, "themes") else practice.terms.themes
        feed.add_item(
            title=xml_text(practice.title),  # plain text: the XML writer escapes it
            link=url,
            description=xml_text(summary),
            unique_id=url,
            pubdate=timezone.make_aware(
                datetime.combine(practice.published_on, time.min)
            ),
            updateddate=practice.updated_at,
            categories=[xml_text(name) for name in themes],
            item_copyright=xml_text(practice.attribution),
        )
    return feed


@public_page
def practice_feed(request):
    """The feed for the list's query string; a 400 naming the bad values."""
    listing = list_practices(request.GET, sort="newest")
    if not listing.valid:
        message = "These filters are not valid:\n" + "\n".join(
            f"- {error}" for error in listing.errors
        )
        return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
    feed = atom_feed(request, listing)
    response = HttpResponse(content_type=feed.content_type)
    feed.write(response, "utf-8")
    return response
