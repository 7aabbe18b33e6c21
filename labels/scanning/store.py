"""The scan path's SQL: read a serial's pattern, then write the scan only if the pattern is
still as read (compare and swap), in as few round trips as each database allows.

A scan reads without locking and writes once. The write names the summary's version (its
``scan_count``, which every shaping scan moves) and stores nothing if another scan of the
serial came in between; the caller then reads again. Two scans of one serial at the same
instant are rare (a copied label scanned in two cities still comes minutes apart), so this
spares every scan a lock held across a round trip and, on PostgreSQL, the BEGIN and COMMIT
round trips: the write is one statement in autocommit (the summary, the scanner's claim and
the scan's row, each conditional on the summary's), committed and synced when it returns.
SQLite takes the same steps as plain statements inside ``BEGIN IMMEDIATE``. Under contention
:mod:`gimark.labels.scanning.locking` takes over: it waits on a row lock instead of retrying.

Statements are built once at import and run through :class:`~gimark.core.hot_sql.HotStatement`
(the scan path is the hot path). Bind parameters are named ``<prefix>_<column>``, since a bind
parameter may not share its column's name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import (
    BigInteger,
    Boolean,
    Connection,
    Integer,
    Select,
    String,
    bindparam,
    exists,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from gimark.core.db import Base, UTCDateTime, connection_of
from gimark.core.hot_sql import HotStatement
from gimark.labels.scanning.duplicates import SerialSummary, decode_sites, encode_sites
from gimark.labels.scanning.models import ScanRecord, SerialScanner, SerialSummaryRow
from gimark.labels.scanning.state import State, state_of, state_query

__all__ = [
    "Seen",
    "log",
    "pattern_query",
    "prefixed",
    "read_pattern",
    "read_state_and_pattern",
    "read_summary",
    "seen_of",
    "store_and_log_pg",
    "store_if_unchanged",
    "summary_of",
    "summary_values",
]

SCANS: Final = Base.metadata.tables[ScanRecord.__tablename__]
SCANNERS: Final = Base.metadata.tables[SerialScanner.__tablename__]
SUMMARIES: Final = Base.metadata.tables[SerialSummaryRow.__tablename__]
# What a summary is read with (not the serial: the caller knows it; every column returned
# costs on every scan).
SUMMARY_COLUMNS: Final = tuple(c for c in SUMMARIES.c if c.name != "serial")
SCAN_COLUMNS: Final = tuple(c.name for c in SCANS.c if c.name != "id")


@dataclass(frozen=True)
class Seen:
    """A serial's pattern as read before a scan is folded in."""

    summary: SerialSummary | None  # None before its first scan
    version: int | None  # the summary row's scan_count; None: no row yet
    scanner_known: bool  # the scanner has scanned this serial before


_SERIAL: Final = bindparam("serial", type_=BigInteger())  # the state query's own
_KNOWN: Final = exists().where(
    SCANNERS.c.serial == _SERIAL,
    SCANNERS.c.scanner == bindparam("read_scanner", type_=String()),
)


def _state_and_pattern() -> HotStatement:
    # The code's state (verification's query) and the serial's pattern in one round trip.
    state = state_query()
    one = state.get_final_froms()[0]
    joined = one.outerjoin(SUMMARIES, SUMMARIES.c.serial == _SERIAL)
    return HotStatement(
        state.add_columns(*SUMMARY_COLUMNS, _KNOWN.label("scanner_known")).select_from(joined)
    )


_STATE_AND_PATTERN: Final = _state_and_pattern()


def pattern_query() -> Select[Any]:
    """``:serial``'s summary and whether ``:read_scanner`` has scanned it, as one row (its
    summary columns all None before the first scan): what :func:`seen_of` reads."""
    one = select(literal(1).label("one")).subquery("one")
    return select(*SUMMARY_COLUMNS, _KNOWN.label("scanner_known")).select_from(
        one.outerjoin(SUMMARIES, SUMMARIES.c.serial == _SERIAL)
    )


_PATTERN: Final = HotStatement(pattern_query())
_READ: Final = HotStatement(select(*SUMMARY_COLUMNS).where(SUMMARIES.c.serial == _SERIAL))
# Typed: PostgreSQL must know a parameter's type where no column gives it (INSERT … SELECT).
SUMMARY_VALUES: Final = {
    c.name: bindparam(f"summary_{c.name}", type_=c.type) for c in SUMMARY_COLUMNS
}
SUMMARY_KEY: Final = bindparam("summary_key", type_=BigInteger())
SCAN_VALUES: Final = {
    name: bindparam(f"scan_{name}", type_=SCANS.c[name].type) for name in SCAN_COLUMNS
}
_CLAIM: Final = bindparam("claim", type_=Boolean())
CLAIM_SCANNER: Final = bindparam("claim_scanner", type_=String())
CLAIM_AT: Final = bindparam("claim_at", type_=UTCDateTime())
LOG: Final = insert(SCANS).values(SCAN_VALUES).inline()  # no RETURNING: nobody reads the id


def _update_if_unchanged() -> Any:
    return (
        update(SUMMARIES)
        .where(
            SUMMARIES.c.serial == SUMMARY_KEY,
            SUMMARIES.c.scan_count == bindparam("version", type_=Integer()),
        )
        .values(SUMMARY_VALUES)
        .returning(SUMMARIES.c.serial)
    )


def _insert_if_none(make: Any) -> Any:
    first = make(SUMMARIES).values(serial=SUMMARY_KEY, **SUMMARY_VALUES)
    return first.on_conflict_do_nothing().returning(SUMMARIES.c.serial)


def store_and_log_pg(stored: Any) -> Any:
    """One PostgreSQL statement: the summary (``stored``: an INSERT or UPDATE of
    ``serial_summaries`` returning its serial), then the claim and the row, each only if the
    summary was stored; returns the row's serial when it was."""
    stored = stored.cte("stored")
    claim = (
        pg_insert(SCANNERS)
        .from_select(
            ["serial", "scanner", "first_at"],
            select(stored.c.serial, CLAIM_SCANNER, CLAIM_AT).where(_CLAIM),
        )
        .on_conflict_do_nothing()
        .cte("claimed")
    )
    scan_values = select(*(SCAN_VALUES[name].label(name) for name in SCAN_COLUMNS))
    logged = (
        insert(SCANS)
        .from_select(list(SCAN_COLUMNS), scan_values.where(exists(select(stored.c.serial))))
        .returning(SCANS.c.serial)
    )
    return logged.add_cte(stored, claim)


_UPDATE_AND_LOG_PG: Final = HotStatement(store_and_log_pg(_update_if_unchanged()))
_INSERT_AND_LOG_PG: Final = HotStatement(store_and_log_pg(_insert_if_none(pg_insert)))


_UPDATE_SQLITE: Final = HotStatement(_update_if_unchanged())
_INSERT_SQLITE: Final = HotStatement(_insert_if_none(sqlite_insert))
_CLAIM_SQLITE: Final = HotStatement(
    sqlite_insert(SCANNERS)
    .values(serial=SUMMARY_KEY, scanner=CLAIM_SCANNER, first_at=CLAIM_AT)
    .on_conflict_do_nothing()
)
_LOG_HOT: Final = HotStatement(LOG)


def read_state_and_pattern(conn: Connection, serial: int, scanner: str) -> tuple[State, Seen]:
    """The state of ``serial`` (see :func:`~gimark.labels.scanning.verification.read_state`), its
    summary with the summary's version, and whether ``scanner`` has scanned it: one read."""
    row = _STATE_AND_PATTERN.first(conn, {"serial": serial, "read_scanner": scanner})
    assert row is not None  # the outer joins always give a row
    return state_of(row, serial), seen_of(row)


def read_pattern(conn: Connection, serial: int, scanner: str) -> Seen:
    """``serial``'s summary, its version, and whether ``scanner`` has scanned it."""
    row = _PATTERN.first(conn, {"serial": serial, "read_scanner": scanner})
    assert row is not None  # the outer join always gives a row
    return seen_of(row)


def seen_of(row: Any) -> Seen:
    """The pattern in a row with the columns of :func:`pattern_query`."""
    return Seen(summary_of(row._asdict()), row.scan_count, bool(row.scanner_known))


def read_summary(session: Session | Connection, serial: int) -> SerialSummary | None:
    """The summary without locking (for typed lookups and unsigned codes)."""
    conn = connection_of(session)
    row = _READ.first(conn, {"serial": serial})
    return None if row is None else summary_of(row._asdict())


def store_if_unchanged(
    conn: Connection, scan: dict[str, Any], summary: SerialSummary, seen: Seen
) -> bool:
    """Write the scan row (``scan``: the columns of ``scans``), the serial's new summary and
    the scanner's claim, if the summary is still as ``seen``; False (nothing written) if
    another scan of the serial came in between. On PostgreSQL one statement (see
    :meth:`~gimark.core.db.Database.read_then_write`)."""
    values = prefixed("scan", scan) | prefixed("summary", summary_values(scan["serial"], summary))
    values |= {
        "version": seen.version,
        "claim": not seen.scanner_known,
        "claim_scanner": scan["scanner"],
        "claim_at": scan["at"],
    }
    if conn.dialect.name == "postgresql":
        statement = _INSERT_AND_LOG_PG if seen.version is None else _UPDATE_AND_LOG_PG
        return bool(statement.rows(conn, values))
    statement = _INSERT_SQLITE if seen.version is None else _UPDATE_SQLITE
    if not statement.rows(conn, values):
        return False
    if not seen.scanner_known:
        _CLAIM_SQLITE.rows(conn, values)
    _LOG_HOT.rows(conn, values)
    return True


def log(conn: Connection, scan: dict[str, Any]) -> None:
    """Write the row of a scan that shapes no pattern (unsigned, forged, not ours): one
    statement."""
    _LOG_HOT.rows(conn, prefixed("scan", scan))


def summary_of(values: Mapping[Any, Any]) -> SerialSummary | None:
    """The summary in a ``serial_summaries`` row; None for no row or a placeholder."""
    if not values["scan_count"]:
        return None
    return SerialSummary(
        scan_count=values["scan_count"],
        scanner_count=values["scanner_count"],
        first_at=values["first_at"],
        first_region=values["first_region"],
        last_at=values["last_at"],
        last_scanner=values["last_scanner"],
        last_region=values["last_region"],
        outside_scanners=values["outside_scanners"],
        outside_provinces=_split(values["outside_provinces"]),
        travel_conflicts=values["travel_conflicts"],
        site_count=values["site_count"],
        sites=decode_sites(values["sites"]),
        reasons=_split(values["reasons"]),
        flagged_at=values["flagged_at"],
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


def prefixed(prefix: str, values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with their names as the statements' bind parameters (``<prefix>_<name>``)."""
    return {f"{prefix}_{name}": value for name, value in values.items()}
