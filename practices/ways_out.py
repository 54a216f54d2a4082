"""Ways out of an empty list: links to the list with one thing changed, each with
the number of practices it would show.

- Without one filter in effect, without the search, or without one word of it.
- Filter values named like the words searched ("Voucher (instrument type)"),
  selected instead of the search and of that filter's other values, the other
  filters kept.

Every count is taken over PracticeFilterSet's own querysets, so it is what the
list at that link shows, and all of them in one query, however large the
catalogue. Values are found by MATCHERS: functions of the Listing and the folded
words searched that return (filter, value, label) for filters FacetValue counts;
a matcher of place names (practices/places.py) can join them.
"""

import re
from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import Count, Value
from django.utils.text import Truncator

from .listing import query_without
from .models import FacetValue
from .search import fold, query_terms, stem

MATCHED_FACETS = ["theme", "instrument", "country", "level"]
MIN_LENGTH = 4  # shorter words ("and", "for") name no filter value here
MAX_WORDS = 5  # a longer search is offered without it as a whole only
MAX_VALUES = 6


@dataclass
class WayOut:
    label: str  # "Without Country: Italy", "Voucher (instrument type)"
    url: str  # "?…": the list with that change
    count: int  # the practices it shows


@dataclass
class WaysOut:
    drops: list  # [WayOut] with one filter or word less, the fewest practices first
    values: list  # [WayOut] of filter values named like the search, the most first


def term_values(listing, words):
    """(filter, value, label) of the theme, instrument type, country and level
    options with a word in their name that starts like one of `words`, stemmed
    as the search's snippets are ("vouchers": "Voucher", "exporters":
    "First steps for non-exporters")."""
    stems = [stem(word) for word in words if len(word) >= MIN_LENGTH]
    return [
        (name, value, str(label))
        for name in MATCHED_FACETS
        for value, label in listing.filterset.form.fields[name].choices
        if any(
            w.startswith(s) for w in re.findall(r"\w+", fold(str(label))) for s in stems
        )
    ]


MATCHERS = [term_values]


def ways_out(listing):
    """The WaysOut of a valid, empty listing: those that show practices."""
    filterset, data, query = listing.filterset, listing.query_data, listing.query
    drops = {}  # (kind, key): (label, url, practices counted)
    wanted, excluded = query_terms(query)
    if 1 < len(wanted) <= MAX_WORDS and not excluded:
        without_search = filterset.filter_queryset_without("q")
        for word in wanted:
            rest = " ".join(w for w in wanted if w != word)
            drops["search", rest] = (
                f"Without “{word}”: search “{rest}”",
                with_value(data, ["q"], "q", rest),
                filterset.filters["q"].filter(without_search, rest),
            )
    for name, values in listing.chosen:
        what = (
            f"the search “{Truncator(query).chars(60)}”"
            if name == "q"
            else f"{filterset.filters[name].label}: "
            + " or ".join(listing.value_labels(name, values))
        )
        drops["drop", name] = (
            f"Without {what}",
            query_without(data, name),
            filterset.filter_queryset_without(name),
        )
    values = {}  # (filter, value): (label, url)
    for matcher in MATCHERS:
        for name, value, label in matcher(listing, wanted):
            if value not in listing.filters.get(name, []):
                kind = filterset.filters[name].label.split(" (")[0].lower()
                url = with_value(data, ["q", name], name, value)
                values[name, value] = (f"{label} ({kind})", url)
    counts = count_practices(filterset, drops, values)
    drops = [WayOut(*way[:2], counts.get(key, 0)) for key, way in drops.items()]
    values = [WayOut(*way, counts.get(key, 0)) for key, way in values.items()]
    return WaysOut(
        drops=sorted((way for way in drops if way.count), key=lambda w: w.count),
        values=sorted((way for way in values if way.count), key=lambda w: -w.count)[
            :MAX_VALUES
        ],
    )


def count_practices(filterset, drops, values):
    """{key: practices} of the `drops` and `values` of ways_out, in one query:
    a value's practices are those the filters select without the search and
    without its own filter (FacetValue rows, as the facets count them)."""
    parts = [
        practices.order_by()
        .values(kind=Value(kind), key=Value(key))
        .annotate(count=Count("pk"))
        .values_list("kind", "key", "count")
        for (kind, key), (_, _, practices) in drops.items()
    ]
    for name in dict.fromkeys(name for name, _ in values):
        rows = FacetValue.objects.filter(
            facet=name,
            value__in=[value for facet, value in values if facet == name],
            practice__in=filterset.filter_queryset_without("q", name).values("pk"),
        )
        parts.append(rows.values_list("facet", "value").annotate(count=Count("*")))
    if not parts:
        return {}
    rows = parts[0].union(*parts[1:], all=True).order_by()
    return {(kind, key): number for kind, key, number in rows}


def with_value(query_data, removed, name, value):
    """ "?…": the query string without the filters `removed` (and the page), with
    `name`=`value` added."""
    kept = query_without(query_data, *removed)
    return kept + ("&" if len(kept) > 1 else "") + urlencode([(name, value)])
