"""The practice list's results and facet counts, from an in-memory index.

Every facet option shows how many practices the list would hold with that option
ticked too: the count applies all the *other* active filters (values within one
facet combine with OR, so the facet's own selection is left out).

Counting with SQL would cost seven grouped queries over the whole catalogue per
request, and filtering and sorting thousands of rows more. Instead each process
keeps (per thread) a `FacetIndex`: one bitmask (a Python int, bit i = the i-th published
practice) per facet value, and the published practices in each sort order. A count
is a few integer ANDs and a popcount; a page is the first matching positions in the
chosen order. Only the page's rows are then read from the database.

The index is rebuilt when the catalogue version (CatalogueVersion, bumped by every
change, see signals.py) or today's date (publication dates, periods and review
dates move) changes. Its filter semantics are those of PracticeFilterSet, which
tests check result for result.
"""

import threading
from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.core.signals import request_started
from django.db.models import BooleanField, Case, DateField, Expression, F, Value, When
from django.utils import timezone

from .caching import catalogue_version
from .models import (
    Country,
    ImplementationLevel,
    InstrumentType,
    Period,
    Practice,
    Project,
    Region,
    Theme,
    catalogue_changed,
)


class LocalDate(Expression):
    """Today in the site's time zone, read when the query is compiled, so an
    ordering declared once is right on every day (the index is rebuilt daily)."""

    output_field = DateField()

    def as_sql(self, compiler, connection):
        return compiler.compile(Value(timezone.localdate(), output_field=DateField()))


# Freshness ranking: practices past their review date (Practice.is_review_overdue)
# come after the fresh ones (and those with no review date) in the default order
# and among equally relevant search results. The chronological orders (newest,
# start year) stay purely chronological: a reader who picks them asked for that.
OVERDUE_LAST = Case(
    When(review_by__lt=LocalDate(), then=Value(True)),
    default=Value(False),
    output_field=BooleanField(),
).asc()

# The list's sort orders other than relevance (which comes from the search).
SORT_ORDERS = {
    "title": [OVERDUE_LAST, "title", "pk"],
    "newest": ["-published_on", "-pk"],
    "start": [F("start_year").desc(nulls_last=True), "title", "pk"],
}

FACETS = [
    ("country", "Country"),
    ("region", "Region (NUTS)"),
    ("theme", "Theme"),
    ("instrument", "Instrument type"),
    ("project", "Project"),
    ("level", "Implementation level"),
    ("period", "Period"),
]


@dataclass
class Option:
    value: str
    label: str
    count: int
    selected: bool

    @property
    def disabled(self):
        return self.count == 0 and not self.selected


@dataclass
class Facet:
    name: str
    label: str
    options: list = field(default_factory=list)
    clear_url: str = ""

    @property
    def selected(self):
        return [option for option in self.options if option.selected]


def _mask(positions):
    positions = list(positions)
    if not positions:
        return 0
    buffer = bytearray(max(positions) // 8 + 1)
    for position in positions:
        buffer[position >> 3] |= 1 << (position & 7)
    return int.from_bytes(buffer, "little")


def _positions(mask):
    """The set bits of a mask, as a set of positions."""
    digits = bin(mask)[:1:-1]  # least significant first, without "0b"
    return {i for i, digit in enumerate(digits) if digit == "1"}


class FacetIndex:
    """Bitmasks of the published practices for every facet value."""

    def __init__(self, version):
        # Its queries may see different states of the catalogue when a practice
        # is published or unpublished meanwhile: rows of practices that are not
        # in the first query are left out (the version has moved, so the next
        # request builds a new index), never a KeyError.
        self.version = version
        published = Practice.objects.published().with_period()
        rows = list(
            published.order_by("pk").values_list(
                "pk", "level", "project__slug", "period"
            )
        )
        self.ids = [pk for pk, *_ in rows]
        self.position = {pk: i for i, pk in enumerate(self.ids)}
        self.all = (1 << len(rows)) - 1
        positions = {name: defaultdict(list) for name, _ in FACETS}
        for pk, level, project, period in rows:
            i = self.position[pk]
            positions["level"][level].append(i)
            positions["project"][project].append(i)
            positions["period"][period].append(i)
        links = [
            ("country", "countries", "country__code"),
            ("theme", "themes", "theme__slug"),
            ("instrument", "instruments", "instrumenttype__slug"),
            ("region", "regions", "region__code"),
        ]
        for name, relation, column in links:
            through = getattr(Practice, relation).through
            pairs = through.objects.filter(
                practice_id__in=published.values("pk")
            ).values_list("practice_id", column)
            for pk, value in pairs:
                if pk not in self.position:
                    continue  # published since the first query: in the next index
                if name == "region":
                    # A practice in ES212 is also in ES21 and ES2: NUTS codes nest
                    # by prefix, and OR-ing masks counts each practice once.
                    for length in range(3, len(value) + 1):
                        positions[name][value[:length]].append(self.position[pk])
                else:
                    positions[name][value].append(self.position[pk])
        self.masks = {
            name: {value: _mask(found) for value, found in values.items()}
            for name, values in positions.items()
        }
        # Labels too: every save or delete of a term moves the version.
        self.options = _option_rows()
        self.orders = {
            sort: [
                self.position[pk]
                for pk in published.order_by(*ordering).values_list("pk", flat=True)
                if pk in self.position
            ]
            for sort, ordering in SORT_ORDERS.items()
        }

    def mask_of_ids(self, ids):
        return _mask(self.position[pk] for pk in ids if pk in self.position)

    def chosen(self, selections):
        return {
            name: _or(self.masks[name].get(v, 0) for v in values)
            for name, values in selections.items()
        }

    def matching(self, selections, text_mask):
        """The practices every active filter lets through."""
        result = self.all & text_mask
        for mask in self.chosen(selections).values():
            result &= mask
        return result

    def results(self, mask, order):
        """A page-able sequence of practice ids: `order` is a sort key of
        SORT_ORDERS or a list of ids already in order (relevance)."""
        if isinstance(order, str):
            positions = self.orders[order]
        else:
            positions = [self.position[pk] for pk in order if pk in self.position]
        return Results(self, mask, positions)

    def counts(self, selections, text_mask):
        """{facet: {value: count}} given {facet: [selected values]} (non-empty)."""
        chosen = self.chosen(selections)
        result = {}
        for name, _label in FACETS:
            base = self.all & text_mask
            for other, mask in chosen.items():
                if other != name:
                    base &= mask
            result[name] = {
                value: (base & mask).bit_count()
                for value, mask in self.masks[name].items()
            }
        return result


class Results:
    """The ids of the practices in `mask`, in the order of `positions`; what
    Django's Paginator needs (a length and slices), computed lazily."""

    def __init__(self, index, mask, positions):
        self.index, self.mask, self.positions = index, mask, positions

    def __len__(self):
        return self.mask.bit_count()

    def __iter__(self):
        return iter(self[:])

    def __getitem__(self, key):
        if not isinstance(key, slice) or key.step not in (None, 1):
            raise TypeError("Results only support plain slices.")
        start, stop = key.start or 0, key.stop if key.stop is not None else len(self)
        if start < 0 or stop < 0:
            raise ValueError("Results do not support negative indexes.")
        if stop <= start:
            return []
        members, found, page = _positions(self.mask), 0, []
        for position in self.positions:
            if position in members:
                if found >= start:
                    page.append(self.index.ids[position])
                found += 1
                if found >= stop:
                    break
        return page


def _or(masks):
    bits = 0
    for mask in masks:
        bits |= mask
    return bits


_cache = threading.local()  # per thread: an index is never shared while built


def current_index():
    """This thread's index, rebuilt when the catalogue has changed. The version is
    read at most once per request (and again after any change in this process)."""
    index = getattr(_cache, "index", None)
    if index is not None and getattr(_cache, "checked", False):
        return index
    version = (catalogue_version(), timezone.localdate())  # shared with caching.py
    if index is None or index.version != version:
        index = _cache.index = FacetIndex(version)
    _cache.checked = True
    return index


def known_values(facet):
    """The (value, label) choices a facet accepts, from the current index."""
    return current_index().options[facet]


def _look_again(**kwargs):
    _cache.checked = False


request_started.connect(_look_again, dispatch_uid="facet-index-request")
catalogue_changed.connect(_look_again, dispatch_uid="facet-index-change")


def selections_from(cleaned_data):
    """{facet: [selected values]} from a valid filter form, for the index."""
    return {
        name: list(cleaned_data[name])
        for name, _label in FACETS
        if cleaned_data.get(name)
    }


def _option_rows():
    """{facet: [(value, label)]} in display order."""
    return {
        "country": list(Country.objects.values_list("code", "name")),
        "region": [
            (code, f"{name} ({code})")
            for code, name in Region.objects.values_list("code", "name")
        ],
        "theme": list(Theme.objects.values_list("slug", "name")),
        "instrument": list(InstrumentType.objects.values_list("slug", "name")),
        "project": list(Project.objects.values_list("slug", "acronym")),
        "level": ImplementationLevel.choices,
        "period": Period.choices,
    }


def build_facets(index, query_data, selections, text_mask):
    """The facets for the list page, from its query string, the selected values
    (see selections_from) and the mask of practices matching the search."""
    counts = index.counts(selections, text_mask)
    option_rows = index.options
    facets = []
    for name, label in FACETS:
        chosen = set(selections.get(name, []))
        facet = Facet(name, label)
        options = [
            Option(value, text, counts[name].get(value, 0), value in chosen)
            for value, text in option_rows[name]
        ]
        # Selected options first, so a long, scrolling facet always shows them.
        facet.options = sorted(options, key=lambda option: not option.selected)
        kept = [
            (key, value)
            for key, values in query_data.lists()
            if key not in {name, "page"}
            for value in values
        ]
        facet.clear_url = "?" + urlencode(kept)
        facets.append(facet)
    return facets
