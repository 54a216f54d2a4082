"""Which practices a list query string selects, in which order, and the facet
counts beside them.

One code path for every surface that takes the list page's filters: the HTML list,
the CSV and JSON exports and the Atom feed. So an export or a feed holds exactly
the practices the list shows for the same query string, by construction. Results
and counts are database queries over PracticeFilterSet's querysets, so a request
sees one state of the catalogue, whatever curators do meanwhile.
"""

import re
from dataclasses import dataclass
from functools import cached_property
from itertools import groupby
from operator import attrgetter
from unicodedata import normalize
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.db.models import Case, Count, F, Value, When
from django.http import QueryDict
from django.utils import timezone
from django.utils.text import Truncator, slugify

from . import facts
from .filters import TERMS, PracticeFilterSet
from .models import REVIEW_OVERDUE, FacetValue, Practice, Region
from .places import facet_regions

# Freshness ranking: practices past their review date (Practice.is_review_overdue)
# come after the fresh ones (and those with no review date) in the default order
# and among equally relevant search results. The chronological orders (newest,
# start year) stay purely chronological: a reader who picks them asked for that.
OVERDUE_LAST = Case(
    When(REVIEW_OVERDUE, then=Value(True)),
    default=Value(False),
).asc()

SORT_LABELS = {
    "relevance": "Relevance",
    "title": "Title (A–Z)",
    "newest": "Newest in the catalogue",
    "start": "Start year (latest first)",
    "evidence": "Strongest evidence first",
}
SORT_ORDERS = {
    "relevance": [F("rank").desc(), OVERDUE_LAST, "title", "pk"],
    "title": [OVERDUE_LAST, "title", "pk"],
    "newest": ["-published_on", "-pk"],
    "start": [F("start_year").desc(nulls_last=True), "title", "pk"],
    # The evidence level (evidence.Grade), practices not graded yet last.
    "evidence": [F("grade__level").desc(nulls_last=True), OVERDUE_LAST, "title", "pk"],
}

FILE_PREFIX = slugify(settings.SITE_NAME)  # what every download's name starts with
FACETS = [
    "country",
    "region",
    "theme",
    "instrument",
    "project",
    "level",
    "period",
    "evidence",
]
# A facet with more options than LONG_FACET shows its first SHOWN_OPTIONS that
# select something (and every selected one), the rest behind "Show all N".
LONG_FACET, SHOWN_OPTIONS = 10, 8
GROUP = attrgetter("group")


@dataclass
class Option:
    value: str
    label: str
    count: int
    selected: bool
    group: str = ""  # in the region facet, its country (places.facet_regions)

    @property
    def disabled(self):
        return self.count == 0 and not self.selected


@dataclass
class Facet:
    name: str
    label: str
    options: list
    clear_url: str

    @property
    def selected(self):
        return [option for option in self.options if option.selected]

    @property
    def shown(self):
        """The options in view at once; the rest (`more`) behind "Show all N".
        A long facet shows no option that would select nothing (they come last)."""
        if len(self.options) <= LONG_FACET:
            return self.options
        if self.options[0].group:  # whole groups, up to SHOWN_OPTIONS options
            shown = []
            for _, group in self.groups(self.options):
                if len(shown) >= SHOWN_OPTIONS and not group[0].selected:
                    break  # (a group's selected options come first)
                shown += group
            return shown
        first = self.options[: max(SHOWN_OPTIONS, len(self.selected))]
        return [option for option in first if not option.disabled]

    @property
    def more(self):
        return self.options[len(self.shown) :]

    @staticmethod
    def groups(options):
        """[(group, [options])] of consecutive options, e.g. a country's regions."""
        return [(name, list(group)) for name, group in groupby(options, GROUP)]


@dataclass
class Chip:
    """One value of a filter in effect, and the list without it."""

    label: str  # "Country: Italy"
    remove_url: str


@dataclass
class Listing:
    filterset: PracticeFilterSet
    query: str = ""  # the validated search text
    sort: str = "title"  # a key of SORT_LABELS
    # How many practices it selects, once facets() has counted them: every
    # practice is in exactly one period, so the period counts add up to it.
    total: int | None = None

    @property
    def valid(self):
        return not self.filterset.is_bound or self.filterset.is_valid()

    @property
    def errors(self):
        """["Label: message", ...] for each invalid filter value."""
        return [
            f"{bound.label}: {error}"
            for bound in self.filterset.form
            for error in bound.errors
        ]

    @property
    def filters(self):
        """{name: value(s)} of the filters in effect (validated, non-empty)."""
        if not self.filterset.is_valid():  # unbound, or a wrong value
            return {}
        return {
            name: value
            for name, value in self.filterset.form.cleaned_data.items()
            if value not in (None, "", [])
        }

    @cached_property
    def practices(self):
        """The selected published practices, in the chosen order."""
        if not self.valid:
            return Practice.objects.none()
        return self.filterset.qs.order_by(*SORT_ORDERS[self.sort])

    @property
    def ids(self):
        return self.practices.values_list("pk", flat=True)

    def labels(self, name):
        """{value: label} of a filter's options."""
        return dict(self.filterset.form.fields[name].choices)

    @property
    def chosen(self):
        """The filters in effect, in the form's order, as (name, [values]) with
        each filter's values sorted: the same selection always reads the same."""
        return [
            (name, sorted(value) if isinstance(value, list) else [value])
            for name, value in self.filters.items()
        ]

    @property
    def description(self):
        """The filters in effect in words, e.g. "Country: Italy; Theme: New
        markets; search “vouchers”" ("" when there are none)."""
        return "; ".join(
            f"search “{values[0]}”"
            if name == "q"
            else f"{self.filterset.filters[name].label}: "
            + ", ".join(self.value_labels(name, values))
            for name, values in self.chosen
        )

    @property
    def heading(self):
        """The selection in a few words, for the page's heading and title:
        "Practices: Voucher · Italy", "Search: “export” · Italy" or "Practices".
        Several values of one filter read "or", as they select."""
        parts, query = [], ""
        for name, values in self.chosen:
            if name == "q":
                query = f"“{Truncator(values[0]).chars(60)}”"
            else:
                parts.append(" or ".join(self.value_labels(name, values)))
        if query:
            return "Search: " + " · ".join([query, *parts])
        return "Practices: " + " · ".join(parts) if parts else "Practices"

    def chips(self):
        """A Chip for each value of each filter in effect, in the form's order."""
        return [
            Chip(
                f"{self.filterset.filters[name].label}: {label}",
                query_without(
                    self.query_data, name, value=value if name != "q" else None
                ),
            )
            for name, values in self.chosen
            for value, label in zip(
                values, self.value_labels(name, values), strict=True
            )
        ]

    @property
    def clear_url(self):
        """The list without any filter (the sort and page size kept)."""
        return query_without(self.query_data, *self.filterset.filters)

    @property
    def query_data(self):
        """The query string as the filters read it (codes in capitals)."""
        return self.filterset.data or QueryDict()

    def value_labels(self, name, values):
        """The labels of a filter's values, as its options show them."""
        if name == "q":
            return values
        if name == "like":  # a region's code: its name
            names = {r.code: r.label for r in Region.objects.filter(code__in=values)}
            return [names.get(value, value) for value in values]
        labels = self.labels(name)
        return [str(labels.get(value, value)) for value in values]

    def file_name(self, extension):
        """A download's name that says what it holds and when, e.g.
        practice-atlas_IT_voucher_2026-12-06.csv (the filters' values, shortened)."""
        values = [str(value) for name, values in self.chosen for value in values]
        # ASCII letters (accents dropped: Zürich, Zurich), digits and dashes.
        plain = [
            normalize("NFKD", v).encode("ascii", "ignore").decode() for v in values
        ]
        words = [re.sub(r"[^A-Za-z0-9]+", "-", value).strip("-") for value in plain]
        selection = "_".join(word for word in words if word)
        parts = [FILE_PREFIX, selection[:80].strip("_-"), str(timezone.localdate())]
        return f"{'_'.join(part for part in parts if part)}.{extension}"

    def facets(self, query_data, version=None):
        """The list's facets: every option of each filter, with how many practices
        the list would hold with it ticked too (the *other* filters applied).
        Without filters, the catalogue's own counts for its `version`."""
        chosen = self.filters
        active = [name for name in FACETS if name in chosen]
        if chosen or version is None:
            counts = facet_counts(self.filterset, active)
        else:
            counts = catalogue_counts(version)
        periods = set(chosen.get("period", []))
        self.total = sum(
            count
            for (name, value), count in counts.items()
            if name == "period" and (not periods or value in periods)
        )
        facets = []
        for name in FACETS:
            selected = set(chosen.get(name, []))
            options = [
                Option(value, label, count, value in selected)
                for value, label in self.filterset.choices(name)
                # A region with none here is never shown unless selected
                # (facet_regions): no option made for it.
                if (count := counts.get((name, value), 0))
                or value in selected
                or name != "region"
            ]
            if name == "region":  # of ~1,800 units, those with practices here
                options = facet_regions(options, version)  # grouped by country
            else:
                # Selected options first, so a long facet always shows them; then
                # the most practices first, so the options with none come last.
                options.sort(key=lambda option: (not option.selected, -option.count))
            label = self.filterset.filters[name].label
            facets.append(Facet(name, label, options, query_without(query_data, name)))
        return facets


def query_without(query_data, *names, value=None):
    """ "?…": the query string without the filters `names` (only their `value`, if
    given) and without the page number, which would no longer point anywhere."""
    kept = [
        (key, kept_value)
        for key, values in query_data.lists()
        if key != "page"
        for kept_value in values
        if key not in names or (value is not None and kept_value != value)
    ]
    return "?" + urlencode(kept)


def kept_for(version, name, compute):
    """What compute() gives for the published catalogue, the same for every reader
    until it changes: kept for its version (CatalogueVersion.current()) and the day
    (published() depends on it). The commit that changes the catalogue computes
    the list's counts and the pages' holdings (signals.py), not a reader; what
    only robots read (the sitemap's dates) the first request after it."""
    key = f"{name}:{version.token}:{timezone.localdate()}"
    return cache.get_or_set(key, compute)


def catalogue_counts(version):
    """The list's unfiltered facet counts."""

    def count():
        published = Practice.objects.published()
        return facet_counts(PracticeFilterSet(queryset=published, version=version), [])

    return kept_for(version, "facet-counts", count)


def catalogue_holdings(version):
    """What the home and data pages count (facts.holdings)."""
    return kept_for(
        version, "holdings", lambda: facts.holdings(Practice.objects.published())
    )


# The list's facet of each taxonomy, and the field its values are (filters.TERMS).
TERM_FACETS = {model: (name, field) for name, (model, field, _) in TERMS.items()}


def with_catalogue_counts(terms, version):
    """These countries, themes or instrument types (one model), each with
    `practice_count`, its published practices: the list's unfiltered counts for
    `version` (catalogue_counts), so no other page counts them again."""
    terms = list(terms)
    if terms:
        facet, field = TERM_FACETS[type(terms[0])]
        counts = catalogue_counts(version)
        for term in terms:
            term.practice_count = counts.get((facet, getattr(term, field)), 0)
    return terms


def facet_counts(filterset, active):
    """{(facet, value): practices} in one query. Each facet counts over the
    practices every *other* filter selects, so the practices are grouped once per
    facet in effect (`active`) and once for all the other facets together."""
    groups = {None: [name for name in FACETS if name not in active]}
    groups.update((name, [name]) for name in active)
    parts = []
    for excluded, names in groups.items():
        base = filterset.filter_queryset_without(excluded).order_by()
        if "period" in names:
            periods = base.with_period().values(
                facet=Value("period"), value=F("period")
            )
            periods = periods.annotate(count=Count("pk"))
            parts.append(periods.values_list("facet", "value", "count"))
        if names := [name for name in names if name != "period"]:
            values = FacetValue.objects.filter(practice__in=base.values("pk"))
            values = values.filter(facet__in=names).values_list("facet", "value")
            parts.append(values.annotate(count=Count("*")))
    return {
        (name, value): count
        # order_by(): a union would otherwise take Practice's Meta.ordering.
        for name, value, count in parts[0].union(*parts[1:], all=True).order_by()
    }


def list_practices(data, sort=None, version=None):
    """The published practices the list's query string `data` (a QueryDict)
    selects. `sort` overrides the query string's own `sort`; an unknown one (or
    relevance without a search) gives the default."""
    filterset = PracticeFilterSet(
        data or None, queryset=Practice.objects.published(), version=version
    )
    listing = Listing(filterset=filterset)
    if listing.valid:
        listing.query = listing.filters.get("q", "").strip()
        wanted = sort or (data.get("sort", "") if data else "")
        if wanted in SORT_LABELS and (wanted != "relevance" or listing.query):
            listing.sort = wanted
        elif listing.query:
            listing.sort = "relevance"
    return listing
