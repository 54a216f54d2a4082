"""Regions like mine: for a NUTS 2 region, the EU NUTS 2 regions whose figures are
closest, on indicators standardised over the EU's NUTS 2 regions (z-scores), with
what separates them in words. /regions/how-peers-are-found/ explains the method;
this module is its one definition."""

import math
from dataclasses import dataclass
from statistics import fmean, pstdev

from django.db.models import Count

from practices.listing import kept_for
from practices.models import CatalogueVersion, FacetValue, Practice, Region

from .models import INDICATORS, IndicatorValue


@dataclass(frozen=True)
class Measure:
    indicator: str
    noun: str  # "similar size", "higher unemployment"
    more: str
    less: str
    log: bool = False  # compared on a log scale: a few regions are far larger


MEASURES = [
    Measure("population_jan1", "size", "larger", "smaller", log=True),
    Measure("gdp_per_inhabitant_eur_derived", "GDP per head", "higher", "lower"),
    Measure(
        "household_disposable_income_pps_per_inhabitant", "income", "higher", "lower"
    ),
    Measure("unemployment_rate", "unemployment", "higher", "lower"),
    Measure(
        "epo_patent_applications_per_million_inhabitants",
        "patenting",
        "more",
        "less",
        log=True,
    ),
    Measure(
        "households_broadband_pct_of_internet_households", "broadband", "more", "less"
    ),
]
PEERS = 10  # shown on a region's page and used by the list's `like=` filter
SIMILAR = 0.5  # standard deviations: a smaller gap reads as "similar"
MIN_SHARED = 3  # indicators two regions must both have to be compared
# The EU's member states by NUTS code (EL: Greece): the regions compared with.
EU27 = set(
    "AT BE BG CY CZ DE DK EE EL ES FI FR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK"
    .split()
)  # fmt: skip


def _scaled(measure, value):
    value = float(value)
    if measure.log:
        return math.log10(1 + value) if value >= 0 else None
    return value


def standard_scores():
    """{code: {indicator: z-score}} for every NUTS 2 region with figures: each
    indicator's latest value, standardised over the EU's NUTS 2 regions."""
    codes = set(Region.objects.filter(level=2).values_list("code", flat=True))
    measures = {m.indicator: m for m in MEASURES}
    latest = IndicatorValue.objects.filter(
        indicator__in=measures, nuts_code__in=codes
    ).latest_for(codes)
    raw = {
        code: {
            key: scaled
            for key, figure in values.items()
            if (scaled := _scaled(measures[key], figure.value)) is not None
        }
        for code, values in latest.items()
        if values
    }
    scores = {code: {} for code in raw}
    for key in measures:
        eu = [
            values[key]
            for code, values in raw.items()
            if code[:2] in EU27 and key in values
        ]
        if len(eu) < 2 or not (spread := pstdev(eu)):
            continue
        mean = fmean(eu)
        for code, values in raw.items():
            if key in values:
                scores[code][key] = (values[key] - mean) / spread
    return scores


def kept_scores(version=None):
    """standard_scores() for the catalogue `version` (the current one by default):
    figures change with it."""
    version = version or CatalogueVersion.current()
    return kept_for(version, "peer-scores", standard_scores)


@dataclass
class Peer:
    code: str
    distance: float  # root mean square of the z-score gaps compared
    compared: list  # the Measures both regions have
    words: str
    region: Region = None

    @property
    def missing(self):
        """The labels of the measures left out of this comparison."""
        compared = {m.indicator for m in self.compared}
        return [
            INDICATORS[m.indicator].label
            for m in MEASURES
            if m.indicator not in compared
        ]


def describe(mine, theirs, compared):
    """What separates two regions, in words: "similar size and income, higher
    unemployment" (their figures against mine)."""
    similar, different = [], []
    for measure in compared:
        gap = theirs[measure.indicator] - mine[measure.indicator]
        if abs(gap) < SIMILAR:
            similar.append(measure.noun)
        else:
            word = measure.more if gap > 0 else measure.less
            different.append(f"{word} {measure.noun}")
    parts = []
    if similar:
        names = (
            similar[0]
            if len(similar) == 1
            else f"{', '.join(similar[:-1])} and {similar[-1]}"
        )
        parts.append(f"similar {names}")
    return ", ".join(parts + different)


def peers_of(code, version=None, limit=PEERS):
    """The `limit` EU NUTS 2 regions closest to region `code`, nearest first (then
    by code), or None when `code` has fewer than MIN_SHARED of the measures."""
    scores = kept_scores(version)
    mine = scores.get(code, {})
    if len(mine) < MIN_SHARED:
        return None
    peers = []
    for other, theirs in scores.items():
        if other == code or other[:2] not in EU27:
            continue
        compared = [
            m for m in MEASURES if m.indicator in mine and m.indicator in theirs
        ]
        if len(compared) < MIN_SHARED:
            continue
        gaps = [(theirs[m.indicator] - mine[m.indicator]) ** 2 for m in compared]
        distance = math.sqrt(fmean(gaps))
        peers.append(Peer(other, distance, compared, describe(mine, theirs, compared)))
    peers.sort(key=lambda peer: (peer.distance, peer.code))
    return peers[:limit]


def peer_codes(code, version=None):
    """The codes of `code`'s peers ([] when it has none): what `like=` selects."""
    return [peer.code for peer in peers_of(code, version) or []]


def region_peers(region, version=None):
    """A NUTS 2 region's peers with their Region (and country), the number of
    published practices each lists (its own and its subregions') and the measures
    missing for it alone (`also_missing`), in two queries; None when it has none."""
    peers = peers_of(region.code, version)
    if not peers:
        return None
    codes = [peer.code for peer in peers]
    regions = Region.objects.select_related("country").in_bulk(codes, field_name="code")
    counts = dict(
        FacetValue.objects.filter(
            facet="region", value__in=codes, practice__in=Practice.objects.published()
        )
        .values_list("value")
        .annotate(count=Count("practice", distinct=True))
        .order_by()
    )
    unrecorded = set(missing_measures(region.code, version))
    for peer in peers:
        peer.region = regions.get(peer.code)
        peer.practice_count = counts.get(peer.code, 0)
        peer.also_missing = [label for label in peer.missing if label not in unrecorded]
    return [peer for peer in peers if peer.region is not None]


def missing_measures(code, version=None):
    """The labels of the measures region `code` has no figure for."""
    mine = kept_scores(version).get(code, {})
    return [INDICATORS[m.indicator].label for m in MEASURES if m.indicator not in mine]
