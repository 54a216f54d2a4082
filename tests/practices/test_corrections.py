"""The corrections of issue 15 reach databases that already held the catalogue
(migration 0011): a database holding what was shipped before ends up with what
the fixtures hold now, and a curator's edit is never overwritten."""

import importlib
import json
from types import SimpleNamespace

from django.apps import apps
from django.db import connection

from briefs.models import Brief
from opendata.records import practice_record
from practices.content import CONTENT_DIR, load_catalogue
from practices.models import CatalogueVersion, Country, Practice, Project

corrections = importlib.import_module(
    "practices.migrations.0011_corrections_from_the_research"
)
# Runs after 0011 on the same databases: it moves the brief's gaps to its note.
gaps_moved = importlib.import_module("briefs.migrations.0009_gaps_out_of_the_sections")
OLD_PROJECT = {
    "slug": "expedire-slovenia-austria",
    "acronym": "Expedire",
    "name": "Expedire - economic bridge between Slovenia and Austria",
    "start_year": 2017,
}


def as_shipped_before(catalogue):
    """Put back the values the corrections replace, as an older load left them."""
    Project.objects.create(**OLD_PROJECT)
    for slug, fields in corrections.PRACTICES.items():
        practice = Practice.objects.get(slug=slug)
        for name, change in fields.items():
            before = change if name == "source_titles" else change[0]
            if name == "countries":
                practice.countries.set(catalogue_countries(before))
            elif name == "project":
                practice.project = Project.objects.filter(slug=before).first()
            elif name == "new_sources":
                practice.sources.filter(url__in=[url for url, _ in change]).delete()
            elif name == "source_titles":
                for url, title, _corrected in before:
                    practice.sources.filter(url=url).update(title=title)
            else:
                setattr(practice, name, before)
        practice.save()
        without_prerequisites(practice)
    brief = Brief.objects.get(slug=corrections.BRIEF)
    Brief.objects.filter(pk=brief.pk).update(unconfirmed_note="")  # before 0009
    for anchor, (before, _after) in corrections.SECTIONS.items():
        brief.sections.filter(anchor=anchor).update(body=before)
    for slug, fields in corrections.FEATURED.items():
        feature = brief.featured.get(practice__slug=slug)
        feature.note = fields["note"][0]
        feature.section = brief.sections.get(anchor=fields["section"][0])
        feature.save()


RESEARCH = CONTENT_DIR.parent / "research" / "transfer-prerequisites.json"


def without_prerequisites(practice):
    """As loaded before its transfer prerequisites were researched: without them,
    their flags and the sources they brought (those the research gave a title)."""
    for name in Practice.PREREQUISITES:
        setattr(practice, name, "")
    practice.uncertain_fields = [
        name for name in practice.uncertain_fields if name not in Practice.PREREQUISITES
    ]
    (found,) = [
        r for r in json.loads(RESEARCH.read_text("utf-8")) if r["slug"] == practice.slug
    ]
    brought = [
        found[name]["url"]
        for name in Practice.PREREQUISITES
        if found[name] and found[name].get("title")
    ]
    practice.sources.filter(url__in=brought).delete()
    practice.save()


def catalogue_countries(codes):
    return Country.objects.filter(code__in=codes)


def records(slugs):
    practices = Practice.objects.for_export().filter(slug__in=slugs)
    return {p.slug: practice_record(p, absolute_url=str) for p in practices}


def brief_state():
    brief = Brief.objects.get(slug=corrections.BRIEF)
    sections = dict(brief.sections.values_list("anchor", "body"))
    featured = {
        f.practice.slug: (f.section.anchor if f.section else None, f.note)
        for f in brief.featured.select_related("practice", "section")
    }
    return sections, featured


def run_corrections():
    """What `migrate` runs on a database from before 0011."""
    schema_editor = SimpleNamespace(connection=connection)
    corrections.correct(apps, schema_editor)
    gaps_moved.move_gaps(apps, schema_editor)


def test_an_older_database_gets_the_corrected_records(catalogue):
    slugs = list(corrections.PRACTICES)
    expected, expected_brief = records(slugs), brief_state()
    as_shipped_before(catalogue)
    assert records(slugs) != expected
    version = CatalogueVersion.current()

    run_corrections()
    load_catalogue()  # as `make run` does after `migrate`

    assert records(slugs) == expected
    assert brief_state() == expected_brief
    assert not Project.objects.filter(slug="expedire-slovenia-austria").exists()
    assert CatalogueVersion.current() != version  # no page cached before is served
    # The search index follows: the corrected evidence is searchable.
    xport = Practice.objects.get(slug="xport-accelerator")
    assert "service standard" in xport.search_text


def test_a_curator_s_edit_is_kept(catalogue):
    as_shipped_before(catalogue)
    Practice.objects.filter(slug="xport-accelerator").update(
        description="Rewritten by a curator."
    )

    run_corrections()

    xport = Practice.objects.get(slug="xport-accelerator")
    assert xport.description == "Rewritten by a curator."
    assert "evidence" in xport.uncertain_fields  # what was not edited is corrected


def test_a_new_database_is_left_to_the_loader(db):
    run_corrections()
    assert not Practice.objects.exists()
    assert not Project.objects.exists()
