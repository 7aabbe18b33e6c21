"""The scan path's SQL: lock and claim, store and log, in as few round trips as each database
allows.

Every statement is built once at import: composing a SQLAlchemy statement costs more than
running it on SQLite. Core tables, not the ORM: the scan path is the hot path. Bind parameters
are named ``<prefix>_<column>``, since a bind parameter may not share its column's name.

Lock order: every scan of a serial first locks the serial's summary row (inserting a
placeholder if there is none, so that there is a row to lock), then claims its scanner in
``serial_scanners``, whose unique key decides "new scanner" race-free. One order for every
scan means two scans of a serial never wait on each other crosswise. PostgreSQL does both in
one statement (the claim reads the locked row, so it cannot run first) and then writes the
summary and the scan row in one more; SQLite takes four plain statements, and its
``BEGIN IMMEDIATE`` serializes writers anyway.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from sqlalchemy import (
    Connection,
    RowMapping,
    Select,
    String,
    bindparam,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from gimark.core.db import Base, UTCDateTime
from gimark.labels.duplicates import SerialSummary, decode_sites, encode_sites
from gimark.labels.scan_models import ScanRecord, SerialScanner, SerialSummaryRow

__all__ = ["lock_and_claim", "read_summary", "record"]

_SCANS: Final = Base.metadata.tables[ScanRecord.__tablename__]
_SCANNERS: Final = Base.metadata.tables[SerialScanner.__tablename__]
_SUMMARIES: Final = Base.metadata.tables[SerialSummaryRow.__tablename__]
# What a summary is read with (not the serial: the caller knows it; every column returned
# costs on every scan).
_SUMMARY_COLUMNS: Final = tuple(c for c in _SUMMARIES.c if c.name != "serial")
_SCANNER: Final = bindparam("claim_scanner", type_=String())
_AT: Final = bindparam("claim_at", type_=UTCDateTime())


def _lock(make: Any, *returning: Any) -> Any:
    # Insert the placeholder (scan_count 0) or, when the row exists, "update" it to itself:
    # either way the row is locked until commit and comes back, with no read-then-insert race.
    return (
        make(_SUMMARIES)
        .values(serial=bindparam("lock_serial"), scan_count=0)
        .on_conflict_do_update(
            index_elements=[_SUMMARIES.c.serial],
            set_={"scan_count": _SUMMARIES.c.scan_count},
        )
        .returning(*returning)
    )


def _lock_and_claim_pg() -> Select[Any]:
    locked = _lock(pg_insert, _SUMMARIES.c.serial, *_SUMMARY_COLUMNS).cte("locked")
    claim = select(locked.c.serial, _SCANNER, _AT)
    claimed = (
        pg_insert(_SCANNERS)
        .from_select(["serial", "scanner", "first_at"], claim)
        .on_conflict_do_nothing()
        .returning(_SCANNERS.c.serial)  # RETURNING, not rowcount: psycopg says -1 here
        .cte("claimed")
    )
    is_new = select(func.count()).select_from(claimed).scalar_subquery()
    return select(*(locked.c[c.name] for c in _SUMMARY_COLUMNS), is_new.label("is_new"))


_LOCK_AND_CLAIM_PG: Final = _lock_and_claim_pg()
_LOCK_SQLITE: Final = _lock(sqlite_insert, *_SUMMARY_COLUMNS)
_CLAIM_SQLITE: Final = (
    sqlite_insert(_SCANNERS)
    .values(serial=bindparam("lock_serial"), scanner=_SCANNER, first_at=_AT)
    .on_conflict_do_nothing()
    .returning(_SCANNERS.c.serial)
)
_READ: Final = select(_SUMMARIES).where(_SUMMARIES.c.serial == bindparam("key"))
_STORE: Final = (
    update(_SUMMARIES)
    .where(_SUMMARIES.c.serial == bindparam("summary_key"))
    .values({c.name: bindparam(f"summary_{c.name}") for c in _SUMMARIES.c if c.name != "serial"})
)
_LOG: Final = (
    insert(_SCANS)
    .values({c.name: bindparam(f"scan_{c.name}") for c in _SCANS.c if c.name != "id"})
    .inline()  # no RETURNING of the new id: nobody reads it
)
_STORE_AND_LOG_PG: Final = _LOG.add_cte(_STORE.cte("stored"))


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


def read_summary(session: Session | Connection, serial: int) -> SerialSummary | None:
    """The summary without locking (for typed lookups and unsigned codes)."""
    row = session.execute(_READ, {"key": serial}).first()
    return None if row is None else summary_of(row._mapping)


def record(conn: Connection, scan: dict[str, Any], serial_summary: SerialSummary | None) -> None:
    """Write the scan row (``scan``: the columns of ``scans``) and, when the scan shaped it,
    its serial's new summary."""
    if serial_summary is None:
        conn.execute(_LOG, _prefixed("scan", scan))
        return
    summary = _prefixed("summary", _summary_values(scan["serial"], serial_summary))
    if conn.dialect.name == "postgresql":
        conn.execute(_STORE_AND_LOG_PG, _prefixed("scan", scan) | summary)
    else:
        conn.execute(_STORE, summary)
        conn.execute(_LOG, _prefixed("scan", scan))


def summary_of(values: RowMapping) -> SerialSummary | None:
    """The summary in a ``serial_summaries`` row; None for a placeholder (no scan yet)."""
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


def _summary_values(serial: int, summary: SerialSummary) -> dict[str, Any]:
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


def _prefixed(prefix: str, values: dict[str, Any]) -> dict[str, Any]:
    return {f"{prefix}_{name}": value for name, value in values.items()}
