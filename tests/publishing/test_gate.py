"""What guards publication (publishing/workflow.py): the publishing gate, a
practice's publication_gaps(), and four eyes, that whoever submitted a record for
review does not publish it. Each holds on every path to "published": transition(),
a plain save() and a form that edits the status."""

import re
from datetime import date

import pytest
from django import forms
from django.core.exceptions import PermissionDenied

from practices.models import Practice
from publishing.models import Status
from publishing.workflow import (
    MOVES,
    TransitionNotAllowed,
    available_moves,
    submitter_id,
    transition,
)
from tests.factories import (
    make_brief,
    make_country,
    make_practice,
    make_region,
    make_theme,
    make_user,
    publishable_parts,
)

pytestmark = pytest.mark.django_db

EVERY_NEED = [
    "a summary",
    "a source",
    "a theme",
    "an instrument type",
    "a place (a country or region) or an implementation level",
]


def stored_status(obj):
    return type(obj).objects.values_list("status", flat=True).get(pk=obj.pk)


# --- the gate ---------------------------------------------------------------------


def test_publishing_a_bare_practice_is_refused_naming_everything_it_needs(reviewer):
    practice = make_practice(title="Bare", status=Status.IN_REVIEW, summary=" ")
    with pytest.raises(TransitionNotAllowed) as refused:
        transition(practice, "publish", reviewer)
    assert str(refused.value) == (
        "“Bare” cannot be published yet: it needs " + "; ".join(EVERY_NEED) + "."
    )
    assert stored_status(practice) == Status.IN_REVIEW


@pytest.mark.parametrize(
    ("left_out", "need"),
    [
        ("sources", "a source"),
        ("themes", "a theme"),
        ("instruments", "an instrument type"),
        ("countries", EVERY_NEED[-1]),
    ],
)
def test_each_missing_item_alone_is_named(reviewer, left_out, need):
    parts = publishable_parts()
    parts[left_out] = []
    practice = make_practice(status=Status.IN_REVIEW, **parts)
    assert practice.publication_gaps() == [need]
    with pytest.raises(TransitionNotAllowed, match=re.escape(f"it needs {need}.")):
        transition(practice, "publish", reviewer)


@pytest.mark.parametrize("place", ["country", "region", "level"])
def test_a_country_a_region_or_a_level_is_enough_of_a_place(reviewer, place):
    parts = {**publishable_parts(), "countries": []}
    if place == "country":
        parts["countries"] = [make_country()]
    elif place == "region":
        parts["regions"] = [make_region()]
    else:
        parts["level"] = "regional"
    practice = make_practice(status=Status.IN_REVIEW, **parts)
    transition(practice, "publish", reviewer)
    assert stored_status(practice) == Status.PUBLISHED


def test_a_complete_practice_has_no_gaps():
    assert (
        make_practice(status=Status.DRAFT, **publishable_parts()).publication_gaps()
        == []
    )


def test_reinstating_an_incomplete_archived_practice_is_refused(reviewer):
    practice = make_practice(
        status=Status.ARCHIVED, title="Old", published_on=date(2026, 1, 1)
    )
    with pytest.raises(TransitionNotAllowed, match="“Old” cannot be published yet"):
        transition(practice, "reinstate", reviewer)
    assert stored_status(practice) == Status.ARCHIVED


def test_a_plain_save_cannot_publish_an_incomplete_practice():
    """The shell's way round transition(): the model refuses it too."""
    practice = make_practice(status=Status.IN_REVIEW)
    practice.status = Status.PUBLISHED
    with pytest.raises(TransitionNotAllowed) as refused:
        practice.save()
    assert "cannot be published yet: it needs a source" in refused.value.messages[0]
    assert stored_status(practice) == Status.IN_REVIEW


def test_a_form_that_edits_the_status_reports_the_gate_on_the_field():
    practice = make_practice(status=Status.IN_REVIEW)
    form_class = forms.modelform_factory(Practice, fields=["status"])
    form = form_class({"status": Status.PUBLISHED}, instance=practice)
    assert not form.is_valid()
    assert "cannot be published yet" in form.errors["status"][0]


def test_the_gate_reads_the_relations_as_stored(reviewer):
    practice = make_practice(status=Status.IN_REVIEW, **publishable_parts())
    practice.themes.clear()
    with pytest.raises(TransitionNotAllowed, match="it needs a theme.$"):
        transition(practice, "publish", reviewer)
    practice.themes.add(make_theme())
    transition(practice, "publish", reviewer)
    assert stored_status(practice) == Status.PUBLISHED


def test_briefs_have_no_gate(reviewer):
    brief = make_brief(status=Status.IN_REVIEW)
    transition(brief, "publish", reviewer)
    assert stored_status(brief) == Status.PUBLISHED


def test_loaders_still_create_published_practices_as_they_are():
    """New rows may start in any status (load_catalogue, generate_practices): only
    a move to published goes through the gate."""
    practice = make_practice(status=Status.PUBLISHED)
    assert practice.publication_gaps() and stored_status(practice) == Status.PUBLISHED


def test_the_catalogue_loads_as_it_is_and_its_incomplete_practice_stays_so(
    catalogue, reviewer, editor
):
    """Export Development Program is named in the policy brief but no source
    describes it (GO4EXPORT was the other such practice until issue 22), so it
    has no theme, instrument or place: it is loaded published, as shipped, but
    taken back to draft it cannot be published again until it is completed."""
    practice = Practice.objects.get(slug="export-development-program")
    assert practice.status == Status.PUBLISHED
    assert practice.publication_gaps() == [
        "a theme",
        "an instrument type",
        "a place (a country or region) or an implementation level",
    ]
    transition(practice, "unpublish", reviewer)
    transition(practice, "submit", editor)
    with pytest.raises(TransitionNotAllowed, match="it needs a theme; "):
        transition(practice, "publish", reviewer)


# --- four eyes --------------------------------------------------------------------


@pytest.fixture
def other_reviewer(db):
    return make_user(groups=["Reviewers"], username="otto")


def in_review(user):
    """A complete practice `user` submitted for review."""
    practice = make_practice(status=Status.DRAFT, title="Mine", **publishable_parts())
    transition(practice, "submit", user)
    return practice


def test_the_submitter_cannot_publish_their_own_submission(reviewer):
    practice = in_review(reviewer)
    with pytest.raises(PermissionDenied) as refused:
        transition(practice, "publish", reviewer)
    assert str(refused.value) == (
        "You submitted “Mine” for review, so another reviewer must publish it: "
        "every record is seen by two people before it is public."
    )
    assert stored_status(practice) == Status.IN_REVIEW
    assert [m.name for m in available_moves(practice, reviewer)] == ["send_back"]


def test_another_reviewer_publishes_it(reviewer, other_reviewer):
    practice = in_review(reviewer)
    assert submitter_id(practice) == reviewer.pk
    transition(practice, "publish", other_reviewer)
    assert stored_status(practice) == Status.PUBLISHED


def test_superusers_are_held_to_four_eyes_too(db):
    boss = make_user(username="boss", is_superuser=True)
    practice = in_review(boss)
    with pytest.raises(PermissionDenied, match="another reviewer must publish it"):
        transition(practice, "publish", boss)


def test_a_team_of_one_may_allow_self_publishing(reviewer, settings):
    settings.ALLOW_SELF_PUBLISHING = True
    practice = in_review(reviewer)
    transition(practice, "publish", reviewer)
    assert stored_status(practice) == Status.PUBLISHED


def test_the_latest_submission_counts(reviewer, other_reviewer, editor):
    """Sent back and submitted again by someone else: the first submitter may now
    publish it; edits during review do not make the editor its submitter."""
    practice = in_review(reviewer)
    transition(practice, "send_back", other_reviewer)
    transition(practice, "submit", other_reviewer)
    practice.title = "Edited in review"
    practice._history_user = editor
    practice.save()
    assert submitter_id(practice) == other_reviewer.pk
    assert MOVES["publish"] in available_moves(practice, reviewer)
    transition(practice, "publish", reviewer)
    assert stored_status(practice) == Status.PUBLISHED


def test_a_record_loaded_in_review_has_no_submitter(reviewer):
    practice = make_practice(status=Status.IN_REVIEW, **publishable_parts())
    assert submitter_id(practice) is None
    transition(practice, "publish", reviewer)
    assert stored_status(practice) == Status.PUBLISHED
