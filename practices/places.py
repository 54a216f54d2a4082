"""Places people can find: the region facet, grouped by country (facet_regions);
regions named in a search (regions_named); and ways out of a place with no
practices: the nearest places that have some (its NUTS 1 region, then its
country), each with its count of published practices.
NUTS codes nest by prefix (ES212 is in ES21 and ES2), as FacetValue's region
values do. No neighbouring regions: the data holds no borders."""

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.core.cache import caches
from django.db.models import Count, Q

from .models import CatalogueVersion, Country, FacetValue, Practice, Region
from .search import fold


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
    `practice_count` (those of the regions inside it too, as its page lists them)
    and `inside`, the listed regions within it: a tree, its top level returned."""
    counts = FacetValue.objects.filter(
        facet="region",
        value__startswith=country.nuts_code,  # codes nest by prefix
        practice__in=Practice.objects.published(),
    )
    counts = dict(counts.values_list("value").annotate(Count("practice")).order_by())
    regions = list(Region.objects.filter(code__in=counts).order_by("code"))
    by_code, top = {}, []
    for region in regions:  # by code, so a region comes after the one it lies in
        region.practice_count, region.inside = counts[region.code], []
        # Its parent's code is its own less the last mark, and is listed: a
        # practice of a region is counted in every region above it (FacetValue).
        parent = by_code.get(region.code[:-1]) if region.level > 1 else None
        (parent.inside if parent else top).append(region)
        by_code[region.code] = region
    return top


def facet_regions(options, version):
    """The region facet's options (listing.Option), grouped by country: every NUTS
    2021 unit is a valid value, but the facet lists those with practices here, each
    place once, down to NUTS 2 (not the units folded into another: read_places).
    Selected ones always stay. Countries with a selected region come first, then
    those with the most practices; in each, the same order for its regions."""
    places = caches["default"].get_or_set(
        f"region-places:{version.token if version else ''}", read_places
    )
    options = [
        option
        for option in options
        if option.selected or (option.count and option.value not in places.folded)
    ]
    groups = defaultdict(list)
    for option in options:
        option.group = places.countries.get(option.value[:2], "")
        groups[option.group].append(option)
    for group in groups.values():
        group.sort(key=lambda o: (not o.selected, -o.count, o.label))
    ordered = sorted(
        groups.items(),
        key=lambda item: (
            not any(option.selected for option in item[1]),
            -sum(option.count for option in item[1]),
            item[0],
        ),
    )
    return [option for _, group in ordered for option in group]


@dataclass
class Places:
    folded: set  # codes the region facet leaves out
    countries: dict  # {NUTS country prefix: country name}


def read_places():
    """What the region facet needs besides its counts. Left out, as the option of
    a region above or inside them finds their practices too: the NUTS 3 units
    (the facet stops at NUTS 2); a unit that is its parent's only one, the same
    place twice (BE10 in BE1, CZ080 in CZ08); and a NUTS 1 unit of several NUTS 2
    regions (Nord-Est, Noreste) unless a practice names it itself (Hessen)."""
    rows = list(Region.objects.values_list("pk", "code", "parent_id", "level"))
    units = Counter(parent for _, _, parent, _ in rows)
    links = Practice.regions.through.objects.filter(region__level=1)
    named = set(links.values_list("region_id", flat=True).distinct())
    folded = {
        code
        for pk, code, parent, level in rows
        if level == 3
        or (parent and units[parent] == 1)
        or (level == 1 and units[pk] > 1 and pk not in named)
    }
    countries = dict(Country.objects.values_list("nuts_code", "name"))
    return Places(folded, countries)


def regions_named(text, version=None):
    """The NUTS regions that `text` names, in English or in their NUTS name, as a
    whole ("Lower Saxony", "niedersachsen", "Emilia Romagna"; case, accents,
    punctuation and a qualifier such as "(NL)" ignored): of a unit and the one
    inside it with the same name (Algarve, PT15 and PT150), the broader one."""
    key = name_key(text)
    if not key:
        return []
    version = version or CatalogueVersion.current()
    names = caches["default"].get_or_set(
        f"region-names:{version.token if version else ''}", read_region_names
    )
    codes = names.get(key, [])
    codes = [c for c in codes if not any(c.startswith(o) for o in codes if o != c)]
    return list(Region.objects.filter(code__in=codes).select_related("country"))


def read_region_names():
    """{name_key(name): [codes]} for every region's English and NUTS names, and
    for each part of a NUTS name in two languages ("Bruxelles/Brussel")."""
    names = defaultdict(list)
    for code, *forms in Region.objects.values_list("code", "name", "name_en"):
        for part in {part for form in forms for part in [form, *form.split("/")]}:
            if (key := name_key(part)) and code not in names[key]:
                names[key].append(code)
    return dict(names)


def name_key(text):
    """A place name as compared: folded, without a qualifier in brackets, words
    only ("Friesland (NL)" and "friesland" match; so do "Emilia-Romagna" and
    "Emilia Romagna")."""
    text = re.sub(r"\([^)]*\)", " ", fold(text))
    return " ".join(re.findall(r"\w+", text))


def named_regions(text, version=None):
    """[(Nearby, [Nearby])]: the regions that a search `text` names
    (regions_named), each with its published practices counted and, for one
    without any, the nearest places that have some."""
    regions = regions_named(text, version)
    if not regions:
        return []
    surroundings = Surroundings(regions)
    return [
        (
            Nearby(region, f"NUTS {region.level} region", surroundings.count(region)),
            surroundings.around(region),
        )
        for region in regions
    ]
