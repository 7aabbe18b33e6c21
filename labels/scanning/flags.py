"""Clearing a duplicate flag: an inspector's decision that a flagged serial is not copied.

Flags are sticky (:mod:`gimark.labels.scanning.duplicates`), so a genuine label that was
flagged, by a crowd at a fair or by someone who set out to flag it, stays flagged until a
person looks. Clearing records who decided, when and why (:class:`FlagClearance`), and
resets the serial's pattern so that later scans judge afresh from that point: the summary
row and the scanner claims go, in one transaction; the scan log stays, it is the evidence.

A scan that races the clearing loses nothing: its compare-and-swap write names a summary
version that no longer exists, so it reads again and starts the new pattern.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import ClassVar

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from gimark.core.errors import GimarkError
from gimark.labels.issuing.serials import format_serial
from gimark.labels.scanning.models import FlagClearance, SerialScanner, SerialSummaryRow

__all__ = [
    "ClearanceReasonError",
    "Flagged",
    "NotFlaggedError",
    "clear_flag",
    "list_flagged",
]


class NotFlaggedError(GimarkError):
    """The serial carries no duplicate flag to clear. Params: ``serial`` (printed form)."""

    code = "not_flagged"
    zh = "序列号 {serial} 未被标记为疑似复制，无需解除"
    en = "serial {serial} is not flagged as a suspected copy; nothing to clear"
    exit_status: ClassVar[int] = 3


class ClearanceReasonError(GimarkError):
    """A clearance was asked for without a reason."""

    code = "clearance_reason_required"
    zh = "解除标记须说明理由"
    en = "clearing a flag needs a reason"


@dataclass(frozen=True)
class Flagged:
    """A flagged serial as the inspectors' list shows it."""

    serial: int
    reasons: tuple[str, ...]
    flagged_at: dt.datetime | None
    scanner_count: int
    scan_count: int
    last_at: dt.datetime | None


def clear_flag(
    session: Session, serial: int, *, reason: str, actor: str, now: dt.datetime
) -> FlagClearance:
    """Clear ``serial``'s flag: record the clearance and reset its pattern, in ``session``'s
    transaction (the caller commits).

    Raises:
        ClearanceReasonError: ``reason`` is blank.
        NotFlaggedError: the serial has no summary, or one without reasons.
    """
    reason = reason.strip()
    if not reason:
        raise ClearanceReasonError()
    # Locked on PostgreSQL so that no scan writes the summary between reading and deleting.
    row = session.get(SerialSummaryRow, serial, with_for_update=True)
    if row is None or not row.reasons:
        raise NotFlaggedError(serial=format_serial(serial))
    clearance = FlagClearance(
        serial=serial,
        at=now,
        actor=actor,
        reason=reason,
        cleared_reasons=row.reasons,
        flagged_at=row.flagged_at,
        scanner_count=row.scanner_count,
    )
    session.add(clearance)
    session.execute(delete(SerialScanner).where(SerialScanner.serial == serial))
    session.delete(row)
    session.flush()
    return clearance


def list_flagged(session: Session, limit: int = 100) -> list[Flagged]:
    """Flagged serials, most recently flagged first, at most ``limit``."""
    rows = session.scalars(
        select(SerialSummaryRow)
        .where(SerialSummaryRow.flagged_at.is_not(None), SerialSummaryRow.reasons != "")
        .order_by(SerialSummaryRow.flagged_at.desc(), SerialSummaryRow.serial)
        .limit(limit)
    )
    return [
        Flagged(
            serial=row.serial,
            reasons=tuple(code for code in row.reasons.split(",") if code),
            flagged_at=row.flagged_at,
            scanner_count=row.scanner_count,
            scan_count=row.scan_count,
            last_at=row.last_at,
        )
        for row in rows
    ]
