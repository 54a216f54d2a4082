import django_filters
from django import forms
from django.db.models import Q

from .models import (
    Country,
    ImplementationLevel,
    InstrumentType,
    Practice,
    Project,
    Region,
    Theme,
)

# Fields the text search looks in (issue 4 replaces this with full-text search).
TEXT_SEARCH_FIELDS = [
    "title",
    "summary",
    "description",
    "evidence",
    "transfer",
    "institution",
    "city",
    "countries__name",
    "regions__name",
    "themes__name",
    "instruments__name",
]


class PracticeFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_text",
        label="Search",
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    country = django_filters.ModelMultipleChoiceFilter(
        field_name="countries__code",
        to_field_name="code",
        queryset=Country.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        label="Country",
    )
    region = django_filters.ModelMultipleChoiceFilter(
        to_field_name="code",
        queryset=Region.objects.all(),
        method="filter_region",
        label="Region (NUTS)",
    )
    theme = django_filters.ModelMultipleChoiceFilter(
        field_name="themes__slug",
        to_field_name="slug",
        queryset=Theme.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        label="Theme",
    )
    instrument = django_filters.ModelMultipleChoiceFilter(
        field_name="instruments__slug",
        to_field_name="slug",
        queryset=InstrumentType.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        label="Instrument type",
    )
    project = django_filters.ModelChoiceFilter(
        field_name="project",
        to_field_name="slug",
        queryset=Project.objects.all(),
        empty_label="Any project",
        label="Project",
    )
    level = django_filters.ChoiceFilter(
        choices=ImplementationLevel.choices,
        empty_label="Any level",
        label="Implementation level",
    )

    class Meta:
        model = Practice
        fields = []  # every filter is declared above

    def __init__(self, data=None, *args, **kwargs):
        # Country and NUTS codes are accepted in either case.
        if data is not None:
            data = data.copy()
            for name in ("country", "region"):
                if name in data:
                    data.setlist(name, [v.upper() for v in data.getlist(name)])
        super().__init__(data, *args, **kwargs)

    def filter_text(self, queryset, name, value):
        """Every word must appear somewhere in the record (case-insensitive)."""
        for term in value.split():
            match = Q()
            for field in TEXT_SEARCH_FIELDS:
                match |= Q(**{f"{field}__icontains": term})
            queryset = queryset.filter(
                pk__in=Practice.objects.filter(match).values("pk")
            )
        return queryset

    def filter_region(self, queryset, name, regions):
        """A region also matches the practices of the regions inside it: NUTS
        codes nest by prefix (ES2 > ES21 > ES212)."""
        if not regions:
            return queryset
        match = Q()
        for region in regions:
            match |= Q(regions__code__startswith=region.code)
        return queryset.filter(pk__in=Practice.objects.filter(match).values("pk"))
