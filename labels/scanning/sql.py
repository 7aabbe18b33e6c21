"""Every statement of the scan path.

A scan reads a serial's state and pattern and writes its row, its serial's summary and the
scanner's claim (see :mod:`gimark.labels.scanning.service` for the order). The statements are
SQLAlchemy Core, built once at import; those of the common path run as
:class:`~gimark.labels.scanning.prepared.Prepared` statements on the driver's cursor (see
there why, and what it measured), the rare locked path's through ``Connection.execute``.

What psycopg returns is the database's value, not the column type's: callers read enums
and timestamps through :func:`batch_status` and :func:`utc` (which take SQLAlchemy's
converted values as well).

Bind parameters are named ``<prefix>_<column>`` (a bind parameter may not share its
column's name): ``scan_*`` for the scan's row, ``summary_*`` for its serial's summary,
``claim_*`` for the scanner's claim, ``guard_*`` for the state a verdict rests on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any, Final, overload

from sqlalchemy import (
    BigInteger,
    Boolean,
    Connection,
    Integer,
    Select,
    String,
    bindparam,
    exists,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from gimark.core.db import Base, UTCDateTime
from gimark.core.generation import StateGeneration
from gimark.labels.issuing.models import Batch, BatchStatus, VoidedRange
from gimark.labels.scanning.models import ScanRecord, SerialScanner, SerialSummaryRow
from gimark.labels.scanning.prepared import Prepared

__all__ = [
    "BATCH_COLUMNS",
    "SUMMARY_COLUMNS",
    "Prepared",
    "batch_status",
    "first_scan_pg",
    "lock_and_claim",
    "log",
    "pattern",
    "state",
    "state_and_pattern",
    "state_holds",
    "store_locked",
    "summary",
    "utc",
    "write_if_unchanged",
]

SCANS: Final = Base.metadata.tables[ScanRecord.__tablename__]
SCANNERS: Final = Base.metadata.tables[SerialScanner.__tablename__]
SUMMARIES: Final = Base.metadata.tables[SerialSummaryRow.__tablename__]
BATCHES: Final = Batch.__table__
VOIDED: Final = VoidedRange.__table__
GENERATION: Final = StateGeneration.__table__

# What a state row holds of its batch (the fields of state.BatchInfo, which reads them).
BATCH_COLUMNS: Final = (
    "id",
    "enterprise_id",
    "product_id",
    "status",
    "serial_first",
    "serial_last",
    "key_kid",
    "requested_at",
    "approved_at",
    "delivered_at",
)
# What a summary is read with (not the serial: the caller knows it; every column returned
# costs on every scan).
SUMMARY_COLUMNS: Final = tuple(c.name for c in SUMMARIES.c if c.name != "serial")
_SUMMARY: Final = tuple(SUMMARIES.c[name] for name in SUMMARY_COLUMNS)
_SCAN_COLUMNS: Final = tuple(c.name for c in SCANS.c if c.name != "id")


@overload
def utc(value: dt.datetime) -> dt.datetime: ...
@overload
def utc(value: None) -> None: ...
def utc(value: dt.datetime | None) -> dt.datetime | None:
    """A timestamp read on the scan path, aware UTC (psycopg gives the session's zone)."""
    return None if value is None else value.astimezone(dt.UTC)


def batch_status(value: str) -> BatchStatus:
    """A batch status read on the scan path (psycopg gives the stored value)."""
    return BatchStatus(value)


# --- the state of a serial ---------------------------------------------------------------------

_SERIAL: Final = bindparam("serial", type_=BigInteger())
_ONE: Final = select(literal(1).label("one")).subquery("one")  # a row to hang the rest on
_HOLDER: Final = BATCHES.alias("holder")


def _generation_now() -> Any:
    return select(GENERATION.c.value).where(GENERATION.c.name == "state").scalar_subquery()


def _state_query() -> Select[Any]:
    # Generation, batch and voided range of :serial, each one index step, in one row for
    # any serial (the FROM starts with a one-row subquery that more may be joined to).
    holder = (
        select(_HOLDER.c.id)
        .where(_HOLDER.c.serial_first <= _SERIAL)
        .order_by(_HOLDER.c.serial_first.desc())
        .limit(1)
        .scalar_subquery()
    )
    last_voided = (
        select(VOIDED.c.last)
        .where(VOIDED.c.batch_id == BATCHES.c.id, VOIDED.c.first <= _SERIAL)
        .order_by(VOIDED.c.first.desc())
        .limit(1)
        .scalar_subquery()
    )
    columns = [BATCHES.c[name] for name in BATCH_COLUMNS]
    return select(
        _generation_now().label("generation"), *columns, last_voided.label("last_voided")
    ).select_from(_ONE.outerjoin(BATCHES, BATCHES.c.id == holder))


def _still_holds() -> Select[Any]:
    # One row if the generation is still :guard_generation, batch :guard_batch still has
    # status :guard_status and no voided range of it holds :guard_serial.
    guard_serial = bindparam("guard_serial", type_=BigInteger())
    guard_batch = bindparam("guard_batch", type_=BATCHES.c.id.type)
    batch = select(BATCHES.c.id).where(
        BATCHES.c.id == guard_batch,
        BATCHES.c.status == bindparam("guard_status", type_=BATCHES.c.status.type),
    )
    voided = select(VOIDED.c.id).where(
        VOIDED.c.batch_id == guard_batch,
        VOIDED.c.first <= guard_serial,
        VOIDED.c.last >= guard_serial,
    )
    generation = _generation_now()
    return select(literal(1).label("holds")).where(
        generation == bindparam("guard_generation", type_=BigInteger()),
        batch.exists(),
        ~voided.exists(),
    )


_KNOWN: Final = exists().where(
    SCANNERS.c.serial == _SERIAL,
    SCANNERS.c.scanner == bindparam("read_scanner", type_=String()),
)


def _pattern_query() -> Select[Any]:
    # :serial's summary (all None before its first scan) and whether :read_scanner has
    # scanned it, as one row.
    one = select(literal(1).label("one")).subquery("one")
    return select(*_SUMMARY, _KNOWN.label("scanner_known")).select_from(
        one.outerjoin(SUMMARIES, SUMMARIES.c.serial == _SERIAL)
    )


def _state_and_pattern_query() -> Select[Any]:
    query = _state_query()
    joined = query.get_final_froms()[0].outerjoin(SUMMARIES, SUMMARIES.c.serial == _SERIAL)
    return query.add_columns(*_SUMMARY, _KNOWN.label("scanner_known")).select_from(joined)


_STATE: Final = Prepared(_state_query())
_STATE_AND_PATTERN: Final = Prepared(_state_and_pattern_query())
_PATTERN: Final = Prepared(_pattern_query())
_HOLDS: Final = Prepared(_still_holds())
_SUMMARY_OF: Final = Prepared(select(*_SUMMARY).where(SUMMARIES.c.serial == _SERIAL))


def state(conn: Connection, serial: int) -> Any:
    """The state row of ``serial``: ``generation``, the batch holding it (the
    :data:`BATCH_COLUMNS`, all None if none does) and ``last_voided``, the end of the last
    voided range of the batch starting at or before it."""
    return _STATE.first(conn, {"serial": serial})


def state_and_pattern(conn: Connection, serial: int, scanner: str) -> Any:
    """The row of :func:`state` with the serial's summary (the :data:`SUMMARY_COLUMNS`, all
    None before its first scan) and ``scanner_known``: one round trip."""
    return _STATE_AND_PATTERN.first(conn, {"serial": serial, "read_scanner": scanner})


def pattern(conn: Connection, serial: int, scanner: str) -> Any:
    """The summary part of :func:`state_and_pattern` alone."""
    return _PATTERN.first(conn, {"serial": serial, "read_scanner": scanner})


def summary(conn: Connection, serial: int) -> Any | None:
    """The serial's summary row (the :data:`SUMMARY_COLUMNS`), None if it has none."""
    return _SUMMARY_OF.first(conn, {"serial": serial})


def _guard(guard: Mapping[str, Any]) -> dict[str, Any]:
    status = guard["status"]
    return {f"guard_{k}": v for k, v in guard.items()} | {"guard_status": status.value}


def state_holds(conn: Connection, guard: Mapping[str, Any]) -> bool:
    """Whether the state a verdict rests on still holds (``guard``: its ``generation``, the
    ``batch`` id and ``status`` and the ``serial``)."""
    return bool(_HOLDS.rows(conn, _guard(guard)))


# --- writes ------------------------------------------------------------------------------------

# Typed: PostgreSQL must know a parameter's type where no column gives it (INSERT … SELECT).
_SUMMARY_VALUES: Final = {
    name: bindparam(f"summary_{name}", type_=SUMMARIES.c[name].type) for name in SUMMARY_COLUMNS
}
_SUMMARY_KEY: Final = bindparam("summary_key", type_=BigInteger())
_SCAN_VALUES: Final = {
    name: bindparam(f"scan_{name}", type_=SCANS.c[name].type) for name in _SCAN_COLUMNS
}
_CLAIM: Final = bindparam("claim", type_=Boolean())
_CLAIM_SCANNER: Final = bindparam("claim_scanner", type_=String())
_CLAIM_AT: Final = bindparam("claim_at", type_=UTCDateTime())
_LOG_QUERY: Final = insert(SCANS).values(_SCAN_VALUES).inline()  # no RETURNING: no id read


def _update_if_unchanged() -> Any:
    return (
        update(SUMMARIES)
        .where(
            SUMMARIES.c.serial == _SUMMARY_KEY,
            SUMMARIES.c.scan_count == bindparam("version", type_=Integer()),
        )
        .values(_SUMMARY_VALUES)
        .returning(SUMMARIES.c.serial)
    )


def _insert_if_none(make: Any) -> Any:
    first = make(SUMMARIES).values(serial=_SUMMARY_KEY, **_SUMMARY_VALUES)
    return first.on_conflict_do_nothing().returning(SUMMARIES.c.serial)


def _and_log_pg(stored: Any) -> Any:
    # One PostgreSQL statement: the summary (``stored``: an INSERT or UPDATE returning its
    # serial), then the claim and the row, each only if the summary was stored; returns the
    # row's serial when it was.
    stored = stored.cte("stored")
    claim = (
        pg_insert(SCANNERS)
        .from_select(
            ["serial", "scanner", "first_at"],
            select(stored.c.serial, _CLAIM_SCANNER, _CLAIM_AT).where(_CLAIM),
        )
        .on_conflict_do_nothing()
        .cte("claimed")
    )
    scan_values = select(*(_SCAN_VALUES[name].label(name) for name in _SCAN_COLUMNS))
    logged = (
        insert(SCANS)
        .from_select(list(_SCAN_COLUMNS), scan_values.where(exists(select(stored.c.serial))))
        .returning(SCANS.c.serial)
    )
    return logged.add_cte(stored, claim)


def _first_scan_pg() -> Select[Any]:
    # The summary only if the state holds and there is none, with the claim and the row; and
    # the pattern as the statement found it (its snapshot does not show what it inserts).
    guard = _still_holds().cte("guard")
    values = select(_SUMMARY_KEY, *_SUMMARY_VALUES.values()).select_from(guard)
    first = pg_insert(SUMMARIES).from_select(["serial", *_SUMMARY_VALUES], values)
    logged = _and_log_pg(first.on_conflict_do_nothing().returning(SUMMARIES.c.serial))
    logged = logged.cte("logged")
    return _pattern_query().add_columns(
        select(func.count()).select_from(logged).scalar_subquery().label("landed"),
        select(func.count()).select_from(guard).scalar_subquery().label("holds"),
    )


_LOG: Final = Prepared(_LOG_QUERY)
_UPDATE_AND_LOG_PG: Final = Prepared(_and_log_pg(_update_if_unchanged()))
_INSERT_AND_LOG_PG: Final = Prepared(_and_log_pg(_insert_if_none(pg_insert)))
_FIRST_SCAN_PG: Final = Prepared(_first_scan_pg())
_UPDATE_SQLITE: Final = Prepared(_update_if_unchanged())
_INSERT_SQLITE: Final = Prepared(_insert_if_none(sqlite_insert))
_CLAIM_SQLITE: Final = Prepared(
    sqlite_insert(SCANNERS)
    .values(serial=_SUMMARY_KEY, scanner=_CLAIM_SCANNER, first_at=_CLAIM_AT)
    .on_conflict_do_nothing()
)


def _scan(scan: Mapping[str, Any]) -> dict[str, Any]:
    return {f"scan_{name}": value for name, value in scan.items()}


def _write_values(
    scan: Mapping[str, Any], summary: Mapping[str, Any], claim: bool
) -> dict[str, Any]:
    values = _scan(scan) | {f"summary_{name}": value for name, value in summary.items()}
    return values | {"claim": claim, "claim_scanner": scan["scanner"], "claim_at": scan["at"]}


def write_if_unchanged(
    conn: Connection,
    scan: Mapping[str, Any],
    summary: Mapping[str, Any],
    version: int | None,
    claim: bool,
) -> bool:
    """Write the scan's row (``scan``: the columns of ``scans``), its serial's summary
    (``summary``: the columns of ``serial_summaries``, its serial as ``key``) and, if
    ``claim``, the scanner's claim, if the summary's ``scan_count`` is still ``version``
    (None: there is no summary yet); False (nothing written) if it is not. On PostgreSQL one
    statement."""
    values = _write_values(scan, summary, claim) | {"version": version}
    if conn.dialect.name == "postgresql":
        statement = _INSERT_AND_LOG_PG if version is None else _UPDATE_AND_LOG_PG
        return bool(statement.rows(conn, values))
    # In BEGIN IMMEDIATE: nothing changes between these statements.
    if not (_INSERT_SQLITE if version is None else _UPDATE_SQLITE).rows(conn, values):
        return False
    if claim:
        _CLAIM_SQLITE.rows(conn, values)
    _LOG.rows(conn, values)
    return True


def first_scan_pg(
    conn: Connection,
    scan: Mapping[str, Any],
    summary: Mapping[str, Any],
    guard: Mapping[str, Any],
) -> Any:
    """PostgreSQL's first-scan write, one statement: the scan's row, its serial's summary and
    the scanner's claim (as :func:`write_if_unchanged`), only if the serial has no summary and
    the state ``guard`` names holds (see :func:`state_holds`). Its row: the pattern as it was
    (as :func:`pattern`), ``landed`` and ``holds`` (counts: 0 or 1)."""
    values = _write_values(scan, summary, claim=True) | _guard(guard)
    values |= {"serial": scan["serial"], "read_scanner": scan["scanner"]}
    return _FIRST_SCAN_PG.first(conn, values)


def log(conn: Connection, scan: Mapping[str, Any]) -> None:
    """Write the row of a scan that shapes no pattern: one statement."""
    _LOG.rows(conn, _scan(scan))


# --- the locked path -------------------------------------------------------------------------

_LOCK_SERIAL: Final = bindparam("lock_serial", type_=BigInteger())


def _lock(make: Any, *returning: Any) -> Any:
    # Insert the placeholder (scan_count 0) or, when the row exists, "update" it to itself:
    # either way the row is locked until commit and comes back, with no read-then-insert race.
    return (
        make(SUMMARIES)
        .values(serial=_LOCK_SERIAL, scan_count=0)
        .on_conflict_do_update(
            index_elements=[SUMMARIES.c.serial],
            set_={"scan_count": SUMMARIES.c.scan_count},
        )
        .returning(*returning)
    )


def _lock_and_claim_pg() -> Select[Any]:
    locked = _lock(pg_insert, SUMMARIES.c.serial, *_SUMMARY).cte("locked")
    claim = select(locked.c.serial, _CLAIM_SCANNER, _CLAIM_AT)
    claimed = (
        pg_insert(SCANNERS)
        .from_select(["serial", "scanner", "first_at"], claim)
        .on_conflict_do_nothing()
        .returning(SCANNERS.c.serial)  # RETURNING, not rowcount: psycopg says -1 here
        .cte("claimed")
    )
    is_new = select(func.count()).select_from(claimed).scalar_subquery()
    return select(*(locked.c[name] for name in SUMMARY_COLUMNS), is_new.label("is_new"))


_LOCK_AND_CLAIM_PG: Final = _lock_and_claim_pg()
_LOCK_SQLITE: Final = _lock(sqlite_insert, *_SUMMARY)
_CLAIM_LOCKED_SQLITE: Final = (
    sqlite_insert(SCANNERS)
    .values(serial=_LOCK_SERIAL, scanner=_CLAIM_SCANNER, first_at=_CLAIM_AT)
    .on_conflict_do_nothing()
    .returning(SCANNERS.c.serial)
)
_STORE: Final = update(SUMMARIES).where(SUMMARIES.c.serial == _SUMMARY_KEY).values(_SUMMARY_VALUES)
_STORE_AND_LOG_PG: Final = _LOG_QUERY.add_cte(_STORE.cte("stored"))


def lock_and_claim(conn: Connection, serial: int, scanner: str, now: dt.datetime) -> Any:
    """Lock the serial's summary row until commit (inserting a placeholder, ``scan_count``
    0, if there is none) and claim ``scanner`` for it at ``now``: the summary row (the
    :data:`SUMMARY_COLUMNS`) and ``is_new``, whether the claim was new. Lock order: the
    summary, then the claim, for every scan of a serial (no crosswise waits)."""
    values = {"lock_serial": serial, "claim_scanner": scanner, "claim_at": now}
    if conn.dialect.name == "postgresql":
        return conn.execute(_LOCK_AND_CLAIM_PG, values).one()
    locked = conn.execute(_LOCK_SQLITE, values).one()
    is_new = conn.execute(_CLAIM_LOCKED_SQLITE, values).first() is not None
    return SimpleNamespace(**locked._mapping, is_new=is_new)  # the row PostgreSQL's gives


def store_locked(
    conn: Connection, scan: Mapping[str, Any], summary: Mapping[str, Any] | None
) -> None:
    """Write the scan's row and, if given, its serial's summary (locked by
    :func:`lock_and_claim` in this transaction)."""
    if summary is None:
        conn.execute(_LOG_QUERY, _scan(scan))
        return
    values = _scan(scan) | {f"summary_{name}": value for name, value in summary.items()}
    if conn.dialect.name == "postgresql":
        conn.execute(_STORE_AND_LOG_PG, values)
    else:
        conn.execute(_STORE, values)
        conn.execute(_LOG_QUERY, values)
