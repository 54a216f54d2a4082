"""The curation workflow of practices and briefs, in one place.

    draft ──submit──▶ in review ──publish──▶ published ──archive──▶ archived
      ▲                  │                      │                     │
      └────send back─────┘                      │                     │
      └─────────────────unpublish───────────────┘                     │
                                   published ◀──────reinstate─────────┘

Each move needs a permission (Meta.permissions of Practice and Brief, from
`permissions()` below): editors may submit; reviewers may also publish, send back
and archive. Unpublish (take a published record off the site, back to draft) and
reinstate (publish an archived record again) are corrections, not routine steps:
both need the publish permission, which only reviewers hold. Nothing else moves:
a draft is never published without review, an archived record never goes back to
draft, a record in review is never archived.

The rules hold in the model layer: `Publishable.save()` refuses any change of
`status` on an existing row that is not a move above, wherever it comes from
(admin, a form, the shell). Creating a row in any status stays allowed, for the
trusted loaders (load_catalogue, generate_practices, fixtures, test factories).
QuerySet.update() and bulk_update() bypass save(): use `transition()` instead.

`transition(obj, action, user)` is the API: it checks the move and the user's
permission, gives a first publication today's date (an earlier date is kept),
records who made the move and why in the history, and saves; the save signals
then bump the catalogue version.
"""

from dataclasses import dataclass

from django.contrib.auth import get_permission_codename
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone


class Status(models.TextChoices):
    """Where a practice or brief is in the workflow (the moves are below)."""

    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    PUBLISHED = "published", "Published"
    ARCHIVED = "archived", "Archived"


@dataclass(frozen=True)
class Move:
    name: str  # the action's name, e.g. in the admin's POST data
    label: str  # what the button and the bulk action say
    source: str
    target: str
    permission: str  # the action of the permission it needs (see perm())
    done: str  # past participle for messages and the history's change reason


MOVES = {
    move.name: move
    for move in [
        Move(
            name="submit",
            label="Submit for review",
            source=Status.DRAFT,
            target=Status.IN_REVIEW,
            permission="submit",
            done="submitted for review",
        ),
        Move(
            name="publish",
            label="Publish",
            source=Status.IN_REVIEW,
            target=Status.PUBLISHED,
            permission="publish",
            done="published",
        ),
        Move(
            name="send_back",
            label="Send back to draft",
            source=Status.IN_REVIEW,
            target=Status.DRAFT,
            permission="send_back",
            done="sent back to draft",
        ),
        Move(
            name="archive",
            label="Archive",
            source=Status.PUBLISHED,
            target=Status.ARCHIVED,
            permission="archive",
            done="archived",
        ),
        Move(
            name="unpublish",
            label="Unpublish (back to draft)",
            source=Status.PUBLISHED,
            target=Status.DRAFT,
            permission="publish",
            done="unpublished",
        ),
        Move(
            name="reinstate",
            label="Reinstate (publish again)",
            source=Status.ARCHIVED,
            target=Status.PUBLISHED,
            permission="publish",
            done="reinstated",
        ),
    ]
}

# The custom permissions, one per kind of move: (action, description).
PERMISSIONS = [
    ("submit", "submit {} for review"),
    ("publish", "publish, unpublish and reinstate {}"),
    ("send_back", "send {} back to draft"),
    ("archive", "archive {}"),
]


def permissions(model_name, verbose_name_plural):
    """Meta.permissions for a model that follows the workflow."""
    return [
        (f"{action}_{model_name}", f"Can {text.format(verbose_name_plural)}")
        for action, text in PERMISSIONS
    ]


def perm(model, action):
    """The name user.has_perm() takes for `action` on `model`, built the way Django
    builds its own (e.g. "practices.publish_practice"). The one place such names
    are spelled: the workflow, the admin, the previews and the import use it."""
    opts = model._meta
    return f"{opts.app_label}.{get_permission_codename(action, opts)}"


class TransitionNotAllowed(ValidationError):
    """A status change that is not a move of the workflow."""


def label(status):
    return Status(status).label


def move_between(source, target):
    """The move from `source` to `target`, or None when there is none."""
    return next(
        (m for m in MOVES.values() if m.source == source and m.target == target), None
    )


def moves_from(status):
    return [move for move in MOVES.values() if move.source == status]


def may(user, obj, move):
    return user is not None and user.has_perm(perm(type(obj), move.permission))


def available_moves(obj, user):
    """The moves `user` may make on `obj` now, in table order (for buttons)."""
    return [move for move in moves_from(obj.status) if may(user, obj, move)]


def check(obj, action, user):
    """The Move for `action` on `obj` by `user`; raises TransitionNotAllowed when
    the move does not start from the record's status (or does not exist), and
    PermissionDenied when the user may not make it."""
    move = MOVES.get(action)
    if move is None:
        raise TransitionNotAllowed(
            f"“{action}” is not a workflow action.", code="unknown_action"
        )
    if obj.status != move.source:
        name = obj._meta.verbose_name
        raise TransitionNotAllowed(
            f"“{obj}” cannot be {move.done}: it is {label(obj.status)}, and only "
            f"a {name} that is {label(move.source)} can be.",
            code="wrong_status",
        )
    if not may(user, obj, move):
        raise PermissionDenied(
            f"You may not {move.label.lower()} {obj._meta.verbose_name_plural}."
        )
    return move


def transition(obj, action, user, *, save=True):
    """Make the workflow move `action` on `obj` as `user` and save it.

    The record's status is read again from the database under a row lock, so
    two curators cannot both move it from the same state. With save=False the
    move is only applied to `obj` (the admin then saves it with the form's
    edits, as one change in the history). Returns the Move."""
    with transaction.atomic():
        if obj.pk is not None:
            current = (
                type(obj)
                ._base_manager.select_for_update()
                .filter(pk=obj.pk)
                .values_list("status", flat=True)
                .first()
            )
            if current is not None:
                obj.status = obj._saved_status = current
        move = check(obj, action, user)
        obj.status = move.target
        if move.target == Status.PUBLISHED and obj.published_on is None:
            obj.published_on = timezone.localdate()
        obj._history_user = user
        obj._change_reason = move.done.capitalize()
        if save:
            obj.save()
    return move


def check_status_change(obj):
    """Raise TransitionNotAllowed if saving `obj` would change its stored status
    other than by a move of the workflow. New rows may start in any status."""
    if obj.pk is None:
        return
    before = getattr(obj, "_saved_status", None)
    if before is None:  # not loaded from the database (e.g. a history version)
        before = (
            type(obj)
            ._base_manager.filter(pk=obj.pk)
            .values_list("status", flat=True)
            .first()
        )
        if before is None:  # a new row with a chosen primary key
            return
    if before != obj.status and move_between(before, obj.status) is None:
        allowed = ", ".join(
            f"{m.label.lower()} ({label(m.target)})" for m in moves_from(before)
        )
        raise TransitionNotAllowed(
            f"“{obj}” cannot go from {label(before)} to {label(obj.status)}. "
            f"From {label(before)} the moves are: {allowed}.",
            code="not_a_move",
        )
