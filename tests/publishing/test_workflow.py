"""The curation workflow (publishing/workflow.py): the moves, who may make them,
and their enforcement in the model layer, for practices and briefs alike."""

from datetime import date
from importlib import import_module
from itertools import product
from types import SimpleNamespace

import pytest
from django import forms
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

from practices.models import CatalogueVersion, Practice
from publishing.models import Status
from publishing.workflow import MOVES, TransitionNotAllowed, transition
from tests.factories import (
    committed,
    make_brief,
    make_practice,
    make_user,
    publishable_parts,
)

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 27)

# The whole table, written out: (action, from, to, permission it needs).
TABLE = [
    ("submit", Status.DRAFT, Status.IN_REVIEW, "submit"),
    ("publish", Status.IN_REVIEW, Status.PUBLISHED, "publish"),
    ("send_back", Status.IN_REVIEW, Status.DRAFT, "send_back"),
    ("archive", Status.PUBLISHED, Status.ARCHIVED, "archive"),
    ("unpublish", Status.PUBLISHED, Status.DRAFT, "publish"),
    ("reinstate", Status.ARCHIVED, Status.PUBLISHED, "publish"),
]
ALLOWED = {(source, target) for _, source, target, _ in TABLE}
FORBIDDEN = [
    (source, target)
    for source, target in product(Status.values, repeat=2)
    if source != target and (source, target) not in ALLOWED
]
MAKERS = {"practice": make_practice, "brief": make_brief}


def make(kind, status):
    """A record in `status`, complete enough to be published; published and
    archived ones have a date."""
    published_on = (
        date(2026, 1, 1) if status in (Status.PUBLISHED, Status.ARCHIVED) else None
    )
    parts = publishable_parts() if kind == "practice" else {}
    return MAKERS[kind](status=status, published_on=published_on, **parts)


def stored_status(obj):
    return type(obj).objects.values_list("status", flat=True).get(pk=obj.pk)


def test_the_table_is_the_one_in_the_code():
    assert [(m.name, m.source, m.target, m.permission) for m in MOVES.values()] == TABLE
    # Eight moves are refused: e.g. draft → published, archived → draft.
    assert (Status.DRAFT, Status.PUBLISHED) in FORBIDDEN
    assert (Status.ARCHIVED, Status.DRAFT) in FORBIDDEN
    assert len(FORBIDDEN) == 6


# --- the model layer --------------------------------------------------------------


@pytest.mark.parametrize("kind", MAKERS)
@pytest.mark.parametrize(("source", "target"), sorted(ALLOWED))
def test_save_allows_every_move_of_the_table(kind, source, target):
    obj = make(kind, source)
    obj.status = target
    if target == Status.PUBLISHED:
        obj.published_on = obj.published_on or TODAY
    obj.save()
    assert stored_status(obj) == target


@pytest.mark.parametrize("kind", MAKERS)
@pytest.mark.parametrize(("source", "target"), FORBIDDEN)
def test_save_refuses_every_other_status_change(kind, source, target):
    obj = make(kind, source)
    obj.status = target
    obj.published_on = obj.published_on or TODAY
    with pytest.raises(TransitionNotAllowed) as refused:
        obj.save()
    assert "cannot go from" in refused.value.messages[0]
    assert stored_status(obj) == source


@pytest.mark.parametrize("kind", MAKERS)
@pytest.mark.parametrize("status", Status.values)
def test_new_rows_may_start_in_any_status(kind, status):
    """Trusted loaders (load_catalogue, generate_practices, factories) create
    published rows directly; only changes of an existing row are moves."""
    assert stored_status(make(kind, status)) == status


def test_a_status_change_is_checked_against_the_stored_status():
    practice = make("practice", Status.ARCHIVED)
    # A copy built by hand (as simple-history builds a version) is checked against
    # the database, not against what it was built with.
    copy = Practice.objects.get(pk=practice.pk)
    copy.__dict__.pop("_saved_status")
    copy.status = Status.DRAFT
    with pytest.raises(TransitionNotAllowed):
        copy.save()
    version = practice.history.earliest().instance  # status archived, like the row
    version.status = Status.DRAFT
    with pytest.raises(TransitionNotAllowed):
        version.save()
    assert stored_status(practice) == Status.ARCHIVED


def test_refresh_from_db_updates_the_status_the_checks_start_from():
    practice = make_practice(status=Status.DRAFT, **publishable_parts())
    other = Practice.objects.get(pk=practice.pk)
    other.status = Status.IN_REVIEW
    other.save()
    practice.refresh_from_db()
    practice.status = Status.PUBLISHED  # in review → published is a move
    practice.published_on = TODAY
    practice.save()
    assert stored_status(practice) == Status.PUBLISHED


def test_saving_other_fields_only_skips_the_check():
    practice = make_practice(status=Status.DRAFT)
    practice.title = "Renamed"
    practice.save(update_fields=["title"])
    assert Practice.objects.get(pk=practice.pk).title == "Renamed"


# --- transition(): moves and permissions ------------------------------------------


@pytest.mark.parametrize("kind", MAKERS)
@pytest.mark.parametrize(("action", "source", "target", "permission"), TABLE)
def test_a_reviewer_can_make_every_move(
    kind, action, source, target, permission, reviewer
):
    obj = make(kind, source)
    before = CatalogueVersion.current()
    with committed():
        move = transition(obj, action, reviewer)
    assert move.target == target
    assert stored_status(obj) == target
    assert CatalogueVersion.current() != before  # the save signal bumped it
    latest = obj.history.latest()
    assert latest.history_user == reviewer
    assert latest.history_change_reason == move.done.capitalize()


@pytest.mark.parametrize("kind", MAKERS)
@pytest.mark.parametrize(("action", "source", "target", "permission"), TABLE)
def test_an_editor_can_only_submit(kind, action, source, target, permission, editor):
    obj = make(kind, source)
    if action == "submit":
        transition(obj, action, editor)
        assert stored_status(obj) == target
    else:
        with pytest.raises(PermissionDenied):
            transition(obj, action, editor)
        assert stored_status(obj) == source


@pytest.mark.parametrize("kind", MAKERS)
@pytest.mark.parametrize("action", MOVES)
def test_staff_without_a_group_can_make_no_move(kind, action):
    staff = make_user()
    obj = make(kind, MOVES[action].source)
    with pytest.raises(PermissionDenied):
        transition(obj, action, staff)
    with pytest.raises(PermissionDenied):
        transition(obj, action, None)


@pytest.mark.parametrize("kind", MAKERS)
@pytest.mark.parametrize(
    ("action", "status"),
    [
        (action, status)
        for action, status in product(MOVES, Status.values)
        if MOVES[action].source != status
    ],
)
def test_a_move_from_the_wrong_status_is_refused(kind, action, status, reviewer):
    obj = make(kind, status)
    with pytest.raises(TransitionNotAllowed) as refused:
        transition(obj, action, reviewer)
    assert "cannot be" in refused.value.messages[0]
    assert stored_status(obj) == status


def test_an_unknown_action_is_refused(reviewer):
    with pytest.raises(TransitionNotAllowed, match="not a workflow action"):
        transition(make_practice(status=Status.DRAFT), "delete", reviewer)


def test_first_publication_is_dated_today_and_later_moves_keep_the_date(
    reviewer, editor, monkeypatch
):
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: TODAY)
    practice = make_practice(status=Status.IN_REVIEW, **publishable_parts())
    assert practice.published_on is None
    transition(practice, "publish", reviewer)
    assert practice.published_on == TODAY
    later = date(2027, 3, 1)
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: later)
    for action in ("archive", "reinstate", "unpublish", "submit", "publish"):
        transition(practice, action, editor if action == "submit" else reviewer)
        assert Practice.objects.get(pk=practice.pk).published_on == TODAY


def test_a_scheduled_date_is_kept_on_publication(reviewer):
    practice = make_practice(
        status=Status.IN_REVIEW, published_on=date(2030, 1, 1), **publishable_parts()
    )
    transition(practice, "publish", reviewer)
    assert practice.published_on == date(2030, 1, 1)
    assert not Practice.objects.published().filter(pk=practice.pk).exists()


def test_transition_starts_from_the_stored_status_not_a_stale_copy(reviewer):
    """Two curators on the same record: the second move is judged on the status
    the first one left, not on the one the second curator loaded."""
    practice = make_practice(status=Status.IN_REVIEW)
    stale = Practice.objects.get(pk=practice.pk)
    transition(practice, "send_back", reviewer)
    with pytest.raises(TransitionNotAllowed):
        transition(stale, "publish", reviewer)
    assert stored_status(practice) == Status.DRAFT


# --- the groups ---------------------------------------------------------------------

EDITORS = {
    "practices.view_practice",
    "practices.add_practice",
    "practices.change_practice",
    "practices.submit_practice",
    "practices.view_practicesource",
    "practices.add_practicesource",
    "practices.change_practicesource",
    "practices.delete_practicesource",
    "practices.view_project",
    "practices.add_project",
    "practices.change_project",
    "practices.view_country",
    "practices.view_region",
    "practices.view_theme",
    "practices.view_instrumenttype",
    "practices.view_linkcheck",
    "briefs.view_brief",
    "briefs.add_brief",
    "briefs.change_brief",
    "briefs.submit_brief",
    "briefs.view_briefsection",
    "briefs.add_briefsection",
    "briefs.change_briefsection",
    "briefs.delete_briefsection",
    "briefs.view_featuredpractice",
    "briefs.add_featuredpractice",
    "briefs.change_featuredpractice",
    "briefs.delete_featuredpractice",
    # briefs 0011_recommendation_permissions
    *(
        f"briefs.{action}_{model}"
        for model in ("recommendation", "recommendationpractice")
        for action in ("view", "add", "change", "delete")
    ),
}
REVIEWERS = EDITORS | {
    "practices.publish_practice",
    "practices.send_back_practice",
    "practices.archive_practice",
    "practices.add_theme",
    "practices.change_theme",
    "practices.add_instrumenttype",
    "practices.change_instrumenttype",
    "briefs.publish_brief",
    "briefs.send_back_brief",
    "briefs.archive_brief",
    "accessibility.view_feedback",
    "accessibility.change_feedback",
}


# Both groups curate a practice's evidence grade and outcome figures with it
# (evidence 0002_curation_permissions).
EVIDENCE = {
    f"evidence.{action}_{model}"
    for model in ("grade", "outcomefigure")
    for action in ("view", "add", "change", "delete")
}


def permissions_of(group_name):
    permissions = Permission.objects.filter(group__name=group_name)
    return {
        f"{app}.{codename}"
        for app, codename in permissions.values_list(
            "content_type__app_label", "codename"
        )
    }


def test_the_migration_creates_the_groups_with_exactly_these_permissions():
    assert set(Group.objects.values_list("name", flat=True)) >= {
        "Editors",
        "Reviewers",
    }
    assert permissions_of("Editors") == EDITORS | EVIDENCE
    assert permissions_of("Reviewers") == REVIEWERS | EVIDENCE


def test_no_group_may_delete_practices_or_briefs():
    for group in ("Editors", "Reviewers"):
        assert not {
            "practices.delete_practice",
            "briefs.delete_brief",
        } & permissions_of(group)


def test_the_group_migration_runs_again_and_backwards():
    migration = import_module("practices.migrations.0008_curation_groups")
    # The permissions a later migration adds (recommendations).
    later = import_module("briefs.migrations.0011_recommendation_permissions")
    loader = MigrationLoader(connection)
    apps = loader.project_state(("practices", "0008_curation_groups")).apps
    later_apps = loader.project_state(
        ("briefs", "0011_recommendation_permissions")
    ).apps
    schema_editor = SimpleNamespace(connection=connection)  # RunPython needs no DDL
    later.revoke(later_apps, schema_editor)
    assert not {"briefs.add_recommendation"} & permissions_of("Editors")
    migration.remove_groups(apps, schema_editor)
    assert not Group.objects.filter(name__in=["Editors", "Reviewers"]).exists()
    for _ in range(2):  # idempotent: a second run leaves the same groups
        migration.create_groups(apps, schema_editor)
        later.grant(later_apps, schema_editor)
        assert permissions_of("Editors") == EDITORS
        assert permissions_of("Reviewers") == REVIEWERS
    assert Group.objects.filter(name__in=["Editors", "Reviewers"]).count() == 2


def test_a_form_that_edits_the_status_reports_a_forbidden_change_on_the_field():
    class StatusForm(forms.ModelForm):
        class Meta:
            model = Practice
            fields = ["status", "published_on"]

    practice = make_practice(status=Status.DRAFT)
    form = StatusForm(
        {"status": "published", "published_on": "2026-01-01"}, instance=practice
    )
    assert not form.is_valid()
    assert "cannot go from Draft to Published" in form.errors["status"][0]
    form = StatusForm({"status": "in_review", "published_on": ""}, instance=practice)
    assert form.is_valid(), form.errors
    form.save()
    assert stored_status(practice) == Status.IN_REVIEW
