"""Ways out of a place with no practices: the nearest places that have some (its
NUTS 1 region, then its country), each with its count of published practices.
NUTS codes nest by prefix (ES212 is in ES21 and ES2), as FacetValue's region
values do. No neighbouring regions: the data holds no borders."""

from collections import Counter
from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.core.cache import caches
from django.db.models import Count, Q

from .models import Country, FacetValue, Practice, Region


@dataclass
class Nearby:
    place: object  # a Region or a Country
    kind: str  # what it is, e.g. "NUTS 1 region" or "country"
    count: int  # its published practices
    practices: object = ()  # a few of them, where a page lists some


class Surroundings:
    """Counts for some regions (with their country selected) and countries, and
    for the places around the regions, in two queries, however large the
    catalogue."""

    def __init__(self, regions=(), countries=()):
        regions = list(regions)
        nuts_1 = {region.code[:3] for region in regions if region.level > 1}
        self.nuts_1 = Region.objects.in_bulk(nuts_1, field_name="code")
        self.countries = {*countries, *(region.country for region in regions)}
        wanted = [("region", region.code) for region in regions]
        wanted += [("region", code) for code in nuts_1]
        wanted += [("country", country.code) for country in self.countries]
        self.counts = published_counts(wanted)

    def count(self, place):
        if isinstance(place, Country):
            return self.counts.get(("country", place.code), 0)
        return self.counts.get(("region", place.code), 0)

    def around(self, region):
        """The places around `region` that have practices, nearest first."""
        places = [(self.nuts_1.get(region.code[:3]), "NUTS 1 region")]
        places.append((region.country, "country"))
        return [
            Nearby(place, kind, self.count(place))
            for place, kind in places
            if place and place != region and self.count(place)
        ]


def published_counts(wanted):
    """{(facet, value): published practices} for FacetValue pairs, in one query."""
    if not wanted:
        return {}
    matching = reduce(or_, (Q(facet=facet, value=value) for facet, value in wanted))
    rows = FacetValue.objects.filter(
        matching, practice__in=Practice.objects.published()
    )
    rows = rows.values_list("facet", "value").annotate(count=Count("practice"))
    return {(facet, value): count for facet, value, count in rows.order_by()}


def empty_places(filters):
    """[(place, [Nearby])] for the regions and countries among the list's
    `filters` (Listing.filters) that have no published practice at all."""
    regions = filters.get("region", [])
    countries = filters.get("country", [])
    if not regions and not countries:
        return []
    regions = Region.objects.filter(code__in=regions).select_related("country")
    countries = Country.objects.filter(code__in=countries)
    surroundings = Surroundings(regions, countries)
    places = [*regions, *countries]
    return [
        (place, surroundings.around(place) if isinstance(place, Region) else [])
        for place in places
        if not surroundings.count(place)
    ]


def regions_with_practices(country):
    """The country's regions that have published practices, each with
    `practice_count`: those of the regions inside it too, as its page lists them."""
    counts = FacetValue.objects.filter(
        facet="region",
        value__startswith=country.nuts_code,  # codes nest by prefix
        practice__in=Practice.objects.published(),
    )
    counts = dict(counts.values_list("value").annotate(Count("practice")).order_by())
    regions = list(Region.objects.filter(code__in=counts).order_by("code"))
    for region in regions:
        region.practice_count = counts[region.code]
    return regions


def facet_regions(options, version):
    """The region facet's options (listing.Option): every NUTS 2021 unit is a valid
    value, but the facet lists those with practices here, each place once: not
    the units folded into the region above them. Selected ones always stay."""
    folded = caches["default"].get_or_set(
        f"folded-regions:{version.token if version else ''}", read_folded_regions
    )
    return [o for o in options if o.selected or (o.count and o.value not in folded)]


def read_folded_regions():
    """Codes of the NUTS 3 units (the facet stops at NUTS 2) and of the units that
    are their parent's only one, the same place twice (BE10 in BE1, CZ080 in
    CZ08): selecting the region above finds their practices too."""
    rows = Region.objects.filter(parent__isnull=False)
    rows = list(rows.values_list("code", "parent_id", "level"))
    units = Counter(parent for _, parent, _ in rows)
    return {code for code, parent, level in rows if level == 3 or units[parent] == 1}
