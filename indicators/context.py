"""What a region's or a country's page shows of Eurostat's figures: the latest
value of each indicator, and a row that says so where none is recorded."""

from dataclasses import dataclass, field

from django.db.models import Count, Max, Min

from .models import INDICATORS, IndicatorValue

# In this order on the page; Eurostat publishes them for NUTS 2 regions.
REGION_CONTEXT = [
    "population_jan1",
    "gdp_mio_eur",
    "gdp_per_inhabitant_eur_derived",
    "unemployment_rate",
    "household_disposable_income_pps_per_inhabitant",
    "epo_patent_applications_per_million_inhabitants",
    "households_broadband_pct_of_internet_households",
    "life_expectancy_at_birth",
    "gender_employment_gap",
]
COUNTRY_CONTEXT = [
    "population_jan1",
    "gdp_per_capita_pps_index_eu27_2020",
    "real_gdp_growth_rate",
    "employment_high_medium_high_tech_manufacturing_pct",
    "employment_knowledge_intensive_services_pct",
    "at_risk_of_poverty_rate",
    "population_aged_65_plus_pct",
    "neet_rate_15_24",
]
CONTEXT_LEVEL = 2  # the NUTS level of the regional figures


@dataclass
class Figures:
    """The figures of one place (`code`, `label`): (key, Indicator, value or None)."""

    code: str
    label: str
    rows: list = field(default_factory=list)

    @property
    def recorded(self):
        return sum(value is not None for _, _, value in self.rows)


def figures_of(places):
    """Figures for each of these (code, label, indicator keys), in one query."""
    latest = IndicatorValue.objects.latest_for([code for code, _, _ in places])
    return [
        Figures(
            code,
            label,
            [(key, INDICATORS[key], latest[code].get(key)) for key in keys],
        )
        for code, label, keys in places
    ]


def region_figures(region):
    """A region's figures, or those of the NUTS 2 region it lies in (a NUTS 3
    unit); none for a NUTS 1 region, which Eurostat's tables leave out; then its
    country's."""
    places = []
    if region.level == CONTEXT_LEVEL:
        places.append((region.code, region.label, REGION_CONTEXT))
    elif region.level > CONTEXT_LEVEL and (parent := region.parent) is not None:
        while parent.level > CONTEXT_LEVEL and parent.parent is not None:
            parent = parent.parent
        places.append((parent.code, parent.label, REGION_CONTEXT))
    country = region.country
    places.append((country.nuts_code, country.name, COUNTRY_CONTEXT))
    return figures_of(places)


def indicator_holdings():
    """What the data page says of the figures: how many, of how many units, the
    years they span and the Eurostat datasets they come from."""
    values = IndicatorValue.objects.order_by()
    summary = values.aggregate(
        total=Count("pk"),
        units=Count("nuts_code", distinct=True),
        first_year=Min("year"),
        last_year=Max("year"),
    )
    summary["datasets"] = sorted(
        set(values.values_list("source_dataset", flat=True).distinct())
    )
    return summary
