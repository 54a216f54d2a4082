"""Load the catalogue content shipped in fixtures/catalogue/*.json, and the NUTS
2021 units in fixtures/catalogue/*.csv (see NOTES.md for their source).

Practices are in the JSON export's format and go through the importer, as with
`manage.py import_practices`; places, taxonomies, projects and briefs have small
loaders. All only add what is missing (matched on code or slug): `loaddata` would
overwrite rows by primary key and undo curators' edits at every `make run`.
An entry may appear in several files only if it is identical in each.
"""

import csv
import json
from collections import Counter
from datetime import date
from pathlib import Path

from django import forms
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from briefs.models import (
    Brief,
    BriefSection,
    FeaturedPractice,
    Recommendation,
    RecommendationPractice,
)
from evidence.models import Grade, OutcomeFigure
from opendata.imports import CREATE, import_practices

from .models import (
    Country,
    FacetValue,
    InstrumentType,
    Practice,
    PracticeSource,
    Project,
    Region,
    Status,
    Theme,
)
from .signals import refresh_on_commit

CONTENT_DIR = Path(settings.BASE_DIR) / "fixtures" / "catalogue"
KINDS = (
    "countries regions themes instruments projects practices briefs evidence".split()
)
# Places are matched on their code, evidence on its practice, the rest on a slug.
KEYS = {
    **{kind: "code" if kind in ("countries", "regions") else "slug" for kind in KINDS},
    "evidence": "practice",
}


class ContentError(Exception):
    """The content files are inconsistent; the message says where and why."""


# An entry holds every field of its model; a region names other places by code.
class RegionForm(forms.ModelForm):
    country = forms.ModelChoiceField(Country.objects, to_field_name="code")
    parent = forms.ModelChoiceField(
        Region.objects, to_field_name="code", required=False
    )

    class Meta:
        model = Region
        fields = "__all__"


FORMS = {
    "countries": forms.modelform_factory(Country, fields="__all__"),
    "regions": RegionForm,
    "themes": forms.modelform_factory(Theme, fields="__all__"),
    "instruments": forms.modelform_factory(InstrumentType, fields="__all__"),
    "projects": forms.modelform_factory(Project, fields="__all__"),
}


def content_files():
    return sorted(CONTENT_DIR.glob("*.json"))


def catalogue_files():
    """What load_catalogue reads: the content files, then the NUTS units."""
    return content_files() + sorted(CONTENT_DIR.glob("*.csv"))


def _read(path):
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ContentError(f"{path}: cannot read JSON ({exc})") from exc
    if not isinstance(data, dict) or set(data) - {*KINDS, "metadata"}:
        raise ContentError(f"{path}: expected an object with keys among {KINDS}")
    return data


def read_content(paths):
    """Merge the files into {kind: {key: entry}}, refusing conflicting duplicates."""
    merged = {kind: {} for kind in KINDS}
    for path in paths:
        if Path(path).suffix == ".csv":
            continue  # NUTS units: _create_nuts_units
        for kind, entries in _read(path).items():
            for entry in entries if kind in KINDS else []:  # not the metadata
                key = entry.get(KEYS[kind])
                if not key:
                    raise ContentError(f"{path}: a {kind} entry has no {KEYS[kind]}")
                if merged[kind].get(key, entry) != entry:
                    raise ContentError(
                        f"{path}: {kind} '{key}' differs from an earlier file"
                    )
                merged[kind][key] = entry
    return merged


def load_catalogue(paths=None):
    """Add every missing record; return a Counter of what was created."""
    paths = catalogue_files() if paths is None else [Path(path) for path in paths]
    content = read_content(paths)
    created = Counter()
    with transaction.atomic():
        for kind, form_class in FORMS.items():
            model, key = form_class._meta.model, KEYS[kind]
            existing = set(model.objects.values_list(key, flat=True))
            # Shortest first: a NUTS region's parent has a code a character shorter.
            for code in sorted(set(content[kind]) - existing, key=len):
                _create(kind, code, form_class(content[kind][code]))
                created[kind] += 1
        for path in (path for path in paths if path.suffix == ".csv"):
            # After the regions of taxonomies.json, whose names (an English one
            # where the research gave it) are kept.
            created["regions"] += _create_nuts_units(path)
        for path in (path for path in paths if path.suffix == ".json"):
            if "practices" in _read(path):
                report = import_practices(
                    path.read_bytes(), path.name, keep_status=True, gate=False
                )
                if not report.ok:
                    problems = "; ".join(map(str, report.problems))
                    raise ContentError(f"{path.name}: practices not loaded: {problems}")
                created["practices"] += report.counts[CREATE]
        if verified := _add_verification(content["practices"]):
            created["verification dates"] += verified
        if described := _add_prerequisites(content["practices"]):
            created["transfer prerequisites"] += described
        existing = set(Brief.objects.values_list("slug", flat=True))
        for slug in sorted(content["briefs"]):
            entry = dict(content["briefs"][slug])
            try:
                if slug in existing:  # recommendations added to the files later
                    brief = Brief.objects.get(slug=slug)
                    added = _add_recommendations(
                        brief, entry.get("recommendations", [])
                    )
                else:
                    added = _create_brief(entry)
                    created["briefs"] += 1
                if added:
                    created["recommendations"] += added
            except (TypeError, KeyError, ObjectDoesNotExist, ValidationError) as exc:
                raise ContentError(f"briefs '{slug}': {exc!r}") from exc
        for slug, entry in sorted(content["evidence"].items()):
            try:
                created.update(load_evidence(dict(entry)))
            except (TypeError, KeyError, ObjectDoesNotExist, ValidationError) as exc:
                raise ContentError(f"evidence '{slug}': {exc!r}") from exc
        if created:  # on commit, after the search index and facet values
            transaction.on_commit(analyze)
    return +created  # without the kinds of which nothing was added


def analyze():
    """The planner's statistics for the tables the list and the practice page read,
    not the whole database (on PostgreSQL its system catalogues take seconds).
    New rows have none until autovacuum comes by: without them a list with every
    filter took a second on 73 practices, not 5 ms, and SQLite walked every
    practice for a page's "More from" its project (28 ms, 0.06 ms with them, at
    10,000). On PostgreSQL outside a transaction, VACUUM too: the list's counts
    are index-only scans, which read the table for every row until its visibility
    map is set (12 times the pages read at 10,000 practices, measured)."""
    links = [field.remote_field.through for field in Practice._meta.many_to_many]
    analysed = (Practice, FacetValue, Grade, *links)  # Grade: the evidence sort
    tables = [connection.ops.quote_name(model._meta.db_table) for model in analysed]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":  # one table per statement
            for table in tables:
                cursor.execute(f"ANALYZE {table}")
            return
        command = "ANALYZE " if connection.in_atomic_block else "VACUUM (ANALYZE) "
        cursor.execute(command + ", ".join(tables))


def _create(kind, key, form):
    if unknown := set(form.data) - set(form.fields):
        raise ContentError(f"{kind} '{key}': unexpected fields {sorted(unknown)}")
    if not form.is_valid():
        errors = "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())
        raise ContentError(f"{kind} '{key}': {errors}")
    return form.save()


def _create_nuts_units(path):
    """Add the NUTS 1-3 units of a CSV file (code,name,level,parent,country_code,
    name_en: an English name we added, NOTES.md) that are missing, a level at a
    time (a unit's parent is one level up), in bulk: ~1,800 forms would take
    seconds. Level 0 units are the countries, which taxonomies.json names in
    English."""
    with open(path, newline="", encoding="utf-8") as file:
        units = [unit for unit in csv.DictReader(file) if unit["level"] != "0"]
    countries = dict(Country.objects.values_list("nuts_code", "pk"))
    if missing := {unit["country_code"] for unit in units} - countries.keys():
        raise ContentError(f"{path.name}: no country for NUTS codes {sorted(missing)}")
    created = 0
    for level in ("1", "2", "3"):
        known = dict(Region.objects.values_list("code", "pk"))
        new = [
            Region(
                code=unit["code"],
                name=unit["name"],
                name_en=unit.get("name_en") or "",
                level=int(level),
                country_id=countries[unit["country_code"]],
                parent_id=known.get(unit["parent"]),  # none above NUTS 1
            )
            for unit in units
            if unit["level"] == level and unit["code"] not in known
        ]
        Region.objects.bulk_create(new)
        created += len(new)
    named = _add_english_names(units)
    if created or named:
        refresh_on_commit()  # bulk_create sends no signal: the filters' choices
    return created


def _add_english_names(units):
    """Give the regions that have none the English name of their unit (names added
    to the file later reach databases loaded before); one that a curator entered
    is kept. Returns how many were named."""
    english = {unit["code"]: unit["name_en"] for unit in units if unit.get("name_en")}
    regions = list(Region.objects.filter(code__in=english, name_en=""))
    for region in regions:
        region.name_en = english[region.code]
    return Region.objects.bulk_update(regions, ["name_en"])


def _add_verification(entries):
    """Give practices loaded before the research recorded when their sources were
    read that day, its review date (Practice.clean) and the facts it looked for in
    vain, unless a curator has verified them since or has filled the fact in.
    Returns how many were dated."""
    dated = {slug: e for slug, e in entries.items() if e.get("last_verified_on")}
    practices = list(Practice.objects.filter(slug__in=dated, last_verified_on=None))
    for practice in practices:
        entry = dated[practice.slug]
        verified = practice.last_verified_on = date.fromisoformat(
            entry["last_verified_on"]
        )
        if practice.review_by and practice.review_by < verified:
            practice.review_by = None  # follows from it (a curator's later one stays)
        practice.declared_none = [
            name
            for name in entry.get("declared_none", [])
            if name in Practice.COLUMN_FACTS and not getattr(practice, name)
        ]
        practice.clean()
        practice.updated_at = timezone.now()  # a new catalogue version
    fields = ["last_verified_on", "review_by", "declared_none", "updated_at"]
    bulk_update_with_history(
        practices, Practice, fields, default_change_reason="Verification dates loaded"
    )
    if practices:
        refresh_on_commit()
    return len(practices)


def _add_prerequisites(entries):
    """Give practices loaded before the transfer prerequisites were researched
    (Practice.PREREQUISITES) those their entry states, with the flags on them and
    the sources they rest on, unless a curator has filled any in. Returns how many
    were completed."""
    fields = Practice.PREREQUISITES
    stated = {s: e for s, e in entries.items() if any(e.get(f) for f in fields)}
    blank = Q.create([(field, "") for field in fields])
    loaded = Practice.objects.filter(blank, slug__in=stated)
    practices = list(loaded.prefetch_related("sources"))
    sources = []
    for practice in practices:
        entry = stated[practice.slug]
        for field in fields:
            setattr(practice, field, entry.get(field, ""))
        flagged = [f for f in entry.get("uncertain_fields", []) if f in fields]
        practice.uncertain_fields = list(
            dict.fromkeys([*practice.uncertain_fields, *flagged])
        )
        practice.updated_at = timezone.now()  # a new catalogue version
        held = [source.url for source in practice.sources.all()]
        new = [s for s in entry.get("sources", []) if s["url"] not in held]
        sources += [
            PracticeSource(practice=practice, position=len(held) + i, **source)
            for i, source in enumerate(new)
        ]
    bulk_update_with_history(
        practices,
        Practice,
        [*fields, "uncertain_fields", "updated_at"],
        default_change_reason="Transfer prerequisites loaded",
    )
    bulk_create_with_history(sources, PracticeSource)
    if practices:
        refresh_on_commit([practice.pk for practice in practices])
    return len(practices)


STALE_EVIDENCE = "evidence entries left out (their stored record lacks the sources)"


def load_evidence(entry):
    """A practice's grade, if it has none, and its outcome figures, if it has
    none: a curator's own are kept. Sources are named by URL, among the
    practice's own. Returns a Counter of what was created."""
    practice = Practice.objects.get(slug=entry.pop("practice"))
    sources = {source.url: source for source in practice.sources.all()}
    cited, figures = entry.pop("sources", []), entry.pop("figures", [])
    graded = Grade.objects.filter(practice=practice).exists()
    if practice.figures.exists():
        figures = []
    needed = {
        *([] if graded else cited),
        *(f["source"] for f in figures if "source" in f),
    }
    if needed - {*sources}:
        # The stored record is older than the shipped one (or a curator's) and
        # lacks sources this evidence rests on: kept as it is, and reported. The
        # content tests check that the shipped evidence cites its own record.
        return Counter({STALE_EVIDENCE: 1})
    created = Counter()
    if not graded:
        grade = Grade(practice=practice, **entry)
        grade.full_clean()
        grade.save()
        grade.sources.set(sources[url] for url in cited)
        created["grades"] += 1
    for position, values in enumerate(figures):
        source = sources[values.pop("source")]
        figure = OutcomeFigure(
            practice=practice, source=source, position=position, **values
        )
        figure.full_clean()
        figure.save()
        created["figures"] += 1
    return created


def _create_brief(entry):
    """Create the brief with its sections, featured practices and
    recommendations; return how many recommendations were created."""
    sections = {s["anchor"]: s for s in entry.pop("sections", [])}
    featured = entry.pop("featured", [])
    recommendations = entry.pop("recommendations", [])
    brief = Brief(**entry, status=Status.PUBLISHED)
    brief.published_on = brief.published_on or timezone.localdate()
    brief.full_clean(validate_constraints=False)
    brief.save()
    for position, section in enumerate(sections.values()):
        sections[section["anchor"]] = BriefSection.objects.create(
            brief=brief, position=position, **section
        )
    for position, item in enumerate(featured):
        FeaturedPractice.objects.create(
            brief=brief,
            practice=Practice.objects.get(slug=item["practice"]),
            section=sections[item["section"]] if item.get("section") else None,
            note=item.get("note") or "",
            position=position,
        )
    return _add_recommendations(brief, recommendations)


def _add_recommendations(brief, entries):
    """Add the brief's recommendations that it lacks (matched on their anchor),
    each with the practices that illustrate it; return how many were added.
    Those it has are left as curators keep them, with their links; one whose
    number a curator has given to another recommendation is left out, and one
    whose practices are not all in the database yet (loaded from other files)
    waits for a later run."""
    anchors, numbers = set(), set()
    for anchor, number in brief.recommendations.values_list("anchor", "number"):
        anchors.add(anchor)
        numbers.add(number)
    added = 0
    for entry in entries:
        entry = dict(entry)
        links = entry.pop("practices", [])
        if entry["anchor"] in anchors or entry["number"] in numbers:
            continue
        slugs = [link["practice"] for link in links]
        practices = Practice.objects.in_bulk(slugs, field_name="slug")
        if len(practices) < len(set(slugs)):
            continue
        recommendation = Recommendation(brief=brief, **entry)
        recommendation.full_clean()
        recommendation.save()
        for position, link in enumerate(links):  # one at a time: their history
            RecommendationPractice.objects.create(
                recommendation=recommendation,
                practice=practices[link["practice"]],
                note=link.get("note") or "",
                position=position,
            )
        added += 1
    return added
