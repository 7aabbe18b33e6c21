"""A label's first scan in one round trip: judged from the caches, written with a check that
what they assumed still holds.

Most labels are scanned once or twice in their life, and a first scan has nothing to read
but the code's state: its batch (which the verifier remembers from earlier scans of the
batch's labels, :class:`~gimark.labels.scanning.batch_ranges.BatchRanges`) and the keys and
registry (cached by state generation). So such a scan is judged before any database access,
and one statement writes it (:func:`gimark.labels.scanning.sql.first_scan_pg`): the serial's
summary only if there is none yet and the state the verdict rests on still holds, and with
it the scanner's claim and the scan's row. Whatever happens the statement also returns the
serial's pattern, so a later scan of the label goes straight on to its compare-and-swap write
(:mod:`gimark.labels.scanning.store`): two round trips, as without this path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from gimark.labels.scanning import sql
from gimark.labels.scanning.duplicates import SerialSummary
from gimark.labels.scanning.state import State, guard_of
from gimark.labels.scanning.store import (
    Seen,
    read_pattern,
    seen_of,
    store_if_unchanged,
    summary_values,
)

__all__ = ["FirstScan", "store_first_scan"]


@dataclass(frozen=True)
class FirstScan:
    """What became of a first-scan write."""

    landed: bool
    # When it did not land: the serial's pattern if the state held and the serial has been
    # scanned before (fold the scan into it); None if the state had changed, or the pattern
    # was committed too late for the statement to see it (judge again from the database).
    seen: Seen | None = None


def store_first_scan(
    conn: Connection, scan: dict[str, Any], summary: SerialSummary, state: State
) -> FirstScan:
    """Write the scan (``scan``: its row; ``summary``: its serial's summary after it) as its
    serial's first, if it is and ``state`` still holds. On PostgreSQL one statement (see
    :meth:`~gimark.core.db.Database.write`)."""
    serial = scan["serial"]
    guard = guard_of(state, serial)
    if conn.dialect.name == "sqlite":
        # In BEGIN IMMEDIATE: nothing changes between these statements.
        if not sql.state_holds(conn, guard):
            return FirstScan(landed=False)
        if store_if_unchanged(conn, scan, summary, Seen(None, version=None, scanner_known=False)):
            return FirstScan(landed=True)
        return FirstScan(landed=False, seen=read_pattern(conn, serial, scan["scanner"]))
    row = sql.first_scan_pg(conn, scan, summary_values(serial, summary), guard)
    if row.landed:
        return FirstScan(landed=True)
    if not row.holds or row.scan_count is None:
        return FirstScan(landed=False)
    return FirstScan(landed=False, seen=seen_of(row))
