"""The Atom feed of practices: any list of practices, filtered or searched, as a
subscription.

/practices/feed/ takes exactly the list page's filters and search (`q`), through
practices.listing.list_practices, so its entries are the list's practices for the
same query string, by construction: the newest first (the list's "newest" order,
whatever `sort` says), up to FEED_SIZE. Invalid filters get a 400 that names them.
"""

import re
from dataclasses import dataclass
from datetime import datetime, time

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.http import HttpResponseBadRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape
from django.utils.http import urlencode

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


@dataclass
class FeedPage:
    """What PracticeFeed renders: the list's selection and its newest practices."""

    title: str
    subtitle: str
    link: str  # the list page showing the same practices in the same order
    feed_url: str  # this feed, with its query string
    feed_id: str  # this feed's stable address: its filters, normalised
    author_link: str
    practices: list


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


def feed_page(request, listing):
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
    for practice in practices:
        practice.page_url = absolute_uri(request, practice.get_absolute_url())

    scope = "matching these filters" if parts else "in the catalogue"
    return FeedPage(
        title=title,
        subtitle=(
            f"The newest published practices {scope} (up to {FEED_SIZE}), newest "
            "first. Each entry links to the practice's page, with its sources and "
            "attribution line."
        ),
        link=link,
        feed_url=absolute_uri(request, request.get_full_path()),
        feed_id=feed_id,
        author_link=absolute_uri(request, reverse("home")),
        practices=practices,
    )


class PracticeFeed(Feed):
    feed_type = Atom1Feed
    author_name = settings.SITE_NAME
    feed_copyright = (
        f"{LICENCE['name']}: {LICENCE['url']}. Each entry carries the attribution "
        "line of its record."
    )

    def get_object(self, request, page):
        return page

    def title(self, page):
        return xml_text(page.title)

    def subtitle(self, page):
        return xml_text(page.subtitle)

    def link(self, page):
        return page.link

    def feed_url(self, page):
        return page.feed_url

    def feed_guid(self, page):
        return page.feed_id

    def author_link(self, page):
        return page.author_link

    def items(self, page):
        return page.practices

    # Atom titles are plain text (no type attribute): the XML writer escapes them.
    def item_title(self, practice):
        return xml_text(practice.title)

    # Atom summaries are written as type="html": escaped, the summary reads as the
    # plain text it is, whatever characters it holds. A summary its sources do not
    # confirm says so, as on the practice's page (practices/facts.py).
    def item_description(self, practice):
        summary = escape(practice.summary)
        if is_unconfirmed(practice, "summary"):
            summary += " [Unconfirmed: the sources do not confirm this summary.]"
        return xml_text(summary)

    def item_link(self, practice):
        return practice.page_url

    def item_guid(self, practice):
        return practice.page_url

    def item_pubdate(self, practice):
        return timezone.make_aware(datetime.combine(practice.published_on, time.min))

    def item_updateddate(self, practice):
        return practice.updated_at

    def item_categories(self, practice):
        """Its themes; none when they are unconfirmed (a category cannot say so)."""
        if is_unconfirmed(practice, "themes"):
            return []
        return [xml_text(name) for name in practice.terms.themes]

    def item_copyright(self, practice):
        return xml_text(practice.attribution)


@public_page
def practice_feed(request):
    """The feed for the list's query string; a 400 naming the bad values."""
    listing = list_practices(request.GET, sort="newest")
    if not listing.valid:
        message = "These filters are not valid:\n" + "\n".join(
            f"- {error}" for error in listing.errors
        )
        return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
    response = PracticeFeed()(request, page=feed_page(request, listing))
    # The page cache decides validators (Last-Modified, ETag) for every public page.
    response.headers.pop("Last-Modified", None)
    return response
