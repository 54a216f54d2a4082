"""The curation workflow of practices and briefs, in one place: the moves (MOVES)
and the permission each needs (the roles: practices/migrations/0008). Unpublish and
reinstate are corrections, with the publish permission. `Publishable.save()` refuses
any other change of a stored status (new rows start in any); move with transition().

Two rules guard publication, whatever path it takes (the admin's buttons and bulk
actions, a form, an import's update, the shell): the record has what a published
one needs (check_publishable: each model's `publication_gaps()`), and whoever
submitted it for review is not the one who publishes it (own_submission: four eyes,
unless settings.ALLOW_SELF_PUBLISHING)."""

from typing import NamedTuple

from django.conf import settings
from django.contrib.auth import get_permission_codename
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone


class Status(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    PUBLISHED = "published", "Published"
    ARCHIVED = "archived", "Archived"


class Move(NamedTuple):
    name: str  # the action's name, e.g. in the admin's POST data
    label: str  # what the button and the bulk action say
    source: str
    target: str
    permission: str  # the action of the permission it needs (see perm())
    done: str  # for messages and the history's change reason


DRAFT, IN_REVIEW, PUBLISHED, ARCHIVED = Status
# fmt: off
MOVES = {move.name: move for move in [
    Move("submit", "Submit for review", DRAFT, IN_REVIEW, "submit",
         "submitted for review"),
    Move("publish", "Publish", IN_REVIEW, PUBLISHED, "publish", "published"),
    Move("send_back", "Send back to draft", IN_REVIEW, DRAFT, "send_back",
         "sent back to draft"),
    Move("archive", "Archive", PUBLISHED, ARCHIVED, "archive", "archived"),
    Move("unpublish", "Unpublish (back to draft)", PUBLISHED, DRAFT, "publish",
         "unpublished"),
    Move("reinstate", "Reinstate (publish again)", ARCHIVED, PUBLISHED, "publish",
         "reinstated"),
]}
# fmt: on


def permissions(model_name, plural):
    """Meta.permissions for a model that follows the workflow: one per kind of move."""
    return [
        (f"submit_{model_name}", f"Can submit {plural} for review"),
        (f"publish_{model_name}", f"Can publish, unpublish and reinstate {plural}"),
        (f"send_back_{model_name}", f"Can send {plural} back to draft"),
        (f"archive_{model_name}", f"Can archive {plural}"),
    ]


def perm(model, action):
    """The name user.has_perm() takes, e.g. "practices.publish_practice"."""
    opts = model._meta
    return f"{opts.app_label}.{get_permission_codename(action, opts)}"


class TransitionNotAllowed(ValidationError):
    """A status change that is not a move of the workflow."""

    def __str__(self):  # the message itself, as PermissionDenied's
        return " ".join(self.messages)


def label(status):
    return Status(status).label


def move_between(source, target):
    return next(
        (m for m in MOVES.values() if (m.source, m.target) == (source, target)), None
    )


def submitter_id(obj):
    """The id of the user who put `obj` in review: the history records each move
    with its user, so the first version of its current spell in review says who
    (None when nobody is recorded, e.g. a record a loader created in review)."""
    last_out = obj.history.exclude(status=Status.IN_REVIEW).order_by("-history_id")
    spell = obj.history.filter(
        status=Status.IN_REVIEW,
        history_id__gt=Coalesce(Subquery(last_out.values("history_id")[:1]), 0),
    )
    return spell.order_by("history_id").values_list("history_user", flat=True).first()


def own_submission(obj, user, move):
    """Four eyes: publishing a record is someone else's than submitting it, for
    every account, superusers too; ALLOW_SELF_PUBLISHING=true lifts it for a team
    of one."""
    return (
        move.name == "publish"
        and not settings.ALLOW_SELF_PUBLISHING
        and user is not None
        and user.pk is not None
        and submitter_id(obj) == user.pk
    )


def may(user, obj, move):
    return (
        user is not None
        and user.has_perm(perm(type(obj), move.permission))
        and not own_submission(obj, user, move)
    )


def check_publishable(obj, field=None, relations=None):
    """Raise TransitionNotAllowed naming everything `obj` still needs before it can
    be published (its model's publication_gaps(relations)); on `field` if given."""
    if gaps := obj.publication_gaps(relations):
        message = f"“{obj}” cannot be published yet: it needs {'; '.join(gaps)}."
        raise TransitionNotAllowed({field: message} if field else message)


def available_moves(obj, user):
    """The moves `user` may make on `obj` now, in table order (for buttons)."""
    return [m for m in MOVES.values() if m.source == obj.status and may(user, obj, m)]


def check(obj, action, user):
    """The Move for `action` on `obj` by `user`; or TransitionNotAllowed, or
    PermissionDenied."""
    move = MOVES.get(action)
    if move is None:
        raise TransitionNotAllowed(f"“{action}” is not a workflow action.")
    if obj.status != move.source:
        raise TransitionNotAllowed(
            f"“{obj}” cannot be {move.done}: it is {label(obj.status)}, and only "
            f"a {obj._meta.verbose_name} that is {label(move.source)} can be."
        )
    if not may(user, obj, move):
        if own_submission(obj, user, move):
            raise PermissionDenied(
                f"You submitted “{obj}” for review, so another reviewer must "
                "publish it: every record is seen by two people before it is public."
            )
        raise PermissionDenied(
            f"You may not {move.label.lower()} {obj._meta.verbose_name_plural}."
        )
    if move.target == Status.PUBLISHED:
        check_publishable(obj)
    return move


def stored_status(obj, lock=False):
    rows = type(obj)._base_manager.filter(pk=obj.pk)
    rows = rows.select_for_update() if lock else rows
    return rows.values_list("status", flat=True).first()


def transition(obj, action, user, *, save=True):
    """Make the move `action` on `obj` as `user`; return the Move. The status is
    read under a row lock: two curators cannot both move it from the same state.
    save=False: the admin saves it with the form's edits (one history version)."""
    with transaction.atomic():
        if (current := stored_status(obj, lock=True)) is not None:
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


def check_status_change(obj, relations=None):
    """Raise TransitionNotAllowed, on the status field, if saving `obj` would change
    its stored status other than by a move, or publish it with gaps (`relations`:
    see publication_gaps)."""
    if obj.pk is None:
        return
    # Not loaded from the database (e.g. a history version): the stored status;
    # None for a new row with a chosen primary key.
    before = getattr(obj, "_saved_status", None) or stored_status(obj)
    if before in (None, obj.status):
        return
    if move_between(before, obj.status):
        if obj.status == Status.PUBLISHED:
            check_publishable(obj, field="status", relations=relations)
        return
    allowed = ", ".join(
        f"{m.label.lower()} ({label(m.target)})"
        for m in MOVES.values()
        if m.source == before
    )
    message = (
        f"“{obj}” cannot go from {label(before)} to {label(obj.status)}. "
        f"From {label(before)} the moves are: {allowed}."
    )
    raise TransitionNotAllowed({"status": message})
