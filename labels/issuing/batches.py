"""Label batches: request, approval (serial allocation), printing, rejection and revocation.

A batch moves requested → approved → printed → delivered; ``rejected`` ends a request and
``revoked`` ends any batch that is not ended already. Voiding spoiled labels and delivery (the
reconciliation) live in :mod:`gimark.labels.issuing.ledger`, lookups in
:mod:`gimark.labels.issuing.records`; this module re-exports them, so callers need only ``from
gimark.labels.issuing import batches``.

Every function takes the caller's session and never commits: the caller's
``with db.session()`` is the transaction, so a refused operation leaves nothing behind. Every
operation that changes a batch first locks its row (``SELECT … FOR UPDATE`` on PostgreSQL;
SQLite runs writers one at a time), so two operations on one batch cannot both pass the
status check, and records a :class:`~gimark.labels.issuing.models.BatchEvent`: who, when, why.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from sqlalchemy.orm import Session

from gimark.core.db import utcnow
from gimark.keys.errors import NoActiveKeyError
from gimark.keys.services import active_key
from gimark.labels.issuing.allocation import allocate_serials
from gimark.labels.issuing.errors import (
    BatchNotPrintableError,
    InvalidQuantityError,
    PrinterNotActiveError,
)
from gimark.labels.issuing.ledger import (
    Ledger,
    deliver_batch,
    is_voided,
    ledger,
    parse_serial_spec,
    void_serials,
)
from gimark.labels.issuing.models import Batch, BatchAction, BatchStatus
from gimark.labels.issuing.records import (
    STATUS_ZH_OF,
    clean_actor,
    find_batch_by_serial,
    get_batch,
    list_batches,
    optional_reason,
    record_event,
    require_status,
    required_reason,
)
from gimark.trace.authorizations import require_authorized
from gimark.trace.history import STATUS_ZH
from gimark.trace.models import Status
from gimark.trace.services import get_enterprise, get_printer, get_product

__all__ = [
    "Ledger",
    "approve_batch",
    "check_printable",
    "deliver_batch",
    "find_batch_by_serial",
    "get_batch",
    "is_voided",
    "ledger",
    "list_batches",
    "mark_printed",
    "parse_serial_spec",
    "reject_batch",
    "request_batch",
    "revoke_batch",
    "void_serials",
]

_NOT_PRINTABLE: Final = {
    BatchStatus.REQUESTED: (
        "it is not approved yet: no serials are allocated",
        "尚未批准，未分配序列号",
    ),
    BatchStatus.REJECTED: ("the request was rejected", "申请已被驳回"),
    BatchStatus.REVOKED: ("the batch is revoked", "批次已撤销"),
    # Its labels are live: a second run would put a second copy of every code into the world.
    BatchStatus.DELIVERED: (
        "its labels are delivered and live; printing them again would make duplicates",
        "标签已交付并生效，再次印制会产生重复标签",
    ),
}
_PRINTABLE: Final = frozenset({BatchStatus.APPROVED, BatchStatus.PRINTED})
_REVOCABLE: Final = frozenset(
    {BatchStatus.REQUESTED, BatchStatus.APPROVED, BatchStatus.PRINTED, BatchStatus.DELIVERED}
)


# --- the life of a batch ---------------------------------------------------------------------


def request_batch(
    session: Session,
    *,
    enterprise_id: int,
    product_id: int,
    quantity: int,
    actor: str,
    max_quantity: int,
    reason: str = "",
) -> Batch:
    """An enterprise asks for ``quantity`` labels of a product it is authorized for now.

    Raises:
        InvalidQuantityError: ``quantity`` is not in 1 … ``max_quantity``.
        NotFoundError: no such product or enterprise.
        NotAuthorizedError: the enterprise may not use the mark on the product now; the
            subclass says why (AuthorizationSuspendedError, …RevokedError, …ExpiredError).
        MissingValueError, ValueTooLongError: bad actor or reason.
    """
    who, why = clean_actor(actor), optional_reason(reason)
    if not 1 <= quantity <= max_quantity:
        raise InvalidQuantityError(quantity=quantity, limit=max_quantity)
    get_product(session, product_id)
    get_enterprise(session, enterprise_id)
    now = utcnow()
    state = require_authorized(session, enterprise_id=enterprise_id, product_id=product_id, at=now)
    batch = Batch(
        enterprise_id=enterprise_id,
        product_id=product_id,
        authorization_id=state.authorization_id,
        quantity=quantity,
        status=BatchStatus.REQUESTED,
        requested_at=now,
        voided_count=0,
    )
    session.add(batch)
    record_event(
        batch, BatchAction.REQUEST, actor=who, at=now, reason=why, detail={"quantity": quantity}
    )
    session.flush()
    return batch


def approve_batch(
    session: Session, batch_id: int, *, printer_id: int, actor: str, reason: str = ""
) -> Batch:
    """Approve a requested batch: assign its printer and allocate its serial range.

    The enterprise must still be authorized now, and the batch is tied to the active signing
    key (its kid), so that a later reprint signs with the same key and gives the same codes.

    Raises:
        NotFoundError: no such batch or printer.
        BatchStateError: the batch is not ``requested`` (approved already, rejected …).
        PrinterNotActiveError: the printer is suspended or revoked.
        NotAuthorizedError: the enterprise is no longer authorized for the product (subclass
            says why).
        NoActiveKeyError: there is no active signing key.
        SerialsExhaustedError: the serial space cannot hold the batch.
        MissingValueError, ValueTooLongError: bad actor or reason.
    """
    who, why = clean_actor(actor), optional_reason(reason)
    batch = get_batch(session, batch_id, lock=True)
    require_status(batch, {BatchStatus.REQUESTED}, BatchAction.APPROVE)
    printer = get_printer(session, printer_id)
    if printer.status is not Status.ACTIVE:
        raise PrinterNotActiveError(
            id=printer.id, status=printer.status.value, status_zh=STATUS_ZH[printer.status]
        )
    now = utcnow()
    state = require_authorized(
        session, enterprise_id=batch.enterprise_id, product_id=batch.product_id, at=now
    )
    key = active_key(session)
    if key is None:
        raise NoActiveKeyError()
    # Last: every approval in the country waits on the counter's row lock until this
    # transaction ends, so nothing that can be slow or can refuse may come after it.
    serials = allocate_serials(session, batch.quantity)
    batch.status = BatchStatus.APPROVED
    batch.printer_id = printer.id
    batch.authorization_id = state.authorization_id
    batch.serial_first, batch.serial_last = serials.first, serials.last
    batch.key_kid = key.kid
    batch.approved_at = now
    detail = {
        "printer_id": printer.id,
        "serial_first": serials.first,
        "serial_last": serials.last,
        "key_kid": key.kid,
        "authorization_id": state.authorization_id,
    }
    record_event(batch, BatchAction.APPROVE, actor=who, at=now, reason=why, detail=detail)
    session.flush()
    return batch


def reject_batch(session: Session, batch_id: int, *, reason: str, actor: str) -> Batch:
    """Turn a request down (a batch already approved is revoked instead: it holds serials).

    Raises:
        NotFoundError: no such batch.
        BatchStateError: the batch is not ``requested``.
        MissingValueError: no reason (or actor).
        ValueTooLongError: reason or actor too long.
    """
    who, why = clean_actor(actor), required_reason(reason)
    batch = get_batch(session, batch_id, lock=True)
    require_status(batch, {BatchStatus.REQUESTED}, BatchAction.REJECT)
    batch.status = BatchStatus.REJECTED
    record_event(batch, BatchAction.REJECT, actor=who, at=utcnow(), reason=why)
    session.flush()
    return batch


def revoke_batch(session: Session, batch_id: int, *, reason: str, actor: str) -> Batch:
    """Revoke a batch: from now on none of its labels verifies. Revocation is final.

    Its serials stay allocated to it (a serial is never issued twice) and its ledger stays as
    it was, so that what was printed and delivered remains on record.

    Raises:
        NotFoundError: no such batch.
        BatchStateError: the batch is rejected or revoked already.
        MissingValueError: no reason (or actor).
        ValueTooLongError: reason or actor too long.
    """
    who, why = clean_actor(actor), required_reason(reason)
    batch = get_batch(session, batch_id, lock=True)
    require_status(batch, _REVOCABLE, BatchAction.REVOKE)
    now = utcnow()
    previous = batch.status
    batch.status = BatchStatus.REVOKED
    batch.revoked_at = now
    record_event(
        batch, BatchAction.REVOKE, actor=who, at=now, reason=why, detail={"from": previous.value}
    )
    session.flush()
    return batch


def check_printable(batch: Batch) -> None:
    """Refuse a label run before any work is done, unless the batch is approved or printed.

    A printed batch may be printed again (a reprint gives the same codes, signed with the
    batch's own key) until it is delivered; from then on its labels are live.

    Raises:
        BatchNotPrintableError: the batch is requested, rejected, revoked or delivered.
    """
    if batch.status in _PRINTABLE:
        return
    why, why_zh = _NOT_PRINTABLE[batch.status]
    raise BatchNotPrintableError(
        id=batch.id,
        status=batch.status.value,
        status_zh=STATUS_ZH_OF[batch.status],
        why=why,
        why_zh=why_zh,
    )


def mark_printed(
    session: Session, batch_id: int, *, actor: str, detail: Mapping[str, object]
) -> Batch:
    """Record that a label run was written (the run code calls this once its files exist).

    The first run moves the batch from approved to printed; every run, reprints included,
    is a GENERATE event carrying ``detail`` (file names, digests, counts).

    Raises:
        NotFoundError: no such batch.
        BatchNotPrintableError: the batch is requested, rejected, revoked or delivered.
        MissingValueError, ValueTooLongError: bad actor.
    """
    who = clean_actor(actor)
    batch = get_batch(session, batch_id, lock=True)
    check_printable(batch)
    now = utcnow()
    reprint = batch.status is BatchStatus.PRINTED
    if not reprint:
        batch.status = BatchStatus.PRINTED
        batch.printed_at = now
    record_event(
        batch, BatchAction.GENERATE, actor=who, at=now, detail={**detail, "reprint": reprint}
    )
    session.flush()
    return batch
