from functools import partial

import django_filters
from django import forms
from django.db.models import Q

from .facets import known_values
from .models import ImplementationLevel, Period, Practice
from .search import search


class PracticeFilterSet(django_filters.FilterSet):
    """The list page's filters. Several values of one filter mean OR; different
    filters combine with AND. Invalid values make the set invalid (strict)."""

    q = django_filters.CharFilter(
        method="filter_text",
        label="Search",
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    # Known codes and slugs come from the list's in-memory index (kept current by
    # the catalogue version), so checking them costs no query.
    country = django_filters.MultipleChoiceFilter(
        field_name="countries__code",
        choices=partial(known_values, "country"),
        label="Country",
    )
    region = django_filters.MultipleChoiceFilter(
        choices=partial(known_values, "region"),
        method="filter_region",
        label="Region (NUTS)",
    )
    theme = django_filters.MultipleChoiceFilter(
        field_name="themes__slug", choices=partial(known_values, "theme"), label="Theme"
    )
    instrument = django_filters.MultipleChoiceFilter(
        field_name="instruments__slug",
        choices=partial(known_values, "instrument"),
        label="Instrument type",
    )
    project = django_filters.MultipleChoiceFilter(
        field_name="project__slug",
        choices=partial(known_values, "project"),
        label="Project",
    )
    level = django_filters.MultipleChoiceFilter(
        choices=ImplementationLevel.choices, label="Implementation level"
    )
    period = django_filters.MultipleChoiceFilter(
        choices=Period.choices, method="filter_period", label="Period"
    )

    class Meta:
        model = Practice
        fields = []  # every filter is declared above

    def __init__(self, data=None, *args, **kwargs):
        if data is not None:
            data = data.copy()
            for name, values in data.lists():
                # NUL bytes can never match and PostgreSQL refuses them in queries.
                values = [v.replace("\x00", "") for v in values]
                if name in ("country", "region"):  # codes in either case
                    values = [v.upper() for v in values]
                data.setlist(name, values)
        super().__init__(data, *args, **kwargs)

    def filter_text(self, queryset, name, value):
        return search(queryset, value) if value.strip() else queryset

    def filter_region(self, queryset, name, regions):
        """A region also matches the practices of the regions inside it: NUTS
        codes nest by prefix (ES2 > ES21 > ES212)."""
        if not regions:
            return queryset
        match = Q()
        for code in regions:
            match |= Q(regions__code__startswith=code)
        return queryset.filter(pk__in=Practice.objects.filter(match).values("pk"))

    def filter_period(self, queryset, name, periods):
        if not periods:
            return queryset
        return queryset.filter(
            pk__in=Practice.objects.with_period()
            .filter(period__in=periods)
            .values("pk")
        )
