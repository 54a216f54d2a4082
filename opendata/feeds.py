"""The Atom feed of any list of practices, filtered or searched: the list's entries
for the same query string (the same list_practices), newest first whatever `sort`
says, up to FEED_SIZE."""

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

from practices.caching import catalogue_version, public_page
from practices.cards import attach_card_terms
from practices.facts import is_unconfirmed
from practices.listing import list_practices

from .discovery import absolute_uri, with_query
from .records import LICENCE

FEED_SIZE = 50
# Characters XML 1.0 cannot hold (a search may contain them): left out of the feed.
XML_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]")


def xml_text(text):
    return XML_CONTROL_CHARACTERS.sub("", str(text))


@public_page
def practice_feed(request):
    version = catalogue_version(request)
    listing = list_practices(request.GET, sort="newest", version=version)
    if not listing.valid:
        message = "These filters are not valid:\n" + "\n".join(
            f"- {error}" for error in listing.errors
        )
        return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
    title = f"{settings.SITE_NAME}: practices"
    if description := listing.description:
        title += f" — {description}"
    feed_id = with_query(
        reverse("opendata:feed"), urlencode(listing.chosen, doseq=True)
    )
    # The list page with the same query string, in the feed's order, from page 1.
    shown = request.GET.copy()
    for name in ("page", "sort"):
        shown.pop(name, None)
    shown["sort"] = "newest"
    scope = "matching these filters" if listing.filters else "in the catalogue"
    feed = Atom1Feed(
        title=xml_text(title),
        subtitle=f"The newest published practices {scope} (up to {FEED_SIZE}), "
        "newest first. Each entry links to the practice's page, with its sources and "
        "attribution line.",
        link=absolute_uri(request, f"{reverse('practices:list')}?{shown.urlencode()}"),
        description=None,
        language=get_language(),
        feed_url=absolute_uri(request, request.get_full_path()),
        feed_guid=absolute_uri(request, feed_id),
        author_name=settings.SITE_NAME,
        author_link=absolute_uri(request, reverse("home")),
        feed_copyright=f"{LICENCE['name']}: {LICENCE['url']}. Each entry carries "
        "the attribution line of its record.",
    )
    # One query for the practices, one for their theme names.
    for practice in attach_card_terms(listing.practices.for_listing()[:FEED_SIZE]):
        url = absolute_uri(request, practice.get_absolute_url())
        # A type="html" summary, escaped: it reads as the plain text it is.
        # Unconfirmed facts say so, or are left out (a category cannot say so), as
        # on the practice's page.
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
    response = HttpResponse(feed.writeString("utf-8"), content_type=feed.content_type)
    # Feed readers read it whatever this says; a browser, which would show the raw
    # XML, saves it under a name that says what it holds. /follow/ explains it.
    disposition = f'attachment; filename="{listing.file_name("atom")}"'
    response["Content-Disposition"] = disposition
    return response
