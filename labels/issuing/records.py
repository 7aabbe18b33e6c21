"""Batch records: finding batches, and the checks and history every batch operation shares.

Lookups here are what verification uses too: :func:`find_batch_by_serial` answers "which batch
issued this serial" in one index step, whatever the number of labels.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection, Mapping, Sequence
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from gimark.core.errors import not_found
from gimark.labels.issuing.errors import BatchStateError
from gimark.labels.issuing.models import Batch, BatchAction, BatchEvent, BatchStatus
from gimark.trace.services import ACTOR_LIMIT, clean_text

__all__ = [
    "REASON_LIMIT",
    "STATUS_ZH_OF",
    "clean_actor",
    "find_batch_by_serial",
    "get_batch",
    "list_batches",
    "optional_reason",
    "record_event",
    "require_status",
    "required_reason",
]

REASON_LIMIT: Final = 1000  # characters

STATUS_ZH_OF: Final = {
    BatchStatus.REQUESTED: "已申请",
    BatchStatus.APPROVED: "已批准",
    BatchStatus.PRINTED: "已印制",
    BatchStatus.DELIVERED: "已交付",
    BatchStatus.REJECTED: "已驳回",
    BatchStatus.REVOKED: "已撤销",
}
# (English past participle, Chinese verb) for "cannot be …" messages.
_ACTION_WORDS: Final = {
    BatchAction.APPROVE: ("approved", "批准"),
    BatchAction.REJECT: ("rejected", "驳回"),
    BatchAction.GENERATE: ("printed", "生成标签"),
    BatchAction.VOID: ("voided", "作废标签"),
    BatchAction.DELIVER: ("delivered", "交付"),
    BatchAction.REVOKE: ("revoked", "撤销"),
}


# --- lookups ---------------------------------------------------------------------------------


def get_batch(session: Session, batch_id: int, *, lock: bool = False) -> Batch:
    """The batch with ``batch_id``; ``lock`` holds its row until the transaction ends.

    Raises:
        NotFoundError: there is none.
    """
    query = select(Batch).where(Batch.id == batch_id)
    if lock:
        # populate_existing: a copy already in the session must not hide the locked row's state.
        query = query.with_for_update().execution_options(populate_existing=True)
    batch = session.scalar(query)
    if batch is None:
        raise not_found("批次", "batch", batch_id)
    return batch


def list_batches(
    session: Session,
    *,
    printer_id: int | None = None,
    enterprise_id: int | None = None,
    status: BatchStatus | None = None,
) -> Sequence[Batch]:
    """Batches, oldest first, optionally of one printer, one enterprise and/or one status."""
    query = select(Batch).order_by(Batch.id)
    if printer_id is not None:
        query = query.where(Batch.printer_id == printer_id)
    if enterprise_id is not None:
        query = query.where(Batch.enterprise_id == enterprise_id)
    if status is not None:
        query = query.where(Batch.status == status)
    return session.scalars(query).all()


def find_batch_by_serial(session: Session, serial: int) -> Batch | None:
    """The batch whose range holds ``serial``, whatever its status; None if never issued.

    Ranges never overlap, so the candidate is the batch with the greatest first serial not
    above ``serial``: one step down the unique index on ``serial_first``.
    """
    candidate = session.scalar(
        select(Batch)
        .where(Batch.serial_first.is_not(None), Batch.serial_first <= serial)
        .order_by(Batch.serial_first.desc())
        .limit(1)
    )
    if candidate is None or candidate.serial_last is None or candidate.serial_last < serial:
        return None
    return candidate


# --- shared by the batch operations ----------------------------------------------------------


def clean_actor(actor: str) -> str:
    """Who acts, as recorded.

    Raises:
        MissingValueError: empty.
        ValueTooLongError: longer than the column holds.
    """
    return clean_text(actor, "actor", "操作人", ACTOR_LIMIT)


def required_reason(reason: str) -> str:
    """Why, for operations that take something away (reject, revoke, void).

    Raises:
        MissingValueError: empty.
        ValueTooLongError: longer than :data:`REASON_LIMIT`.
    """
    return clean_text(reason, "reason", "原因", REASON_LIMIT)


def optional_reason(reason: str) -> str:
    """A note that may be empty.

    Raises:
        ValueTooLongError: longer than :data:`REASON_LIMIT`.
    """
    return required_reason(reason) if reason.strip() else ""


def require_status(batch: Batch, allowed: Collection[BatchStatus], action: BatchAction) -> None:
    """Refuse ``action`` unless the batch's status is one of ``allowed``.

    Raises:
        BatchStateError: it is not; the message names the current status.
    """
    if batch.status in allowed:
        return
    ordered = [s for s in BatchStatus if s in allowed]
    verb, verb_zh = _ACTION_WORDS[action]
    raise BatchStateError(
        id=batch.id,
        status=batch.status.value,
        status_zh=STATUS_ZH_OF[batch.status],
        action=verb,
        action_zh=verb_zh,
        allowed=" or ".join(s.value for s in ordered),
        allowed_zh="或".join(STATUS_ZH_OF[s] for s in ordered),
    )


def record_event(
    batch: Batch,
    action: BatchAction,
    *,
    actor: str,
    at: dt.datetime,
    reason: str = "",
    detail: Mapping[str, object] | None = None,
) -> BatchEvent:
    """Append one event to the batch's history (``detail`` is stored as JSON)."""
    event = BatchEvent(
        action=action,
        actor=actor,
        at=at,
        reason=reason,
        detail=json.dumps(dict(detail or {}), ensure_ascii=False, sort_keys=True),
    )
    batch.events.append(event)
    return event
