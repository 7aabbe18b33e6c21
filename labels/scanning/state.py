"""What the database says of a serial: its batch, whether it is voided, and the state
generation that the caches of keys and registry follow, read in one statement."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from typing import Any, Final

from sqlalchemy import BigInteger, BindParameter, Connection, Select, bindparam, literal, select

from gimark.core.generation import StateGeneration
from gimark.core.hot_sql import HotStatement
from gimark.labels.issuing.models import Batch, BatchStatus, VoidedRange

__all__ = ["BatchInfo", "State", "read_state", "state_of", "state_query"]


@dataclass(frozen=True)
class BatchInfo:
    """A batch as a scan reads it: the columns of :class:`~gimark.labels.issuing.models.Batch` that
    verification and the verdict use, as a plain value (no ORM object on the hot path, and
    every column read costs on every scan)."""

    id: int
    enterprise_id: int
    product_id: int
    status: BatchStatus
    serial_first: int | None
    serial_last: int | None
    key_kid: str | None
    requested_at: dt.datetime
    approved_at: dt.datetime | None
    delivered_at: dt.datetime | None


@dataclass(frozen=True)
class State:
    """What the database says of a serial: the state generation, its batch, whether voided."""

    generation: int
    batch: BatchInfo | None  # None: no batch holds the serial
    voided: bool


_BATCHES: Final = Batch.__table__
_VOIDED: Final = VoidedRange.__table__
_GENERATION: Final = StateGeneration.__table__
_SERIAL: Final[BindParameter[int]] = bindparam("serial", type_=BigInteger())
_ONE: Final = select(literal(1).label("one")).subquery("one")  # a row to hang the rest on
_HOLDER: Final = _BATCHES.alias("holder")
_BATCH_FIELDS: Final = tuple(f.name for f in fields(BatchInfo))


def state_query() -> Select[Any]:
    """Generation, batch and voided range of ``:serial`` in one statement (one round trip):
    each part is one index step, as the separate queries were. Its FROM starts with a
    one-row subquery, so it gives a row for any serial and a caller may outer-join more
    of the serial's rows to it (:func:`state_of` reads the state part)."""
    generation = select(_GENERATION.c.value).where(_GENERATION.c.name == "state").scalar_subquery()
    holder = (
        select(_HOLDER.c.id)
        .where(_HOLDER.c.serial_first <= _SERIAL)
        .order_by(_HOLDER.c.serial_first.desc())
        .limit(1)
        .scalar_subquery()
    )
    last_voided = (
        select(_VOIDED.c.last)
        .where(_VOIDED.c.batch_id == _BATCHES.c.id, _VOIDED.c.first <= _SERIAL)
        .order_by(_VOIDED.c.first.desc())
        .limit(1)
        .scalar_subquery()
    )
    columns = [_BATCHES.c[name] for name in _BATCH_FIELDS]
    return select(
        generation.label("generation"), *columns, last_voided.label("last_voided")
    ).select_from(_ONE.outerjoin(_BATCHES, _BATCHES.c.id == holder))


_STATE: Final = HotStatement(state_query())


def read_state(conn: Connection, serial: int) -> State:
    """The state of ``serial``, in one statement."""
    row = _STATE.first(conn, {"serial": serial})
    assert row is not None  # the outer join always gives a row
    return state_of(row, serial)


def state_of(row: Any, serial: int) -> State:
    """The state in a row of :func:`state_query` (attributes named as its columns)."""
    generation = row.generation or 0
    if row.id is None or row.serial_last is None or row.serial_last < serial:
        return State(generation, None, False)
    voided = row.last_voided is not None and row.last_voided >= serial
    return State(generation, _batch_info(row), voided)


def _batch_info(row: Any) -> BatchInfo:
    return BatchInfo(*(getattr(row, name) for name in _BATCH_FIELDS))


_GUARD_SERIAL: Final[BindParameter[int]] = bindparam("guard_serial", type_=BigInteger())
_GUARD_BATCH: Final = bindparam("guard_batch", type_=_BATCHES.c.id.type)


def still_holds() -> Select[Any]:
    """One row if the state a scan was judged on still holds, none if not: the generation is
    still ``:guard_generation``, batch ``:guard_batch`` still has status ``:guard_status`` and
    no voided range of it holds ``:guard_serial``. For a write that must land only then
    (:func:`guard_values` gives the parameters)."""
    generation = select(_GENERATION.c.value).where(_GENERATION.c.name == "state").scalar_subquery()
    batch = select(_BATCHES.c.id).where(
        _BATCHES.c.id == _GUARD_BATCH,
        _BATCHES.c.status == bindparam("guard_status", type_=_BATCHES.c.status.type),
    )
    voided = select(_VOIDED.c.id).where(
        _VOIDED.c.batch_id == _GUARD_BATCH,
        _VOIDED.c.first <= _GUARD_SERIAL,
        _VOIDED.c.last >= _GUARD_SERIAL,
    )
    return select(literal(1).label("holds")).where(
        generation == bindparam("guard_generation", type_=BigInteger()),
        batch.exists(),
        ~voided.exists(),
    )


def guard_values(state: State, serial: int) -> dict[str, Any]:
    """The parameters of :func:`still_holds` for ``state`` (of a serial in a batch)."""
    assert state.batch is not None and not state.voided
    return {
        "guard_generation": state.generation,
        "guard_batch": state.batch.id,
        "guard_status": state.batch.status,
        "guard_serial": serial,
    }
