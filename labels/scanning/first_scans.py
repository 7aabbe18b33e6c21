"""A label's first scan in one round trip: judged from the caches, written with a check that
what they assumed still holds.

Most labels are scanned once or twice in their life, and a first scan has nothing to read
but the code's state: its batch (which the verifier remembers from earlier scans of the
batch's labels, :class:`~gimark.labels.scanning.batch_ranges.BatchRanges`) and the keys and registry
(cached by state generation). So such a scan is judged before any database access, and one
statement writes it: the serial's summary only if there is none yet and the state the verdict
rests on still holds (:func:`~gimark.labels.scanning.state.still_holds`), and with it the scanner's
claim and the scan's row. Whatever happens the statement also returns the serial's pattern,
so a later scan of the label goes straight on to its compare-and-swap write
(:mod:`gimark.labels.scanning.store`): two round trips, as without this path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Connection, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from gimark.core.hot_sql import HotStatement
from gimark.labels.scanning.duplicates import SerialSummary
from gimark.labels.scanning.state import State, guard_values, still_holds
from gimark.labels.scanning.store import (
    SUMMARIES,
    SUMMARY_KEY,
    SUMMARY_VALUES,
    Seen,
    pattern_query,
    prefixed,
    read_pattern,
    seen_of,
    store_and_log_pg,
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


def _first_scan_pg() -> HotStatement:
    guard = still_holds().cte("guard")
    values = select(SUMMARY_KEY, *SUMMARY_VALUES.values()).select_from(guard)
    first = pg_insert(SUMMARIES).from_select(["serial", *SUMMARY_VALUES], values)
    stored = first.on_conflict_do_nothing().returning(SUMMARIES.c.serial)
    logged = store_and_log_pg(stored).cte("logged")
    # The pattern as the statement found it: its snapshot does not show what it inserts.
    answer = pattern_query().add_columns(
        select(func.count()).select_from(logged).scalar_subquery().label("landed"),
        select(func.count()).select_from(guard).scalar_subquery().label("holds"),
    )
    return HotStatement(answer)


_FIRST_SCAN_PG: Final = _first_scan_pg()


def store_first_scan(
    conn: Connection, scan: dict[str, Any], summary: SerialSummary, state: State
) -> FirstScan:
    """Write the scan (``scan``: its row; ``summary``: its serial's summary after it) as its
    serial's first, if it is and ``state`` still holds. On PostgreSQL one statement (see
    :meth:`~gimark.core.db.Database.write`)."""
    serial, scanner = scan["serial"], scan["scanner"]
    if conn.dialect.name == "sqlite":
        return _store_first_scan_sqlite(conn, scan, summary, state)
    values = prefixed("scan", scan) | prefixed("summary", summary_values(serial, summary))
    values |= guard_values(state, serial) | {"serial": serial, "read_scanner": scanner}
    values |= {"claim": True, "claim_scanner": scanner, "claim_at": scan["at"]}
    row = _FIRST_SCAN_PG.first(conn, values)
    assert row is not None  # the outer join always gives a row
    if row.landed:
        return FirstScan(landed=True)
    if not row.holds or row.scan_count is None:
        return FirstScan(landed=False)
    return FirstScan(landed=False, seen=seen_of(row))


_HOLDS: Final = HotStatement(still_holds())


def _store_first_scan_sqlite(
    conn: Connection, scan: dict[str, Any], summary: SerialSummary, state: State
) -> FirstScan:
    # In BEGIN IMMEDIATE: nothing changes between these statements.
    if not _HOLDS.rows(conn, guard_values(state, scan["serial"])):
        return FirstScan(landed=False)
    if store_if_unchanged(conn, scan, summary, Seen(None, version=None, scanner_known=False)):
        return FirstScan(landed=True)
    return FirstScan(landed=False, seen=read_pattern(conn, scan["serial"], scan["scanner"]))
