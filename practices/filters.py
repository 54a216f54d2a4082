from functools import cache, partial

import django_filters
from django import forms
from django.core.cache import caches
from django.db.models import F, Value
from django.utils.text import capfirst

from evidence.models import level_choices

from .models import (
    CatalogueVersion,
    Country,
    ImplementationLevel,
    InstrumentType,
    Period,
    Practice,
    Project,
    Region,
    Theme,
    region_label,
)
from .search import search

# The values each term filter accepts, with their labels: the same rows validate
# the query string and label the list's facet options.
TERMS = {
    "country": (Country, "code", "name"),
    "region": (Region, "code", region_label()),  # "Lower Saxony (Niedersachsen)"
    "theme": (Theme, "slug", "name"),
    "instrument": (InstrumentType, "slug", "name"),
    "project": (Project, "slug", "acronym"),
}


def term_choices(version):
    """{filter: [(value, label)]} in each model's order, read in one query and kept
    for the catalogue `version`: every change to a term bumps it (signals.py)."""
    key = f"term-choices:{version.token if version else ''}"
    return caches["default"].get_or_set(key, read_term_choices)


def read_term_choices():
    parts = [
        model.objects.order_by().values(
            facet=Value(name),
            value=F(value),
            label=F(label) if isinstance(label, str) else label,
            sort=F(model._meta.ordering[0]),  # each model's own order
        )
        for name, (model, value, label) in TERMS.items()
    ]
    choices = {name: [] for name in TERMS}
    for row in parts[0].union(*parts[1:], all=True).order_by("sort"):
        choices[row["facet"]].append((row["value"], row["label"]))
    return choices


def term_filter(name, label=None):
    """A filter on one of TERMS, labelled by its model's verbose name."""
    label = label or capfirst(TERMS[name][0]._meta.verbose_name)
    return django_filters.MultipleChoiceFilter(label=label, method="filter_facet")


def validate_like(code, version=None):
    from indicators.peers import peer_codes

    if not peer_codes(code, version):
        raise forms.ValidationError(
            f"{code} is not a NUTS 2 region with enough Eurostat figures to find "
            "regions like it: use a NUTS 2 code such as DE92.",
            code="invalid_choice",
        )


class PracticeFilterSet(django_filters.FilterSet):
    """The one definition of the list's filters, used by the list and its facet
    counts, the exports and the feed. Several values of one filter mean OR;
    different filters combine with AND. Invalid values make the set invalid
    (strict). Each filter's name is the facet it counts (FacetValue)."""

    q = django_filters.CharFilter(
        method="filter_text",
        label="Search",
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    country = term_filter("country")
    region = term_filter("region", "Region")
    theme = term_filter("theme")
    instrument = term_filter("instrument")
    project = term_filter("project")
    level = django_filters.MultipleChoiceFilter(
        choices=ImplementationLevel.choices,
        label=Practice.field_label("level"),
        distinct=False,  # a column of the practice: no join to repeat rows
    )
    period = django_filters.MultipleChoiceFilter(
        choices=Period.choices, method="filter_period", label="Period"
    )
    evidence = django_filters.MultipleChoiceFilter(
        choices=level_choices, method="filter_facet", label="Evidence level"
    )
    # Practices in the regions most like a NUTS 2 region (indicators.peers).
    like = django_filters.CharFilter(
        method="filter_like",
        label="In regions like",
        max_length=5,
    )

    class Meta:
        model = Practice
        fields = []  # every filter is declared above

    def __init__(self, data=None, *args, version=None, **kwargs):
        if data is not None:
            data = data.copy()
            for name, values in data.lists():
                # NUL bytes can never match and PostgreSQL refuses them in queries.
                values = [v.replace("\x00", "") for v in values]
                if name in ("country", "region", "like"):  # codes in either case
                    values = [v.upper() for v in values]
                data.setlist(name, values)
        super().__init__(data, *args, **kwargs)
        # Read at most once, and only when a term filter has values or the
        # facets are shown.
        choices = cache(lambda: term_choices(version or CatalogueVersion.current()))
        for name in TERMS:
            self.filters[name].extra["choices"] = partial(lambda n: choices()[n], name)
        self.version = version
        self.filters["like"].extra["validators"] = [
            partial(validate_like, version=version)
        ]

    def choices(self, name):
        """A filter's (value, label) pairs: the terms' straight from what is kept
        for the catalogue version, as the form field would normalise all ~1,800
        regions again at each read."""
        choices = self.filters[name].extra.get("choices")
        return choices() if callable(choices) else self.form.fields[name].choices

    def filter_text(self, queryset, name, value):
        return search(queryset, value) if value.strip() else queryset

    def filter_facet(self, queryset, name, values):
        # A subquery on FacetValue, so a practice with two of the values is listed
        # once.
        return queryset.found_by(name, values)

    def filter_like(self, queryset, name, code):
        from indicators.peers import peer_codes  # it reads the list's helpers

        return queryset.found_by("region", peer_codes(code, self.version))

    def filter_period(self, queryset, name, periods):
        matching = Practice.objects.with_period().filter(period__in=periods)
        return queryset.filter(pk__in=matching.values("pk"))

    def filter_queryset_without(self, *excluded):
        """The queryset with every valid filter applied except those `excluded`:
        what a facet's counts are taken over (its own values combine with OR)."""
        queryset = self.queryset
        if not self.is_bound:
            return queryset
        for name, value in self.form.cleaned_data.items():
            if name not in excluded:
                queryset = self.filters[name].filter(queryset, value)
        return queryset
