"""Eurostat's figures on NUTS units: what a region's page shows as its context.
Each value keeps its year, its Eurostat dataset and page, and the NUTS version of
its code; INDICATORS says, once, what each indicator is called and means."""

import re
from typing import NamedTuple

from django.db import models
from django.db.models import Q


class Indicator(NamedTuple):
    label: str  # what pages call it
    unit: str  # short, after the value
    derived: bool = False  # our own ratio of Eurostat figures, not Eurostat's


INDICATORS = {
    # NUTS 2 regions (and countries where the dataset has them).
    "population_jan1": Indicator("Population on 1 January", "people"),
    "gdp_mio_eur": Indicator("GDP at current market prices", "million EUR"),
    "gdp_per_inhabitant_eur_derived": Indicator(
        "GDP per inhabitant (approximation)", "EUR", derived=True
    ),
    "unemployment_rate": Indicator("Unemployment rate", "% of the labour force"),
    "unemployment_rate_female": Indicator("Unemployment rate, women", "%"),
    "unemployment_rate_male": Indicator("Unemployment rate, men", "%"),
    "household_disposable_income_pps_per_inhabitant": Indicator(
        "Household disposable income per inhabitant", "PPS"
    ),
    "epo_patent_applications_per_million_inhabitants": Indicator(
        "Patent applications to the EPO", "per million inhabitants"
    ),
    "households_broadband_pct_of_internet_households": Indicator(
        "Households with broadband", "% of households with internet"
    ),
    "life_expectancy_at_birth": Indicator("Life expectancy at birth", "years"),
    "gender_employment_gap": Indicator(
        "Gender employment gap", "percentage points (men minus women)"
    ),
    # Countries only.
    "gdp_per_capita_pps_index_eu27_2020": Indicator(
        "GDP per head in PPS", "index, EU27 = 100"
    ),
    "real_gdp_growth_rate": Indicator("Real GDP growth", "% on the year before"),
    "real_gdp_per_capita_growth_rate": Indicator(
        "Real GDP growth per head", "% on the year before"
    ),
    "employment_high_medium_high_tech_manufacturing_pct": Indicator(
        "Employment in high and medium-high tech manufacturing", "% of employment"
    ),
    "employment_knowledge_intensive_services_pct": Indicator(
        "Employment in knowledge-intensive services", "% of employment"
    ),
    "at_risk_of_poverty_rate": Indicator("At-risk-of-poverty rate", "% of people"),
    "population_aged_65_plus_pct": Indicator("People aged 65 and over", "%"),
    "neet_rate_15_24": Indicator(
        "Young people neither in employment nor in education or training",
        "% of those aged 15-24",
    ),
}

DATASET_IN_URL = re.compile(r"/view/([A-Za-z0-9_]+)")
NUTS_VERSIONS = [2010, 2013, 2016, 2021]

# Eurostat's observation flags (its "Flags and special values" list).
FLAGS = {
    "b": "break in time series",
    "c": "confidential",
    "d": "definition differs",
    "e": "estimated",
    "f": "forecast",
    "n": "not significant",
    "p": "provisional",
    "r": "revised",
    "s": "Eurostat estimate",
    "u": "low reliability",
    "z": "not applicable",
}


class IndicatorValueQuerySet(models.QuerySet):
    def latest_for(self, codes):
        """{code: {indicator: the value of its latest year}} for these NUTS codes."""
        latest = {code: {} for code in codes}
        for value in self.filter(nuts_code__in=codes).order_by("year"):
            latest[value.nuts_code][value.indicator] = value
        return latest


class IndicatorValue(models.Model):
    nuts_code = models.CharField(
        "NUTS code",
        max_length=5,
        help_text="The unit's code in the NUTS version below (a country: its two "
        "letters, EL for Greece and UK for the United Kingdom).",
    )
    indicator = models.CharField(
        max_length=60, choices=[(key, i.label) for key, i in INDICATORS.items()]
    )
    year = models.PositiveSmallIntegerField()
    value = models.DecimalField(max_digits=20, decimal_places=6)
    unit = models.CharField(
        max_length=200, help_text="As the source states it, with Eurostat's codes."
    )
    flags = models.CharField(
        max_length=5,
        blank=True,
        help_text="Eurostat's observation flags: p provisional, e estimated, …",
    )
    source_dataset = models.CharField(
        max_length=60, help_text="Eurostat's dataset code, e.g. tgs00096."
    )
    source_url = models.CharField(
        "source URL",
        max_length=500,
        help_text="The dataset's Eurostat page (a derived value: each input's, "
        "separated by ' ; ').",
    )
    nuts_version = models.PositiveSmallIntegerField(
        "NUTS version", choices=[(v, f"NUTS {v}") for v in NUTS_VERSIONS]
    )

    objects = IndicatorValueQuerySet.as_manager()

    class Meta:
        ordering = ["nuts_code", "indicator", "year"]
        constraints = [
            models.UniqueConstraint(
                fields=["nuts_code", "indicator", "year"],
                name="indicatorvalue_unique_year",
            ),
            models.CheckConstraint(
                condition=Q(nuts_code__regex=r"^[A-Z]{2}[A-Z0-9]{0,3}$"),
                name="indicatorvalue_code_format",
            ),
            models.CheckConstraint(
                condition=Q(year__gte=1950, year__lte=2100),
                name="indicatorvalue_year_range",
            ),
            models.CheckConstraint(
                condition=Q(nuts_version__in=NUTS_VERSIONS),
                name="indicatorvalue_nuts_version",
            ),
        ]
        indexes = [
            models.Index(fields=["indicator", "year"], name="indicatorvalue_by_year")
        ]

    def __str__(self):
        return f"{self.nuts_code} {self.indicator} {self.year}: {self.value}"

    @property
    def definition(self):
        return INDICATORS[self.indicator]

    @property
    def source_links(self):
        """[(Eurostat's dataset code, its page)]: two for a derived value."""
        urls = [url.strip() for url in self.source_url.split(" ; ") if url.strip()]
        return [(m[1] if (m := DATASET_IN_URL.search(u)) else u, u) for u in urls]

    @property
    def flag_labels(self):
        return [FLAGS.get(flag, flag) for flag in self.flags]
