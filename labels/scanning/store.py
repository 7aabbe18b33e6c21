"""A serial's scan pattern as stored: read it, then write a scan only if the pattern is still
as read (compare and swap).

A scan reads without locking and writes once. The write names the summary's version (its
``scan_count``, which every shaping scan moves) and stores nothing if another scan of the
serial came in between; the caller then reads again. Two scans of one serial at the same
instant are rare (a copied label scanned in two cities still comes minutes apart), so this
spares every scan a lock held across a round trip and, on PostgreSQL, the BEGIN and COMMIT
round trips: the write is one statement in autocommit (the summary, the scanner's claim and
the scan's row, each conditional on the summary's), committed and synced when it returns.
SQLite takes the same steps as plain statements inside ``BEGIN IMMEDIATE``. Under contention
:mod:`gimark.labels.scanning.locking` takes over: it waits on a row lock instead of retrying.
The statements are :mod:`gimark.labels.scanning.sql`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from gimark.core.db import connection_of
from gimark.labels.scanning import sql
from gimark.labels.scanning.duplicates import SerialSummary, decode_sites, encode_sites
from gimark.labels.scanning.state import State, state_of

__all__ = [
    "Seen",
    "log",
    "read_pattern",
    "read_state_and_pattern",
    "read_summary",
    "seen_of",
    "store_if_unchanged",
    "summary_of",
    "summary_values",
]


@dataclass(frozen=True)
class Seen:
    """A serial's pattern as read before a scan is folded in."""

    summary: SerialSummary | None  # None before its first scan
    version: int | None  # the summary row's scan_count; None: no row yet
    scanner_known: bool  # the scanner has scanned this serial before


def read_state_and_pattern(conn: Connection, serial: int, scanner: str) -> tuple[State, Seen]:
    """The state of ``serial`` (see :func:`~gimark.labels.scanning.state.read_state`), its
    summary with the summary's version, and whether ``scanner`` has scanned it: one read."""
    row = sql.state_and_pattern(conn, serial, scanner)
    return state_of(row, serial), seen_of(row)


def read_pattern(conn: Connection, serial: int, scanner: str) -> Seen:
    """``serial``'s summary, its version, and whether ``scanner`` has scanned it."""
    return seen_of(sql.pattern(conn, serial, scanner))


def seen_of(row: Any) -> Seen:
    """The pattern in a row with the summary columns and ``scanner_known``."""
    return Seen(summary_of(row), row.scan_count, bool(row.scanner_known))


def read_summary(session: Session | Connection, serial: int) -> SerialSummary | None:
    """The summary without locking (for typed lookups and unsigned codes)."""
    row = sql.summary(connection_of(session), serial)
    return None if row is None else summary_of(row)


def store_if_unchanged(
    conn: Connection, scan: dict[str, Any], summary: SerialSummary, seen: Seen
) -> bool:
    """Write the scan row (``scan``: the columns of ``scans``), the serial's new summary and
    the scanner's claim, if the summary is still as ``seen``; False (nothing written) if
    another scan of the serial came in between. On PostgreSQL one statement (see
    :meth:`~gimark.core.db.Database.read_then_write`)."""
    values = summary_values(scan["serial"], summary)
    return sql.write_if_unchanged(conn, scan, values, seen.version, not seen.scanner_known)


def log(conn: Connection, scan: dict[str, Any]) -> None:
    """Write the row of a scan that shapes no pattern (unsigned, forged, not ours): one
    statement."""
    sql.log(conn, scan)


def summary_of(row: Any) -> SerialSummary | None:
    """The summary in a row with the columns of ``serial_summaries`` (as attributes); None
    for no row or a placeholder."""
    if not row.scan_count:
        return None
    return SerialSummary(
        scan_count=row.scan_count,
        scanner_count=row.scanner_count,
        first_at=sql.utc(row.first_at),
        first_region=row.first_region,
        last_at=sql.utc(row.last_at),
        last_scanner=row.last_scanner,
        last_region=row.last_region,
        outside_scanners=row.outside_scanners,
        outside_provinces=_split(row.outside_provinces),
        travel_conflicts=row.travel_conflicts,
        site_count=row.site_count,
        sites=decode_sites(row.sites),
        reasons=_split(row.reasons),
        flagged_at=sql.utc(row.flagged_at),
    )


def _split(text: str | None) -> tuple[str, ...]:
    return tuple(part for part in (text or "").split(",") if part)


def summary_values(serial: int, summary: SerialSummary) -> dict[str, Any]:
    """The columns of ``serial_summaries`` for ``summary`` (``key``: the serial)."""
    return {
        "key": serial,
        "scan_count": summary.scan_count,
        "scanner_count": summary.scanner_count,
        "first_at": summary.first_at,
        "first_region": summary.first_region,
        "last_at": summary.last_at,
        "last_scanner": summary.last_scanner,
        "last_region": summary.last_region,
        "outside_scanners": summary.outside_scanners,
        "outside_provinces": ",".join(summary.outside_provinces),
        "travel_conflicts": summary.travel_conflicts,
        "site_count": summary.site_count,
        "sites": encode_sites(summary.sites),
        "reasons": ",".join(summary.reasons),
        "flagged_at": summary.flagged_at,
    }
