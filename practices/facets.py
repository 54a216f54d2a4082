"""Facet counts for the practice list.

Every option shows how many practices the list would hold with that option ticked
too: the count applies all the *other* active filters (values within one facet
combine with OR, so the facet's own selection is left out).

Counting with SQL would cost seven grouped queries over the whole catalogue per
request. Instead each process keeps a `FacetIndex`: one bitmask (a Python int, bit
i = the i-th published practice) per facet value. A count is then a few integer
ANDs and a popcount. The index is rebuilt when the catalogue's version changes:
the number of published practices, their latest `updated_at` (bumped on every
change, see signals.py) and today's date (publication dates and periods move).
"""

import threading
from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db.models import Count, Max
from django.utils import timezone

from .models import (
    Country,
    ImplementationLevel,
    InstrumentType,
    Period,
    Practice,
    Project,
    Region,
    Theme,
)
from .search import search

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
    bits = 0
    for position in positions:
        bits |= 1 << position
    return bits


class FacetIndex:
    """Bitmasks of the published practices for every facet value."""

    def __init__(self, version):
        self.version = version
        published = Practice.objects.published().with_period()
        rows = list(
            published.order_by("pk").values_list(
                "pk", "level", "project__slug", "period"
            )
        )
        self.position = {pk: i for i, (pk, *_) in enumerate(rows)}
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

    def mask_of_ids(self, ids):
        return _mask(self.position[pk] for pk in ids if pk in self.position)

    def counts(self, selections, text_mask):
        """{facet: {value: count}} given {facet: [selected values]} (non-empty)."""
        chosen = {
            name: _or(self.masks[name].get(v, 0) for v in values)
            for name, values in selections.items()
        }
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


def _or(masks):
    bits = 0
    for mask in masks:
        bits |= mask
    return bits


_cache = threading.local()


def current_index():
    """This process's index, rebuilt when the catalogue has changed."""
    state = Practice.objects.published().aggregate(
        count=Count("pk"), latest=Max("updated_at")
    )
    version = (state["count"], state["latest"], timezone.localdate())
    index = getattr(_cache, "index", None)
    if index is None or index.version != version:
        index = _cache.index = FacetIndex(version)
    return index


def selections_from(cleaned_data):
    """The facet values a valid filter form selected, as index keys."""
    keys = {
        "country": "code",
        "region": "code",
        "theme": "slug",
        "instrument": "slug",
        "project": "slug",
    }
    selections = {}
    for name, _label in FACETS:
        values = cleaned_data.get(name) or []
        if name in keys:
            values = [getattr(v, keys[name]) for v in values]
        if values:
            selections[name] = list(values)
    return selections


def build_facets(query_data, cleaned_data):
    """The facets for the list page, from its query string and valid form data."""
    index = current_index()
    text = (cleaned_data.get("q") or "").strip()
    text_mask = index.all
    if text:
        ids = search(Practice.objects.published(), text).values_list("pk", flat=True)
        text_mask = index.mask_of_ids(ids)
    selections = selections_from(cleaned_data)
    counts = index.counts(selections, text_mask)
    option_rows = {
        "country": Country.objects.values_list("code", "name"),
        "region": [
            (code, f"{name} ({code})")
            for code, name in Region.objects.values_list("code", "name")
        ],
        "theme": Theme.objects.values_list("slug", "name"),
        "instrument": InstrumentType.objects.values_list("slug", "name"),
        "project": Project.objects.values_list("slug", "acronym"),
        "level": ImplementationLevel.choices,
        "period": Period.choices,
    }
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
