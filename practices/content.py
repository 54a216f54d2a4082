"""Load the catalogue content shipped in fixtures/catalogue/*.json.

Why not `loaddata`: a fixture overwrites rows by primary key, so every `make run`
would undo curators' edits. This loader only *adds* what is missing, matched on
natural keys (ISO code, NUTS code, slug), and never touches a record that exists.
Each file holds any of the keys in KINDS; one entry may appear in several files
only if it is identical in each.
"""

import json
from collections import Counter
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import (
    Country,
    InstrumentType,
    Practice,
    PracticeSource,
    Project,
    Region,
    Status,
    Theme,
)

CONTENT_DIR = Path(settings.BASE_DIR) / "fixtures" / "catalogue"
KINDS = [
    "countries",
    "regions",
    "themes",
    "instruments",
    "projects",
    "practices",
    "briefs",
]
KEYS = {
    "countries": "code",
    "regions": "code",
    "themes": "slug",
    "instruments": "slug",
    "projects": "slug",
    "practices": "slug",
    "briefs": "slug",
}


class ContentError(Exception):
    """The content files are inconsistent; the message says where and why."""


def content_files():
    return sorted(CONTENT_DIR.glob("*.json"))


def read_content(paths):
    """Merge the files into {kind: {key: entry}}, refusing conflicting duplicates."""
    merged = {kind: {} for kind in KINDS}
    for path in paths:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ContentError(f"{path}: cannot read JSON ({exc})") from exc
        if not isinstance(data, dict) or set(data) - set(KINDS):
            raise ContentError(f"{path}: expected an object with keys among {KINDS}")
        for kind, entries in data.items():
            for entry in entries:
                key = entry.get(KEYS[kind])
                if not key:
                    raise ContentError(f"{path}: a {kind} entry has no {KEYS[kind]}")
                if key in merged[kind] and merged[kind][key] != entry:
                    raise ContentError(
                        f"{path}: {kind} '{key}' differs from an earlier file"
                    )
                merged[kind][key] = entry
    return merged


def load_catalogue(paths=None):
    """Add every missing record; return a Counter of what was created."""
    content = read_content(content_files() if paths is None else paths)
    created = Counter()
    with transaction.atomic():
        for kind in KINDS:
            loader = LOADERS[kind]
            existing = loader.existing(content[kind])
            for key, entry in loader.ordered(content[kind]):
                if key in existing:
                    continue
                try:
                    loader.create(entry)
                except ValidationError as exc:
                    raise ContentError(f"{kind} '{key}': {exc.messages}") from exc
                except IntegrityError as exc:
                    raise ContentError(f"{kind} '{key}': {exc}") from exc
                except (KeyError, ObjectDoesNotExist) as exc:
                    raise ContentError(f"{kind} '{key}': missing {exc}") from exc
                except ContentError as exc:
                    raise ContentError(f"{kind} '{key}': {exc}") from exc
                created[kind] += 1
    return created


def _save(obj):
    # Field validation here; the database enforces the named constraints (faster
    # than validating each in Python, and an IntegrityError is reported below).
    obj.full_clean(validate_constraints=False)
    obj.save()
    return obj


def _pick(entry, fields):
    unknown = set(entry) - set(fields)
    if unknown:
        raise ContentError(f"unexpected fields {sorted(unknown)}")
    return entry


class _Loader:
    model = None
    key = ""

    def ordered(self, entries):
        return entries.items()

    def existing(self, entries):
        lookup = {f"{self.key}__in": list(entries)}
        return set(self.model.objects.filter(**lookup).values_list(self.key, flat=True))


class CountryLoader(_Loader):
    model, key = Country, "code"

    def create(self, e):
        _pick(e, ["code", "name", "nuts_code"])
        _save(Country(code=e["code"], name=e["name"], nuts_code=e["nuts_code"]))


class RegionLoader(_Loader):
    model, key = Region, "code"

    def create(self, e):
        _pick(e, ["code", "name", "level", "country", "parent"])
        parent = None
        if e.get("parent"):
            parent = Region.objects.filter(code=e["parent"]).first()
            if parent is None:  # parents are created first, see ordered()
                raise ContentError(f"unknown parent {e['parent']}")
        _save(
            Region(
                code=e["code"],
                name=e["name"],
                level=e["level"],
                country=Country.objects.get(code=e["country"]),
                parent=parent,
            )
        )

    def ordered(self, entries):
        # Parents before children: NUTS codes grow one character a level.
        return sorted(entries.items(), key=lambda item: len(item[0]))


class TermLoader(_Loader):
    key = "slug"

    def __init__(self, model):
        self.model = model

    def create(self, e):
        _pick(e, ["slug", "name", "description"])
        _save(self.model(slug=e["slug"], name=e["name"], description=e["description"]))


class ProjectLoader(_Loader):
    model, key = Project, "slug"
    fields = [
        "slug",
        "acronym",
        "name",
        "lead_partner",
        "start_year",
        "end_year",
        "url",
        "description",
    ]

    def create(self, e):
        _pick(e, self.fields)
        values = {field: e.get(field) for field in self.fields}
        for text in ("name", "lead_partner", "url", "description"):
            values[text] = values[text] or ""
        _save(Project(**values))


class PracticeLoader(_Loader):
    model, key = Practice, "slug"
    text_fields = [
        "title",
        "summary",
        "description",
        "resources",
        "evidence",
        "transfer",
        "beneficiaries",
        "level",
        "institution",
        "city",
        "budget",
        "attribution",
    ]
    fields = [
        *text_fields,
        "slug",
        "start_year",
        "end_year",
        "still_running",
        "countries",
        "regions",
        "themes",
        "instruments",
        "project",
        "sources",
        "uncertain",
        "published_on",
    ]

    def create(self, e):
        _pick(e, self.fields)
        practice = Practice(
            slug=e["slug"],
            start_year=e.get("start_year"),
            end_year=e.get("end_year"),
            still_running=e.get("still_running", False),
            project=Project.objects.get(slug=e["project"])
            if e.get("project")
            else None,
            uncertain_fields=e.get("uncertain", []),
            status=Status.PUBLISHED,
            published_on=e.get("published_on") or timezone.localdate(),
            **{field: e.get(field) or "" for field in self.text_fields},
        )
        _save(practice)
        practice.countries.set(_all(Country, "code", e.get("countries", [])))
        practice.regions.set(_all(Region, "code", e.get("regions", [])))
        practice.themes.set(_all(Theme, "slug", e.get("themes", [])))
        practice.instruments.set(_all(InstrumentType, "slug", e.get("instruments", [])))
        for position, source in enumerate(e.get("sources", [])):
            _save(
                PracticeSource(
                    practice=practice,
                    url=source["url"],
                    title=source.get("title", ""),
                    position=position,
                )
            )


class BriefLoader(_Loader):
    key = "slug"

    @property
    def model(self):
        from briefs.models import Brief  # briefs builds on practices, not the reverse

        return Brief

    def create(self, e):
        from briefs.models import Brief, BriefSection, FeaturedPractice

        _pick(
            e,
            [
                "slug",
                "title",
                "standfirst",
                "source_url",
                "source_published_on",
                "attribution",
                "published_on",
                "sections",
                "featured",
            ],
        )
        brief = _save(
            Brief(
                slug=e["slug"],
                title=e["title"],
                standfirst=e["standfirst"],
                source_url=e["source_url"],
                source_published_on=e.get("source_published_on"),
                attribution=e["attribution"],
                status=Status.PUBLISHED,
                published_on=e.get("published_on") or timezone.localdate(),
            )
        )
        sections = {}
        for position, s in enumerate(e.get("sections", [])):
            sections[s["anchor"]] = _save(
                BriefSection(
                    brief=brief,
                    anchor=s["anchor"],
                    heading=s["heading"],
                    body=s["body"],
                    position=position,
                )
            )
        for position, f in enumerate(e.get("featured", [])):
            _save(
                FeaturedPractice(
                    brief=brief,
                    practice=Practice.objects.get(slug=f["practice"]),
                    section=sections[f["section"]] if f.get("section") else None,
                    note=f.get("note") or "",
                    position=position,
                )
            )


def _all(model, key, values):
    """Fetch the rows for these keys, naming any that do not exist."""
    rows = list(model.objects.filter(**{f"{key}__in": values}))
    missing = set(values) - {getattr(row, key) for row in rows}
    if missing:
        raise ContentError(f"unknown {model._meta.verbose_name} {sorted(missing)}")
    return rows


LOADERS = {
    "countries": CountryLoader(),
    "regions": RegionLoader(),
    "themes": TermLoader(Theme),
    "instruments": TermLoader(InstrumentType),
    "projects": ProjectLoader(),
    "practices": PracticeLoader(),
    "briefs": BriefLoader(),
}
