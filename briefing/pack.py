"""A briefing pack: the practices of a selection, ready for a meeting. The selection
is a reader's shortlist (`list=<token>`, with their notes), named practices (`p=`,
as a comparison names them) or any list of the catalogue (the list page's query
string, in its order); at most MAX_PRACTICES, and the pack says when it holds
fewer than were selected.

What each practice shows comes from the comparison's criteria
(practices.compare.CRITERIA): the same labels, values and certainty marks on the
pack's page, in its PDF and in its CSV."""

from dataclasses import dataclass, field
from datetime import date

from django.core.validators import slug_re
from django.utils import timezone

from practices import compare
from practices.facts import Certainty
from practices.listing import list_practices
from practices.models import Practice

from . import shortlist

MAX_PRACTICES = 50
# The one-page summary table: a few of the comparison's rows.
SUMMARY = ["Place", "Implementation level", "Instrument types", "Period"]
SUMMARY_AFTER = ["Evidence level", "Budget scale"]
# A practice's section: the comparison's rows as its key facts, but the summary
# (its lead), the long texts (sections of their own) and the sources (by number).
SECTIONS = ["description", "resources", "evidence", "transfer"]
KEY_FACTS = [
    c
    for c in compare.CRITERIA
    if c.fact not in ("summary", *SECTIONS) and c.label != "Sources"
]


def criteria(labels):
    by_label = {criterion.label: criterion for criterion in compare.CRITERIA}
    return [by_label[label] for label in labels]


@dataclass
class Entry:
    practice: Practice
    note: str = ""
    sources: list = field(default_factory=list)  # [(number, source)]
    url: str = ""  # its page's absolute address (the views set it)

    @property
    def key_facts(self):
        """([(label, HTML with its certainty)] of the facts the record states or
        declares unpublished, as the comparison shows them; [labels] of those it
        does not record), so that a page lists the gaps in one line."""
        stated, gaps = [], []
        for criterion in KEY_FACTS:
            if criterion.text(self.practice) == Certainty.NOT_RECORDED.label:
                gaps.append(criterion.label)
            else:
                stated.append((criterion.label, criterion.html(self.practice)))
        return stated, gaps

    @property
    def summary(self):
        """The cells of the pack's summary table."""
        return [c.html(self.practice) for c in criteria(SUMMARY + SUMMARY_AFTER)]


@dataclass
class Pack:
    kind: str  # "shortlist", "named" or "list"
    selection: str  # the selection in words
    entries: list
    total: int  # how many were selected: more than the entries when capped
    errors: list = field(default_factory=list)  # why nothing could be selected
    made_on: date = field(default_factory=timezone.localdate)

    @property
    def valid(self):
        return not self.errors

    @property
    def capped(self):
        return self.total > len(self.entries)

    @property
    def title(self):
        count = len(self.entries)
        return f"Briefing pack: {count} practice{'s' if count != 1 else ''}"

    @property
    def sources(self):
        """[(number, source)], numbered in the order the practices cite them, each
        URL once."""
        numbered = {}
        for entry in self.entries:
            for number, source in entry.sources:
                numbered.setdefault(number, source)
        return sorted(numbered.items())

    @property
    def summary_labels(self):
        return SUMMARY + SUMMARY_AFTER


def of(query, version=None):
    """The pack a query string asks for."""
    if "list" in query:
        return _shortlist(query.get("list", ""))
    if "p" in query:
        return _named(query.getlist("p"))
    return _list(query, version)


def _shortlist(token):
    try:
        items = shortlist.loads(token)
    except shortlist.ShortlistError as error:
        return Pack("shortlist", "", [], 0, errors=[str(error)])
    found, _gone = shortlist.practices(items)
    entries = [Entry(practice, note) for practice, note in found[:MAX_PRACTICES]]
    words = f"a shortlist of {len(found)} practice{'s' if len(found) != 1 else ''}"
    return _numbered(Pack("shortlist", words, entries, len(found)))


def _named(slugs):
    slugs = list(dict.fromkeys(slugs))
    bad = [s[:80] for s in slugs if not slug_re.fullmatch(s)]
    found = (
        Practice.objects.published()
        .for_export()
        .in_bulk([s for s in slugs if s not in bad], field_name="slug")
    )
    unknown = bad + [s[:80] for s in slugs if s not in bad and s not in found]
    if unknown or not slugs:
        errors = [f"No published practice has the address “{s}”." for s in unknown]
        return Pack("named", "", [], 0, errors=errors or ["Name the practices."])
    practices = [found[s] for s in slugs]
    entries = [Entry(practice) for practice in practices[:MAX_PRACTICES]]
    words = "the practices " + ", ".join(p.title for p in practices[:5])
    words += f" and {len(practices) - 5} more" if len(practices) > 5 else ""
    return _numbered(Pack("named", words, entries, len(practices)))


def _list(query, version):
    listing = list_practices(query, version=version)
    if not listing.valid:
        return Pack("list", "", [], 0, errors=listing.errors)
    total = listing.practices.count()
    practices = list(listing.practices.for_export()[:MAX_PRACTICES])
    words = f"the practices with {listing.description}" if listing.filters else ""
    pack = Pack("list", words or "every practice of the catalogue", [], total)
    pack.entries = [Entry(practice) for practice in practices]
    return _numbered(pack)


def _numbered(pack):
    """Number the sources: each URL once, in the order the practices cite them."""
    numbers = {}
    for entry in pack.entries:
        for source in entry.practice.sources.all():
            number = numbers.setdefault(source.url, len(numbers) + 1)
            entry.sources.append((number, source))
    return pack
