"""The brief's gaps leave its sections in databases that already held the
catalogue (briefs migration 0009): what was shipped before ends up as the
fixtures hold it now, and a curator's edit is never overwritten."""

import importlib
from types import SimpleNamespace

from django.apps import apps
from django.db import connection

from briefs.models import Brief
from practices.models import CatalogueVersion

migration = importlib.import_module("briefs.migrations.0009_gaps_out_of_the_sections")


def the_brief():
    return Brief.objects.get(slug=migration.BRIEF)


def state():
    brief = the_brief()
    return (
        dict(brief.sections.values_list("anchor", "body")),
        dict(brief.featured.values_list("practice__slug", "note")),
        brief.unconfirmed_note,
    )


def as_shipped_before():
    brief = the_brief()
    for anchor, (before, _after) in migration.SECTIONS.items():
        brief.sections.filter(anchor=anchor).update(body=before)
    for slug, (before, _after) in migration.NOTES.items():
        brief.featured.filter(practice__slug=slug).update(note=before)
    Brief.objects.filter(pk=brief.pk).update(unconfirmed_note="")


def move_gaps():
    migration.move_gaps(apps, SimpleNamespace(connection=connection))


def test_an_older_database_gets_the_gaps_in_one_note(catalogue):
    expected = state()
    as_shipped_before()
    assert state() != expected
    version = CatalogueVersion.current()

    move_gaps()

    # The note as the migration wrote it: the fixture's has changed since (issue 22,
    # GO4EXPORT), and a database loaded before keeps that practice's old record too.
    sections, notes, _note = expected
    assert state() == (sections, notes, migration.NOTE)
    assert CatalogueVersion.current() != version  # no page cached before is served


def test_a_curator_s_edit_is_kept(catalogue):
    as_shipped_before()
    brief = the_brief()
    brief.sections.filter(anchor="lessons-learnt").update(body="Rewritten.")
    Brief.objects.filter(pk=brief.pk).update(unconfirmed_note="Curated note.")

    move_gaps()

    sections, notes, note = state()
    assert sections["lessons-learnt"] == "Rewritten."
    assert note == "Curated note."
    assert (
        notes["kent-international-business"]
        == migration.NOTES["kent-international-business"][1]
    )  # what was not edited is moved


def test_a_new_database_is_left_to_the_loader(db):
    move_gaps()
    assert not Brief.objects.exists()
