"""What the database says of a serial: its batch, whether it is voided, and the state
generation that the caches of keys and registry follow, read in one statement
(:func:`gimark.labels.scanning.sql.state`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from gimark.labels.issuing.models import BatchStatus
from gimark.labels.scanning import sql

__all__ = ["BatchInfo", "State", "guard_of", "read_state", "state_of"]


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


def read_state(conn: Connection, serial: int) -> State:
    """The state of ``serial``, in one statement."""
    return state_of(sql.state(conn, serial), serial)


def state_of(row: Any, serial: int) -> State:
    """The state in a row that has the columns of :func:`gimark.labels.scanning.sql.state`."""
    generation = row.generation or 0
    if row.id is None or row.serial_last is None or row.serial_last < serial:
        return State(generation, None, False)
    voided = row.last_voided is not None and row.last_voided >= serial
    batch = BatchInfo(
        id=row.id,
        enterprise_id=row.enterprise_id,
        product_id=row.product_id,
        status=sql.batch_status(row.status),
        serial_first=row.serial_first,
        serial_last=row.serial_last,
        key_kid=row.key_kid,
        requested_at=sql.utc(row.requested_at),
        approved_at=sql.utc(row.approved_at),
        delivered_at=sql.utc(row.delivered_at),
    )
    return State(generation, batch, voided)


def guard_of(state: State, serial: int) -> dict[str, Any]:
    """What must still hold for a verdict judged on ``state`` (of a serial in a batch) to
    stand: see :func:`gimark.labels.scanning.sql.state_holds`."""
    assert state.batch is not None and not state.voided
    return {
        "generation": state.generation,
        "batch": state.batch.id,
        "status": state.batch.status,
        "serial": serial,
    }
