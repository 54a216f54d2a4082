import re
import uuid
from collections import namedtuple
from itertools import batched
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.cache import cache, caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.exceptions import ValidationError
from django.db import connections, models, transaction
from django.db.models import (
    Case,
    Count,
    Exists,
    Expression,
    F,
    OuterRef,
    Q,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import Concat, Greatest, Rank
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import classproperty
from django.utils.text import capfirst, get_text_list
from simple_history.models import HistoricalRecords

from publishing.models import Publishable, PublishableQuerySet
from publishing.models import Status as Status  # for the code that imports it here
from publishing.workflow import permissions

from .facts import RELATIONS, with_held_facts
from .history import HistoricalRecordsWithReverseM2M


class TermQuerySet(models.QuerySet):
    """For anything practices are browsed by: countries and taxonomy terms."""

    def in_use(self, practices):
        """Only the terms that some of those practices carry, each with
        `practice_count`, counted through their links only: a brief's dozen
        practices cost a dozen links. (The whole catalogue's counts come with the
        list's: listing.with_catalogue_counts.)"""
        # filter() before annotate(): the count joins the links the filter kept.
        counted = self.filter(practices__in=practices).annotate(
            practice_count=Count("practices", distinct=True)
        )
        return counted.order_by(*self.model._meta.ordering)


class LocalDate(Expression):
    """Today in the site's time zone, read when the query is compiled, so an
    ordering declared once is right on every day."""

    output_field = models.DateField()

    def as_sql(self, compiler, connection):
        return compiler.compile(Value(timezone.localdate()))


# Past its review date, in SQL (Practice.is_review_overdue): the list's order, the
# admin's review filter and the data page's count. The day itself is still fresh.
REVIEW_OVERDUE = Q(review_by__lt=LocalDate())


def next_review(verified_on):
    """When a practice verified on that day is due for its next check: a year
    later (schemes change with each yearly call)."""
    try:
        return verified_on.replace(year=verified_on.year + 1)
    except ValueError:  # 29 February
        return verified_on.replace(year=verified_on.year + 1, day=28)


def years_in_order(name):
    """An end year, when both years are known, is not before the start year."""
    return models.CheckConstraint(
        condition=Q(end_year__isnull=True)
        | Q(start_year__isnull=True)
        | Q(end_year__gte=F("start_year")),
        name=name,
        violation_error_message="The end year cannot be before the start year.",
    )


class Country(models.Model):
    code = models.CharField(
        "ISO code", max_length=2, help_text="ISO 3166-1 alpha-2 code, e.g. IT."
    )
    name = models.CharField(max_length=100)
    nuts_code = models.CharField(
        "NUTS code",
        max_length=2,
        help_text="The country's NUTS prefix; differs from the ISO code for "
        "Greece (EL) and the United Kingdom (UK).",
    )

    objects = TermQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "countries"
        constraints = [
            models.UniqueConstraint(fields=["code"], name="country_unique_code"),
            models.CheckConstraint(
                condition=Q(code__regex=r"^[A-Z]{2}$"), name="country_code_format"
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def label(self):
        """Its name as pages show it, as Region.label (countries: in English)."""
        return self.name

    def get_absolute_url(self):
        return reverse("countries:detail", kwargs={"code": self.code.lower()})


class Region(models.Model):
    code = models.CharField(
        "NUTS code",
        max_length=5,
        help_text="NUTS 2021 code (UK regions: NUTS 2016, the last version "
        "that includes them).",
    )
    name = models.CharField(
        max_length=150, help_text="The NUTS name, in the region's own language."
    )
    name_en = models.CharField(
        "English name",
        max_length=150,
        blank=True,
        help_text="Only where English usage differs from the NUTS name (Lower "
        "Saxony for Niedersachsen); pages show it first, the NUTS name beside it.",
    )
    level = models.PositiveSmallIntegerField(
        "NUTS level", choices=[(level, f"NUTS {level}") for level in (1, 2, 3)]
    )
    country = models.ForeignKey(
        Country, on_delete=models.PROTECT, related_name="regions"
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        help_text="The region one NUTS level up, if recorded.",
    )

    objects = TermQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["code"], name="region_unique_code"),
            models.CheckConstraint(
                condition=Q(code__regex=r"^[A-Z]{2}[A-Z0-9]{1,3}$"),
                name="region_code_format",
            ),
            models.CheckConstraint(
                condition=Q(level__gte=1, level__lte=3), name="region_level_range"
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.code})"

    @property
    def label(self):
        """The name pages show: "Lower Saxony (Niedersachsen)" where the English
        name differs, else the NUTS name (region_label() in SQL)."""
        if self.name_en and self.name_en != self.name:
            return f"{self.name_en} ({self.name})"
        return self.name

    def get_absolute_url(self):
        return reverse("regions:detail", kwargs={"code": self.code})


def region_label(path=""):
    """Region.label as an SQL expression, for the region at `path` ("region__")."""
    name, name_en = F(f"{path}name"), F(f"{path}name_en")
    return Case(
        When(Q(**{f"{path}name_en": ""}) | Q(**{f"{path}name_en": name}), then=name),
        default=Concat(name_en, Value(" ("), name, Value(")")),
        output_field=models.CharField(),
    )


class TaxonomyTerm(models.Model):
    slug = models.SlugField(max_length=80)
    name = models.CharField(max_length=100)
    description = models.TextField(
        help_text="One sentence a policy officer understands."
    )

    objects = TermQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def label(self):
        """Its name as pages show it, as Region.label."""
        return self.name


class Theme(TaxonomyTerm):
    """What a practice addresses (e.g. first steps for non-exporters)."""

    class Meta(TaxonomyTerm.Meta):
        constraints = [
            models.UniqueConstraint(fields=["slug"], name="theme_unique_slug"),
            models.UniqueConstraint(fields=["name"], name="theme_unique_name"),
        ]

    def get_absolute_url(self):
        return reverse("themes:detail", kwargs={"slug": self.slug})


class InstrumentType(TaxonomyTerm):
    """How a practice intervenes (e.g. grant or co-financing call)."""

    class Meta(TaxonomyTerm.Meta):
        verbose_name = "instrument type"
        constraints = [
            models.UniqueConstraint(fields=["slug"], name="instrument_unique_slug"),
            models.UniqueConstraint(fields=["name"], name="instrument_unique_name"),
        ]

    def get_absolute_url(self):
        return reverse("instruments:detail", kwargs={"slug": self.slug})


class Project(models.Model):
    """The Interreg Europe (or similar) project a practice came from."""

    slug = models.SlugField(max_length=80)
    acronym = models.CharField(max_length=50)
    name = models.CharField("full name", max_length=255, blank=True)
    lead_partner = models.CharField(max_length=255, blank=True)
    start_year = models.PositiveSmallIntegerField(null=True, blank=True)
    end_year = models.PositiveSmallIntegerField(null=True, blank=True)
    url = models.URLField("project website", max_length=500, blank=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["acronym"]
        constraints = [
            models.UniqueConstraint(fields=["slug"], name="project_unique_slug"),
            years_in_order("project_end_after_start"),
        ]

    def __str__(self):
        return self.acronym

    def get_absolute_url(self):
        return f"{reverse('practices:list')}?project={self.slug}"


class ImplementationLevel(models.TextChoices):
    NATIONAL = "national", "National"
    REGIONAL = "regional", "Regional"
    LOCAL = "local", "Local"
    CROSS_BORDER = "cross-border", "Cross-border"


class BudgetScale(models.TextChoices):
    """Bands of a practice's total budget in euros: enough to tell a pilot from a
    programme, which amounts in different currencies and periods cannot."""

    UNDER_100K = "under-100k", "Under €100,000"
    UNDER_1M = "100k-1m", "€100,000 to €1 million"
    UNDER_10M = "1m-10m", "€1 million to €10 million"
    UNDER_100M = "10m-100m", "€10 million to €100 million"
    OVER_100M = "100m-plus", "€100 million or more"


# What related practices share, by weight (FacetValue's facets): a region counts
# with each NUTS region above it, so practices closer together share more.
RELATED_WEIGHTS = {"instrument": 3, "theme": 2, "region": 2, "country": 1}
RELATED_SPARE = 20  # ranked beyond the related practices shown (Practice.related_to)


class Period(models.TextChoices):
    ONGOING = "ongoing", "Ongoing"
    ENDED = "ended", "Ended"
    UNKNOWN = "unknown", "End not recorded"


# Addresses under /practices/ that belong to pages, not to practices.
RESERVED_SLUGS = ["compare", "feed"]


class PracticeQuerySet(PublishableQuerySet):
    def with_period(self):
        """Annotate `period`: ended when the end year is past; ongoing when a source
        says so (still_running) or the end year is yet to come; otherwise unknown."""
        this_year = timezone.localdate().year
        return self.annotate(
            period=Case(
                When(end_year__lt=this_year, then=Value(Period.ENDED)),
                When(
                    Q(still_running=True) | Q(end_year__gte=this_year),
                    then=Value(Period.ONGOING),
                ),
                default=Value(Period.UNKNOWN),
            )
        )

    def found_by(self, facet, values):
        """The practices the list's filter `facet` finds for any of `values`
        (FacetValue): a region finds those of the regions inside it too."""
        matching = FacetValue.objects.filter(facet=facet, value__in=values)
        return self.filter(pk__in=matching.values("practice"))

    def for_listing(self):
        """A card's own columns and evidence grade, not the search index (terms:
        attach_card_terms)."""
        return self.select_related("project", "grade").defer(
            "search_text", "search_vector"
        )

    def related_to(self, practice, limit=5):
        """(practice, score) pairs from this queryset sharing the most facet values
        with `practice`, weighted by RELATED_WEIGHTS: best first, then by title."""
        mine = FacetValue.objects.filter(practice=practice, facet__in=RELATED_WEIGHTS)
        if connections[self.db].vendor == "postgresql":
            # Joined in the same query: a nested loop over the index, twice as
            # fast as the values spelled out. SQLite would scan every row for it.
            shared = Exists(
                mine.filter(facet=OuterRef("facet"), value=OuterRef("value"))
            )
        else:
            shared = Q()
            for facet, value in mine.values_list("facet", "value"):
                shared |= Q(facet=facet, value=value)
            if not shared:
                return []
        candidates = FacetValue.objects.filter(shared).exclude(practice=practice)
        # Scored on the narrow FacetValue rows alone, without asking which are in
        # this queryset (published): nearly all are, so the best `limit` of them
        # are among the best few more of all; only if not, score those in it.
        related = self._best_of(candidates, limit, spare=RELATED_SPARE)
        if related is None:
            in_queryset = Exists(self.filter(pk=OuterRef("practice")))
            related = self._best_of(candidates.filter(in_queryset), limit)
        return related

    def _best_of(self, candidates, limit, spare=0):
        """related_to's answer from these FacetValue rows, ranked on their own to
        `limit` + `spare` (rank() keeps whole groups of equal scores), or None
        when fewer than `limit` of those are in this queryset and some may lie
        beyond them."""
        score = Sum(Case(*(When(facet=f, then=w) for f, w in RELATED_WEIGHTS.items())))
        ranked = (
            candidates.values("practice")
            .annotate(score=score, rank=Window(Rank(), order_by=score.desc()))
            .filter(rank__lte=limit + spare)
        )
        scores = dict(ranked.values_list("practice", "score"))
        if not scores:
            return []
        # Best score first, then by title: one When per score (a few small numbers).
        by_score = Case(
            *(
                When(pk__in=[pk for pk, s in scores.items() if s == value], then=value)
                for value in set(scores.values())
            )
        )
        found = self.only("pk", "slug", "title").filter(pk__in=scores)
        found = found.annotate(found=Window(Count("pk")))  # counted before the limit
        found = list(found.order_by(by_score.desc(), "title", "pk")[:limit])
        if spare and len(scores) >= limit + spare:  # more candidates may lie beyond
            if not found or found[0].found < limit:
                return None
        # Ranks keep whole groups of equal scores, so any of this queryset's
        # practices beyond them scores less than the `limit` found.
        return [(p, scores[p.pk]) for p in found]

    # Annotate `has_<fact>` for each fact a record can state (practices.facts).
    with_held_facts = with_held_facts

    def with_source_terms(self):
        """Annotate `cites_interreg_europe`: a source is an Interreg Europe page,
        whose reuse terms then apply (opendata.records.record_licence)."""
        cited = PracticeSource.objects.filter(
            practice_id=OuterRef("pk"), url__regex=INTERREG_EUROPE_PAGE
        )
        return self.annotate(cites_interreg_europe=Exists(cited))

    def for_export(self):
        """Everything an exported record holds (or the comparison shows)."""
        from evidence.models import OutcomeFigure  # (evidence builds on practices)

        related = ["countries", "regions", "themes", "instruments", "sources"]
        figures = models.Prefetch(
            "figures", OutcomeFigure.objects.select_related("source")
        )
        return (
            self.for_listing().prefetch_related(*related, figures).with_source_terms()
        )

    def for_detail(self):
        """Everything a practice page shows, linked: also what its grade rests on."""
        return self.for_export().prefetch_related("grade__sources")


class Practice(Publishable):
    # Facts a curator can flag as unconfirmed (pages mark them as such): these
    # fields, and "places" (countries and regions together).
    UNCERTAIN_FIELDS = (
        "summary description places city level institution project start_year "
        "end_year budget budget_scale funding_source legal_basis staff resources "
        "evidence transfer beneficiaries themes instruments"
    ).split()
    # What it takes to run it elsewhere: the fit check's facts besides who runs it.
    PREREQUISITES = ["budget_scale", "funding_source", "legal_basis", "staff"]
    # Those held in the practice's own columns (the others in relations).
    COLUMN_FACTS = [n for n in UNCERTAIN_FIELDS if n not in (*RELATIONS, "project")]

    @classproperty
    def UNCERTAIN_CHOICES(cls):
        return [
            (name, "Places" if name == "places" else cls.field_label(name))
            for name in cls.UNCERTAIN_FIELDS
        ]

    # Help texts serve curators in the admin and readers of the data dictionary
    # on /data/ (opendata.records), which is generated from them.
    title = models.CharField(max_length=255, help_text="The practice's name.")
    slug = models.SlugField(
        max_length=120,
        help_text="Its address, /practices/<slug>/: unique; imports match on it.",
    )
    summary = models.TextField(help_text="One or two plain sentences.")
    description = models.TextField(
        "about this practice", blank=True, help_text="What it does and how. Markdown."
    )
    resources = models.TextField(
        "resources needed",
        blank=True,
        help_text="The money, staff and partners. Markdown.",
    )
    evidence = models.TextField(
        "evidence of success", blank=True, help_text="What shows it works. Markdown."
    )
    transfer = models.TextField(
        "potential for learning or transfer",
        blank=True,
        help_text="What other regions can learn from it or take over. Markdown.",
    )
    beneficiaries = models.TextField(blank=True, help_text="Who benefits.")
    level = models.CharField(
        "implementation level",
        max_length=20,
        choices=ImplementationLevel,
        blank=True,
        help_text="The level of government or territory it is run at.",
    )
    institution = models.CharField(
        "main institution", max_length=255, blank=True, help_text="Who runs it."
    )
    city = models.CharField(
        max_length=100, blank=True, help_text="Where the main institution is based."
    )
    start_year = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="The year it started."
    )
    end_year = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="The year it ended or is planned to end."
    )
    still_running = models.BooleanField(
        default=False,
        help_text="A source says it is still running. Only then, or with an end "
        "year to come, is it shown as ongoing.",
    )
    budget = models.TextField(
        blank=True, help_text="As the sources give it: amount, period and funders."
    )
    # What it takes to run it elsewhere (the practice page's "Will it fit your
    # region?"), each as its sources state it.
    budget_scale = models.CharField(
        max_length=10,
        choices=BudgetScale,
        blank=True,
        help_text="The band of its total budget in euros (whole scheme, call or "
        "period, as the sources give the amount). Flag it unconfirmed when it was "
        "converted from another currency.",
    )
    funding_source = models.TextField(
        blank=True,
        help_text="Who pays for it: an EU fund and programme, a national, regional "
        "or local budget, fees.",
    )
    legal_basis = models.TextField(
        blank=True,
        help_text="The law, decree, aid rule, programme measure or call it rests on.",
    )
    staff = models.TextField(
        blank=True, help_text="Who does the work, and how many, as the sources say."
    )
    countries = models.ManyToManyField(
        Country,
        related_name="practices",
        blank=True,
        help_text="The countries it is run in (ISO 3166-1 alpha-2 codes).",
    )
    regions = models.ManyToManyField(
        Region,
        related_name="practices",
        blank=True,
        help_text="The most specific NUTS regions known (NUTS codes).",
    )
    themes = models.ManyToManyField(
        Theme,
        related_name="practices",
        blank=True,
        help_text="What it addresses (theme slugs, see /themes/).",
    )
    instruments = models.ManyToManyField(
        InstrumentType,
        related_name="practices",
        blank=True,
        verbose_name="instrument types",
        help_text="How it intervenes (instrument type slugs, see /instruments/).",
    )
    project = models.ForeignKey(
        Project,
        on_delete=models.PROTECT,
        related_name="practices",
        null=True,
        blank=True,
        help_text="The Interreg Europe (or similar) project it came from (its slug).",
    )
    uncertain_fields = models.JSONField(
        default=list, blank=True, help_text="Facts the sources do not confirm."
    )
    attribution = models.TextField(help_text="Attribution and licence line.")
    last_verified_on = models.DateField(
        null=True,
        blank=True,
        help_text="When a curator last checked it against its sources.",
    )
    review_by = models.DateField(
        null=True,
        blank=True,
        help_text="When its next check is due; after that it is flagged as needing "
        "review and ranked after fresh practices. Left empty, it is set to a year "
        "after the last verification.",
    )
    declared_none = models.JSONField(
        "searched, none published",
        default=list,
        blank=True,
        help_text="Facts looked for at the last verification and not found "
        "published anywhere: shown as “none published as of” its month, not as "
        "“not recorded”.",
    )
    # The search index, rebuilt by practices.search: accent-folded text, and on
    # PostgreSQL a weighted tsvector with a GIN index (migration 0002).
    search_text = models.TextField(blank=True, editable=False)
    search_vector = SearchVectorField(null=True, editable=False)

    objects = PracticeQuerySet.as_manager()
    # Who changed what and when, with a diff and revert in the admin.
    history = HistoricalRecordsWithReverseM2M(
        excluded_fields=["search_text", "search_vector"],
        m2m_fields=["countries", "regions", "themes", "instruments"],
    )

    class Meta(Publishable.Meta):
        ordering = ["title"]
        permissions = permissions("practice", "practices")  # workflow moves
        constraints = [
            *Publishable.Meta.constraints,
            models.CheckConstraint(
                condition=~Q(slug__in=RESERVED_SLUGS),
                name="practice_slug_not_reserved",
                violation_error_message="That address is taken by a page of the "
                "site: choose another slug.",
            ),
            years_in_order("practice_end_after_start"),
            models.CheckConstraint(
                condition=Q(level__in=["", *ImplementationLevel.values]),
                name="practice_valid_level",
            ),
            models.CheckConstraint(
                condition=Q(budget_scale__in=["", *BudgetScale.values]),
                name="practice_valid_budget_scale",
            ),
            models.CheckConstraint(
                condition=Q(review_by__isnull=True)
                | Q(last_verified_on__isnull=True)
                | Q(review_by__gte=F("last_verified_on")),
                name="practice_review_after_verification",
            ),
            # A declared gap is dated by the verification that looked for it.
            models.CheckConstraint(
                condition=Q(declared_none=[]) | Q(last_verified_on__isnull=False),
                name="practice_declared_none_verified",
                violation_error_message="A fact can be declared unpublished only "
                "with the date of the verification that looked for it.",
            ),
        ]
        indexes = [
            # Covers published() and the catalogue version (count, latest update).
            models.Index(
                fields=["status", "published_on", "updated_at"],
                name="practice_status_idx",
            ),
            # The list's filters, facet counts and sort orders read only these
            # columns: on PostgreSQL an index-only scan, not the wide rows.
            models.Index(
                fields=["status", "published_on"],
                include=[
                    "id",
                    "title",
                    "level",
                    "project",
                    "start_year",
                    "end_year",
                    "still_running",
                    "review_by",
                ],
                name="practice_listing_idx",
            ),
            models.Index(fields=["published_on"], name="practice_published_on_idx"),
            models.Index(fields=["start_year"], name="practice_start_year_idx"),
            # A practice page's "More from" its project: the first few by title.
            models.Index(
                fields=["project", "title"], name="practice_project_title_idx"
            ),
            # ... and from its country: published practices walked in title order
            # until five are in the country, instead of sorting the country's all.
            models.Index(
                fields=["status", "title", "id"],
                include=["published_on"],
                name="practice_title_idx",
            ),
        ]

    @property
    def is_review_overdue(self):
        """Past review_by; the day itself is still fresh (REVIEW_OVERDUE)."""
        return self.review_by is not None and self.review_by < timezone.localdate()

    @classmethod
    def field_label(cls, name):
        return capfirst(cls._meta.get_field(name).verbose_name)

    def publication_gaps(self, relations=None):
        """The publishing gate (publishing.workflow.check_publishable): a summary,
        a source, a theme, an instrument type, and a place or a level. Fields as
        they are now, relations as stored (in one query), except those in
        `relations` ({name: whether it will hold any}: an import's, not yet
        written)."""
        linked = {
            "sources": PracticeSource.objects,
            **{
                name: getattr(Practice, name).through.objects
                for name in ("themes", "instruments", "countries", "regions")
            },
        }
        # A new record (an import's) has none stored: no query.
        stored = Practice._base_manager.filter(pk=self.pk) if self.pk else None
        has = (
            stored is not None
            and stored.values(
                **{
                    f"has_{name}": Exists(rows.filter(practice=OuterRef("pk")))
                    for name, rows in linked.items()
                }
            ).first()
        ) or {f"has_{name}": False for name in linked}
        has.update((f"has_{name}", held) for name, held in (relations or {}).items())
        needs = {
            "a summary": self.summary.strip(),
            "a source": has["has_sources"],
            "a theme": has["has_themes"],
            "an instrument type": has["has_instruments"],
            "a place (a country or region) or an implementation level": (
                has["has_countries"] or has["has_regions"] or self.level
            ),
        }
        return [need for need, met in needs.items() if not met]

    @staticmethod
    def attribution_from(urls):
        """The attribution line a practice gets when a curator leaves it empty,
        from its sources' URLs: the sites that publish them, and Interreg Europe's
        reuse terms when one is its page (as every catalogue record's line says);
        empty without sources."""
        sites = dict.fromkeys(
            urlsplit(url).hostname.removeprefix("www.")
            for url in urls
            if urlsplit(url).hostname
        )
        if not sites:
            return ""
        line = (
            f"Summary written by {settings.SITE_NAME} from the sources listed, "
            f"published on {get_text_list(list(sites), 'and')}."
        )
        if any(re.match(INTERREG_EUROPE_PAGE, url) for url in urls):
            return f"{line} {INTERREG_EUROPE_TERMS}"
        return f"{line} See each source for its terms of reuse."

    def clean(self):
        errors = {"uncertain_fields": [], "declared_none": []}
        for name in errors:
            unknown = set(getattr(self, name) or []) - set(self.UNCERTAIN_FIELDS)
            if unknown:
                errors[name].append(
                    f"Unknown field names: {', '.join(sorted(unknown))}."
                )
        held = [
            self.field_label(name)
            for name in self.declared_none or []
            if name in self.COLUMN_FACTS and getattr(self, name) not in (None, "")
        ]
        if held:
            errors["declared_none"].append(
                f"{get_text_list(held, 'and')} cannot be declared unpublished: "
                "the record states it."
            )
        if errors := {name: messages for name, messages in errors.items() if messages}:
            raise ValidationError(errors)
        if self.last_verified_on and not self.review_by:
            self.review_by = next_review(self.last_verified_on)


# The values each practice is filtered and counted by on the list, in portable SQL:
# its countries, themes, instruments, project and level, its regions with every
# NUTS region above them (codes nest by prefix: ES212 is in ES21 and ES2), and its
# evidence level (evidence.Grade; "none" without a grade). TEXT
# throughout: branches of one type let PostgreSQL push FacetValue.refresh's
# practice filter into each of them.
FACET_VALUES = """
SELECT pc.practice_id, 'country', CAST(c.code AS TEXT)
  FROM practices_practice_countries pc
  JOIN practices_country c ON c.id = pc.country_id
UNION ALL
SELECT pt.practice_id, 'theme', CAST(t.slug AS TEXT)
  FROM practices_practice_themes pt JOIN practices_theme t ON t.id = pt.theme_id
UNION ALL
SELECT pi.practice_id, 'instrument', CAST(i.slug AS TEXT)
  FROM practices_practice_instruments pi
  JOIN practices_instrumenttype i ON i.id = pi.instrumenttype_id
UNION ALL
SELECT p.id, 'project', CAST(pr.slug AS TEXT)
  FROM practices_practice p JOIN practices_project pr ON pr.id = p.project_id
UNION ALL
SELECT p.id, 'level', CAST(p.level AS TEXT) FROM practices_practice p
UNION ALL
SELECT DISTINCT pr.practice_id, 'region', CAST(SUBSTR(r.code, 1, n.length) AS TEXT)
  FROM practices_practice_regions pr
  JOIN practices_region r ON r.id = pr.region_id
  JOIN (SELECT 3 AS length UNION ALL SELECT 4 UNION ALL SELECT 5) n
    ON LENGTH(r.code) >= n.length
UNION ALL
SELECT p.id, 'evidence', COALESCE(CAST(g.level AS TEXT), 'none')
  FROM practices_practice p LEFT JOIN evidence_grade g ON g.practice_id = p.id
"""


class FacetValue(models.Model):
    """One value a practice is found by on the list (FACET_VALUES): derived from
    its links, kept current by signals.py in the same commit as the search index.
    The list's filters and facet counts read it through narrow indexes."""

    practice = models.ForeignKey(Practice, models.CASCADE, related_name="facet_values")
    facet = models.CharField(max_length=20)
    value = models.CharField(max_length=255)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "facet", "value"], name="facetvalue_unique"
            )
        ]
        indexes = [
            models.Index(fields=["facet", "value", "practice"], name="facetvalue_idx")
        ]

    @classmethod
    def refresh(cls, ids, using="default"):
        """Derive the rows of these practices again (ids may be any iterable)."""
        for batch in batched(ids, 500):
            cls.objects.using(using).filter(practice__in=batch).delete()
            with connections[using].cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {cls._meta.db_table} (practice_id, facet, value)"
                    f" SELECT * FROM ({FACET_VALUES}) v"
                    f" WHERE practice_id IN ({', '.join(['%s'] * len(batch))})",
                    batch,
                )


Version = namedtuple("Version", ["number", "token", "changed_at"])


class CatalogueVersion(models.Model):
    """One row, bumped as each transaction that changes anything public commits
    (signals.py); caches key on it. A fresh token per bump, so a rolled-back bump
    is never taken for a later one; `changed_at` is pages' Last-Modified."""

    # Where a cache shared by every process (Redis) keeps the current version, so
    # a cached page is served without a query. A bump deletes it as it commits;
    # the expiry bounds how long a reader that raced a bump can keep the old one.
    CACHE_KEY, CACHE_SECONDS = "catalogue-version", 30

    number = models.BigIntegerField(default=0)
    token = models.UUIDField(default=uuid.uuid4)
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(pk=1), name="catalogueversion_single_row"
            )
        ]

    def __str__(self):
        return f"Catalogue version {self.number}"

    @classmethod
    def bump(cls):
        values = {
            "number": F("number") + 1,
            "token": uuid.uuid4(),
            # Greatest: a bump that waited for the row lock never moves it back.
            "changed_at": Greatest(F("changed_at"), timezone.now()),
        }
        if not cls.objects.filter(pk=1).update(**values):
            cls.objects.get_or_create(pk=1)
            cls.objects.filter(pk=1).update(**values)
        transaction.on_commit(lambda: cache.delete(cls.CACHE_KEY))

    @classmethod
    def current(cls):
        """A Version, or None before the first bump."""
        # One process's memory is not shared: other processes' bumps never reach it.
        shared = not isinstance(caches["default"], LocMemCache)
        if shared and (version := cache.get(cls.CACHE_KEY)):
            return version
        rows = cls.objects.filter(pk=1).values_list("number", "token", "changed_at")
        version = Version(*row) if (row := rows.first()) else None
        if shared and version:
            cache.set(cls.CACHE_KEY, version, cls.CACHE_SECONDS)
        return version


# A page of Interreg Europe's site (interregeurope.eu or a subdomain), in SQL (and
# Python's re).
INTERREG_EUROPE_PAGE = r"^https?://([^/?#]*\.)?interregeurope\.eu([/?#:]|$)"
# What its legal notice allows (opendata.records.LICENCE), as attribution lines say.
INTERREG_EUROPE_TERMS = (
    "Interreg Europe material may be reused for non-commercial purposes with "
    "acknowledgement."
)


class PracticeSource(models.Model):
    practice = models.ForeignKey(
        Practice, on_delete=models.CASCADE, related_name="sources"
    )
    url = models.URLField(
        "URL", max_length=500, help_text="Where the record's facts come from."
    )
    title = models.CharField(max_length=255, help_text="What this source is.")
    position = models.PositiveSmallIntegerField(default=0)

    history = HistoricalRecords()

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "url"], name="practicesource_unique_url"
            )
        ]

    def __str__(self):
        return self.title or self.url


class LinkCheck(models.Model):
    """The latest check of one source URL (manage.py check_links)."""

    url = models.URLField("URL", max_length=500)
    checked_at = models.DateTimeField()
    ok = models.BooleanField(help_text="Whether the link answered with a success.")
    status_code = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="The HTTP status of the last answer, if any."
    )
    error = models.CharField(
        max_length=255, blank=True, help_text="Why the check failed, when it did."
    )
    failures = models.PositiveIntegerField(
        default=0, help_text="Failed checks in a row (0 once the link works again)."
    )

    class Meta:
        ordering = ["url"]
        constraints = [
            models.UniqueConstraint(fields=["url"], name="linkcheck_unique_url"),
        ]

    def __str__(self):
        return self.url
