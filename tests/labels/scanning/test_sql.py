"""The scan path's statements as they run on the driver's cursor: values come back as the
column types give them (on SQLite through the types' processors, on PostgreSQL whatever the
session's TimeZone), each statement is prepared once per PostgreSQL connection, and a lost
server is a disconnect that the next write recovers from."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from gimark.core.db import Database
from gimark.core.errors import DatabaseUnavailableError
from gimark.labels.issuing import batches
from gimark.labels.issuing.models import BatchStatus
from gimark.labels.scanning.state import State, read_state

PREPARED = "SELECT count(*) FROM pg_prepared_statements"


@pytest.fixture
def pg(db: Database) -> Database:
    if db.dialect != "postgresql":
        pytest.skip("psycopg's prepared statements are PostgreSQL's")
    return db


@pytest.fixture
def serial(db: Database, make_batch: Callable[..., int]) -> int:
    batch_id = make_batch(quantity=5, status=BatchStatus.DELIVERED)
    with db.session() as s:
        first = batches.get_batch(s, batch_id).serial_first
    assert first is not None
    return first


def hot_read(db: Database, serial: int) -> State:
    """The state as the scan path reads it: on the thread's held autocommit connection."""
    return db.write(lambda conn: read_state(conn, serial))


def test_the_state_comes_back_as_the_column_types_give_it(db: Database, serial: int) -> None:
    if db.dialect == "postgresql":
        db.write(lambda conn: conn.exec_driver_sql("SET TimeZone = 'Asia/Shanghai'"))
    state = hot_read(db, serial)
    with db.session() as s:  # the ORM, through SQLAlchemy's own execution, for comparison
        row = batches.find_batch_by_serial(s, serial)
    assert row is not None
    assert state.batch is not None
    assert state.batch.status is BatchStatus.DELIVERED
    assert (state.batch.id, state.batch.serial_first) == (row.id, row.serial_first)
    assert state.batch.delivered_at == row.delivered_at
    assert state.batch.delivered_at is not None and state.batch.delivered_at.tzinfo is dt.UTC


def test_a_statement_is_prepared_once_per_connection(pg: Database, serial: int) -> None:
    hot_read(pg, serial)
    prepared = pg.write(lambda conn: conn.exec_driver_sql(PREPARED).scalar_one())
    for _ in range(3):
        hot_read(pg, serial)
    assert prepared >= 1
    assert pg.write(lambda conn: conn.exec_driver_sql(PREPARED).scalar_one()) == prepared


def test_a_lost_server_is_unavailable_and_the_next_write_reconnects(
    pg: Database, serial: int, server_restart: Callable[[], None]
) -> None:
    hot_read(pg, serial)
    server_restart()
    with pytest.raises(DatabaseUnavailableError):
        hot_read(pg, serial)  # a write is never retried: it may have landed
    assert hot_read(pg, serial).batch is not None
