"""The printing ledger (印制台账) of a batch: spoiled labels voided, delivery reconciled.

A batch balances when ordered = printed = delivered + voided. The printer voids the labels
spoiled in printing (by serial or range) while the batch is approved or printed; delivery
then checks the printer's count against the ledger and activates the labels.

Voided serials are stored as ranges, one row per void request range, never one per label.
Voiding serials that are voided already is refused, not ignored: a ledger must not count a
label twice, and a repeated report more often means a wrong serial than a retry.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from gimark.core.db import utcnow
from gimark.labels.issuing.allocation import SerialRange
from gimark.labels.issuing.errors import (
    AlreadyVoidedError,
    BadSerialError,
    DuplicateVoidError,
    InvalidRangeError,
    LedgerImbalanceError,
    SerialNotInBatchError,
    SerialOfAnotherBatchError,
    SerialRangeError,
    SerialSpecError,
)
from gimark.labels.issuing.models import Batch, BatchAction, BatchStatus, VoidedRange
from gimark.labels.issuing.records import (
    clean_actor,
    find_batch_by_serial,
    get_batch,
    optional_reason,
    record_event,
    require_status,
    required_reason,
)
from gimark.labels.issuing.serials import format_serial, parse_serial
from gimark.trace.history import format_instant

__all__ = [
    "Ledger",
    "deliver_batch",
    "is_voided",
    "ledger",
    "parse_serial_spec",
    "show_serial",
    "void_serials",
]

_VOIDABLE = frozenset({BatchStatus.APPROVED, BatchStatus.PRINTED})


@dataclass(frozen=True)
class Ledger:
    """A batch's figures: labels ordered, printed, voided (spoiled) and delivered."""

    ordered: int
    printed: int  # the whole run once generated (spoiled labels were printed too), else 0
    voided: int
    delivered: int  # ordered − voided once delivered, else 0
    balanced: bool  # ordered = printed = delivered + voided

    def line(self) -> str:
        """The figures in one line, as the commands print them."""
        mark = "balanced / 已平衡" if self.balanced else "open / 未平衡"
        return (
            f"ordered {self.ordered}  printed {self.printed}  "
            f"delivered {self.delivered}  voided {self.voided}  ({mark})"
        )


def ledger(batch: Batch) -> Ledger:
    """The batch's ledger as it stands."""
    printed = batch.quantity if batch.printed_at is not None else 0
    delivered = batch.quantity - batch.voided_count if batch.delivered_at is not None else 0
    balanced = batch.quantity == printed == delivered + batch.voided_count
    return Ledger(batch.quantity, printed, batch.voided_count, delivered, balanced)


def show_serial(serial: int) -> str:
    """A serial as messages show it, printed form and number: ``0000-0000-01X (#1)``."""
    try:
        return f"{format_serial(serial)} (#{serial})"
    except SerialRangeError:
        return f"#{serial}"


# --- reading serials from the command line ---------------------------------------------------


def parse_serial_spec(text: str) -> tuple[int, int]:
    """Serials as a printer types them: ``(first, last)``, both included.

    Accepted: a printed serial (``0000-0000-01X``, forgiving case and separators), a serial
    number (digits only: an all-digit text is always read as a number), or a range ``A..B``
    of either. Printed serials contain hyphens, so a range is written with two dots.

    Raises:
        SerialSpecError: none of these, or a printed serial with a typo (the message says which).
    """
    first, dots, last = text.strip().partition("..")
    if not dots:
        serial = _one_serial(first, text)
        return serial, serial
    return _one_serial(first, text), _one_serial(last, text)


def _one_serial(part: str, text: str) -> int:
    part = part.strip()
    if not part:
        raise SerialSpecError(
            text=text, detail="a range needs both ends", detail_zh="范围缺少起点或终点"
        )
    if part.isascii() and part.isdigit():
        serial = int(part)
        if serial < 1:
            raise SerialSpecError(
                text=text, detail="serials start at 1", detail_zh="序列号从 1 开始"
            )
        return serial
    try:
        return parse_serial(part)
    except BadSerialError as exc:
        raise SerialSpecError(
            text=text, detail=exc.message("en"), detail_zh=exc.message("zh")
        ) from exc


# --- voiding ---------------------------------------------------------------------------------


def void_serials(
    session: Session, batch_id: int, ranges: Sequence[tuple[int, int]], *, reason: str, actor: str
) -> Ledger:
    """Void serials of the batch spoiled in printing; ``ranges`` are ``(first, last)``, inclusive.

    All or nothing: one bad range refuses the whole request.

    Raises:
        NotFoundError: no such batch.
        BatchStateError: the batch is not approved or printed (delivered labels are live;
            revoke the batch instead).
        SerialSpecError: no serials given.
        InvalidRangeError: a range ends before it starts.
        DuplicateVoidError: two of the given ranges overlap.
        SerialOfAnotherBatchError: a serial belongs to another batch (both are named).
        SerialNotInBatchError: a serial was never issued.
        AlreadyVoidedError: a serial is voided already (the overlap is named).
        MissingValueError, ValueTooLongError: bad reason or actor.
    """
    who, why = clean_actor(actor), required_reason(reason)
    batch = get_batch(session, batch_id, lock=True)
    require_status(batch, _VOIDABLE, BatchAction.VOID)
    wanted = _disjoint(ranges)
    for span in wanted:
        _require_in_batch(session, batch, span)
    for span in wanted:
        _refuse_voided_already(session, batch, span)
    now = utcnow()
    for span in wanted:
        # Added by id, not through batch.voided, which would load every earlier range.
        session.add(
            VoidedRange(
                batch_id=batch.id, first=span.first, last=span.last, reason=why, actor=who, at=now
            )
        )
    count = sum(span.size for span in wanted)
    batch.voided_count += count
    detail = {"ranges": [[s.first, s.last] for s in wanted], "count": count}
    record_event(batch, BatchAction.VOID, actor=who, at=now, reason=why, detail=detail)
    session.flush()
    return ledger(batch)


def _disjoint(ranges: Iterable[tuple[int, int]]) -> list[SerialRange]:
    """The given ranges, sorted, each valid and none overlapping another."""
    spans = sorted(SerialRange(first, last) for first, last in ranges)
    if not spans:
        raise SerialSpecError(text="", detail="no serials given", detail_zh="未给出序列号")
    for span in spans:
        if span.first > span.last:
            raise InvalidRangeError(first=show_serial(span.first), last=show_serial(span.last))
    for before, after in itertools.pairwise(spans):
        if after.first <= before.last:
            overlap_last = min(before.last, after.last)
            raise DuplicateVoidError(first=show_serial(after.first), last=show_serial(overlap_last))
    return spans


def _require_in_batch(session: Session, batch: Batch, span: SerialRange) -> None:
    assert batch.serial_first is not None and batch.serial_last is not None  # approved
    if batch.serial_first <= span.first and span.last <= batch.serial_last:
        return
    # Name the first serial of the range that lies outside the batch.
    outside = span.first if span.first < batch.serial_first else batch.serial_last + 1
    names = {
        "id": batch.id,
        "serial": show_serial(outside),
        "first": show_serial(batch.serial_first),
        "last": show_serial(batch.serial_last),
    }
    other = find_batch_by_serial(session, outside)
    if other is None:
        raise SerialNotInBatchError(**names)
    raise SerialOfAnotherBatchError(**names, other=other.id)


def _refuse_voided_already(session: Session, batch: Batch, span: SerialRange) -> None:
    clash = session.scalar(
        select(VoidedRange)
        .where(
            VoidedRange.batch_id == batch.id,
            VoidedRange.first <= span.last,
            VoidedRange.last >= span.first,
        )
        .order_by(VoidedRange.first)
        .limit(1)
    )
    if clash is None:
        return
    raise AlreadyVoidedError(
        id=batch.id,
        first=show_serial(max(clash.first, span.first)),
        last=show_serial(min(clash.last, span.last)),
        when=format_instant(clash.at),
        actor=clash.actor,
    )


def is_voided(session: Session, batch: Batch, serial: int) -> bool:
    """Whether ``serial`` of ``batch`` was voided (one index step, like find_batch_by_serial)."""
    candidate = session.scalar(
        select(VoidedRange.last)
        .where(VoidedRange.batch_id == batch.id, VoidedRange.first <= serial)
        .order_by(VoidedRange.first.desc())
        .limit(1)
    )
    return candidate is not None and candidate >= serial


# --- delivery --------------------------------------------------------------------------------


def deliver_batch(
    session: Session,
    batch_id: int,
    *,
    actor: str,
    delivered: int | None = None,
    reason: str = "",
) -> Batch:
    """The printer handed the labels over: the ledger is closed and the labels go live.

    ``delivered``, when the printer states it, must equal ordered − voided: a difference
    means spoiled labels not voided (they would verify) or labels unaccounted for.

    Raises:
        NotFoundError: no such batch.
        BatchStateError: the batch is not printed (no run generated, delivered already …).
        LedgerImbalanceError: ``delivered`` does not balance the ledger (figures named).
        MissingValueError, ValueTooLongError: bad actor or reason.
    """
    who, why = clean_actor(actor), optional_reason(reason)
    batch = get_batch(session, batch_id, lock=True)
    require_status(batch, {BatchStatus.PRINTED}, BatchAction.DELIVER)
    expected = batch.quantity - batch.voided_count
    if delivered is not None and delivered != expected:
        raise LedgerImbalanceError(
            id=batch.id,
            ordered=batch.quantity,
            voided=batch.voided_count,
            expected=expected,
            delivered=delivered,
        )
    now = utcnow()
    batch.status = BatchStatus.DELIVERED
    batch.delivered_at = now
    figures = ledger(batch)
    detail = {"ordered": figures.ordered, "voided": figures.voided, "delivered": figures.delivered}
    record_event(batch, BatchAction.DELIVER, actor=who, at=now, reason=why, detail=detail)
    session.flush()
    return batch
