"""Status histories, shared by enterprises and authorizations.

A history is a list of status-change rows; nothing is ever updated or deleted. The status at a
moment is the status set by the last change in force then (``effective_at <= at``; changes with
the same ``effective_at`` are ordered by id, i.e. by when they were recorded).

New changes are appended in effective-time order: a change may be dated in the past or the
future, but not before the latest change already recorded. Each new change is therefore checked
against the status at the end of the history, and a later change can never make an earlier one
illegal (revoked, then "suspended last week" would rewrite what verifiers already answered).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from gimark.trace.dates import CHINA
from gimark.trace.errors import (
    ChangeOutOfOrderError,
    IllegalTransitionError,
    MissingValueError,
    RevocationFinalError,
)
from gimark.trace.models import Action, Status, StatusChangeMixin

# What each action may start from, and where it leads.
TRANSITIONS: dict[Action, tuple[frozenset[Status], Status]] = {
    Action.SUSPEND: (frozenset({Status.ACTIVE}), Status.SUSPENDED),
    Action.REVOKE: (frozenset({Status.ACTIVE, Status.SUSPENDED}), Status.REVOKED),
    Action.REINSTATE: (frozenset({Status.SUSPENDED}), Status.ACTIVE),
}
# Suspending or revoking takes a right away from someone: the record must say why.
REASON_REQUIRED = frozenset({Action.SUSPEND, Action.REVOKE})

STATUS_ZH = {Status.ACTIVE: "有效", Status.SUSPENDED: "暂停", Status.REVOKED: "撤销"}
ACTION_ZH = {
    Action.CREATE: "登记",
    Action.SUSPEND: "暂停",
    Action.REVOKE: "撤销",
    Action.REINSTATE: "恢复",
}
ACTION_EN_PAST = {
    Action.CREATE: "created",
    Action.SUSPEND: "suspended",
    Action.REVOKE: "revoked",
    Action.REINSTATE: "reinstated",
}


@dataclass(frozen=True)
class Subject:
    """Whose history it is, for messages: e.g. ``Subject("企业", "enterprise", 7)``."""

    what_zh: str
    what_en: str
    id: int


def format_instant(at: dt.datetime) -> str:
    """An instant as people in China read it, with its offset so that it is unambiguous."""
    return at.astimezone(CHINA).isoformat(timespec="seconds")


def _order(change: StatusChangeMixin) -> tuple[dt.datetime, int]:
    return change.effective_at, change.id


def latest_change(changes: Iterable[StatusChangeMixin]) -> StatusChangeMixin | None:
    """The change that ends the history (the latest effective; ties: the last recorded)."""
    return max(changes, key=_order, default=None)


def status_at(changes: Iterable[StatusChangeMixin], at: dt.datetime) -> Status | None:
    """The status at the aware instant ``at``: the last change in force then wins.

    None when ``at`` precedes every change (the subject was not in the registry yet).
    """
    last = latest_change(c for c in changes if c.effective_at <= at)
    return None if last is None else last.status


def plan_change(
    subject: Subject,
    changes: Iterable[StatusChangeMixin],
    action: Action,
    *,
    reason: str,
    effective_at: dt.datetime,
) -> Status:
    """Check that ``action`` may be appended to the history; return the status it sets.

    Raises:
        MissingValueError: no reason was given for a suspension or revocation.
        ChangeOutOfOrderError: ``effective_at`` precedes the latest recorded change.
        RevocationFinalError: the subject is revoked (by the end of its history).
        IllegalTransitionError: the action is not allowed from the status the history ends in.
    """
    if action in REASON_REQUIRED and not reason.strip():
        raise MissingValueError(field="reason", field_zh="原因")
    last = latest_change(changes)
    if last is None:  # every subject's history starts with its "create" change
        raise ValueError(f"{subject.what_en} {subject.id} has no history")
    if effective_at < last.effective_at:
        raise ChangeOutOfOrderError(
            **_names(subject, action),
            effective_at=format_instant(effective_at),
            last_action=last.action.value,
            last_action_zh=ACTION_ZH[last.action],
            last_at=format_instant(last.effective_at),
        )
    allowed_from, target = TRANSITIONS.get(action, (frozenset(), last.status))
    if last.status not in allowed_from:
        error = RevocationFinalError if last.status is Status.REVOKED else IllegalTransitionError
        raise error(
            **_names(subject, action),
            status=last.status.value,
            status_zh=STATUS_ZH[last.status],
            since=format_instant(last.effective_at),
        )
    return target


def _names(subject: Subject, action: Action) -> dict[str, object]:
    return {
        "what": subject.what_zh,
        "what_en": subject.what_en,
        "id": subject.id,
        "action_zh": ACTION_ZH[action],
        "action_en": ACTION_EN_PAST[action],
    }
