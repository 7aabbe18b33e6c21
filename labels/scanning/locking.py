"""The scan path under contention: lock the serial's summary, claim the scanner, store.

When scans of one serial keep coming in between each other's read and write (see
:mod:`gimark.labels.scanning.store`), a scan stops retrying and queues on a row lock instead,
held for its whole transaction, so it is written however hot the serial is.

Lock order: every scan of a serial first locks the serial's summary row (inserting a
placeholder if there is none, so that there is a row to lock), then claims its scanner in
``serial_scanners``, whose unique key decides "new scanner" race-free. One order for every
scan means two scans of a serial never wait on each other crosswise. PostgreSQL does both in
one statement (the claim reads the locked row, so it cannot run first) and then writes the
summary and the scan row in one more; SQLite takes four plain statements, and its
``BEGIN IMMEDIATE`` serializes writers anyway. The optimistic path's compare and swap sees
the placeholder as version 0 and the lock holder's write as a change, so both paths mix.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from sqlalchemy import Connection, Select, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from gimark.labels.scanning.duplicates import SerialSummary
from gimark.labels.scanning.store import (
    CLAIM_AT,
    CLAIM_SCANNER,
    LOG,
    SCANNERS,
    SUMMARIES,
    SUMMARY_COLUMNS,
    SUMMARY_KEY,
    SUMMARY_VALUES,
    prefixed,
    summary_of,
    summary_values,
)

__all__ = ["lock_and_claim", "record"]


def _lock(make: Any, *returning: Any) -> Any:
    # Insert the placeholder (scan_count 0) or, when the row exists, "update" it to itself:
    # either way the row is locked until commit and comes back, with no read-then-insert race.
    return (
        make(SUMMARIES)
        .values(serial=bindparam("lock_serial"), scan_count=0)
        .on_conflict_do_update(
            index_elements=[SUMMARIES.c.serial],
            set_={"scan_count": SUMMARIES.c.scan_count},
        )
        .returning(*returning)
    )


def _lock_and_claim_pg() -> Select[Any]:
    locked = _lock(pg_insert, SUMMARIES.c.serial, *SUMMARY_COLUMNS).cte("locked")
    claim = select(locked.c.serial, CLAIM_SCANNER, CLAIM_AT)
    claimed = (
        pg_insert(SCANNERS)
        .from_select(["serial", "scanner", "first_at"], claim)
        .on_conflict_do_nothing()
        .returning(SCANNERS.c.serial)  # RETURNING, not rowcount: psycopg says -1 here
        .cte("claimed")
    )
    is_new = select(func.count()).select_from(claimed).scalar_subquery()
    return select(*(locked.c[c.name] for c in SUMMARY_COLUMNS), is_new.label("is_new"))


_LOCK_AND_CLAIM_PG: Final = _lock_and_claim_pg()
_LOCK_SQLITE: Final = _lock(sqlite_insert, *SUMMARY_COLUMNS)
_CLAIM_SQLITE: Final = (
    sqlite_insert(SCANNERS)
    .values(serial=bindparam("lock_serial"), scanner=CLAIM_SCANNER, first_at=CLAIM_AT)
    .on_conflict_do_nothing()
    .returning(SCANNERS.c.serial)
)
_STORE: Final = update(SUMMARIES).where(SUMMARIES.c.serial == SUMMARY_KEY).values(SUMMARY_VALUES)
_STORE_AND_LOG_PG: Final = LOG.add_cte(_STORE.cte("stored"))


def lock_and_claim(
    conn: Connection, serial: int, scanner: str, now: dt.datetime
) -> tuple[SerialSummary | None, bool]:
    """The serial's summary, locked until commit (None before its first scan), and whether
    ``scanner`` is new to the serial (claimed now, at ``now``)."""
    values = {"lock_serial": serial, "claim_scanner": scanner, "claim_at": now}
    if conn.dialect.name == "postgresql":
        row = conn.execute(_LOCK_AND_CLAIM_PG, values).one()
        return summary_of(row._mapping), bool(row.is_new)
    locked = conn.execute(_LOCK_SQLITE, values).one()
    is_new = conn.execute(_CLAIM_SQLITE, values).first() is not None
    return summary_of(locked._mapping), is_new


def record(conn: Connection, scan: dict[str, Any], serial_summary: SerialSummary | None) -> None:
    """Write the scan row (``scan``: the columns of ``scans``) and, when the scan shaped it,
    its serial's new summary (locked by :func:`lock_and_claim` in this transaction)."""
    if serial_summary is None:
        conn.execute(LOG, prefixed("scan", scan))
        return
    summary = prefixed("summary", summary_values(scan["serial"], serial_summary))
    if conn.dialect.name == "postgresql":
        conn.execute(_STORE_AND_LOG_PG, prefixed("scan", scan) | summary)
    else:
        conn.execute(_STORE, summary)
        conn.execute(LOG, prefixed("scan", scan))
