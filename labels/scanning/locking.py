"""The scan path under contention: lock the serial's summary, claim the scanner, store.

When scans of one serial keep coming in between each other's read and write (see
:mod:`gimark.labels.scanning.store`), a scan stops retrying and queues on a row lock instead,
held for its whole transaction, so it is written however hot the serial is.

Every scan of a serial first locks the serial's summary row (inserting a placeholder if there
is none, so that there is a row to lock), then claims its scanner, whose unique key decides
"new scanner" race-free (:func:`gimark.labels.scanning.sql.lock_and_claim`). The optimistic
path's compare and swap sees the placeholder as version 0 and the lock holder's write as a
change, so both paths mix.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection

from gimark.labels.scanning import sql
from gimark.labels.scanning.duplicates import SerialSummary
from gimark.labels.scanning.store import summary_of, summary_values

__all__ = ["lock_and_claim", "record"]


def lock_and_claim(
    conn: Connection, serial: int, scanner: str, now: dt.datetime
) -> tuple[SerialSummary | None, bool]:
    """The serial's summary, locked until commit (None before its first scan), and whether
    ``scanner`` is new to the serial (claimed now, at ``now``)."""
    row = sql.lock_and_claim(conn, serial, scanner, now)
    return summary_of(row), bool(row.is_new)


def record(conn: Connection, scan: dict[str, Any], serial_summary: SerialSummary | None) -> None:
    """Write the scan row (``scan``: the columns of ``scans``) and, when the scan shaped it,
    its serial's new summary (locked by :func:`lock_and_claim` in this transaction)."""
    summary = None if serial_summary is None else summary_values(scan["serial"], serial_summary)
    sql.store_locked(conn, scan, summary)
