"""Hot statements on an autocommit PostgreSQL connection run prepared, through libpq: every
type the scan path binds round-trips, in binary (whatever the session's TimeZone or
DateStyle), errors keep their classes and a lost server is a disconnect."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Connection,
    Float,
    Integer,
    String,
    bindparam,
    insert,
    select,
)
from sqlalchemy.exc import IntegrityError

from gimark.core.db import Database, UTCDateTime
from gimark.core.errors import DatabaseUnavailableError
from gimark.core.generation import StateGeneration
from gimark.core.hot_sql import HotStatement

AT = dt.datetime(2026, 11, 24, 8, 30, 15, 123456, tzinfo=dt.UTC)
ECHO = HotStatement(
    select(
        bindparam("big", type_=BigInteger()).label("big"),
        bindparam("small", type_=Integer()).label("small"),
        bindparam("flag", type_=Boolean()).label("flag"),
        bindparam("ratio", type_=Float()).label("ratio"),
        bindparam("name", type_=String()).label("name"),
        bindparam("at", type_=UTCDateTime()).label("at"),
    )
)
VALUES = {"big": 2**47 + 5, "small": -7, "flag": True, "ratio": 28.23, "name": "沅江芦笋", "at": AT}
PREPARED_HERE = "SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'gimark_hot_%%'"


@pytest.fixture
def pg(db: Database) -> Database:
    if db.dialect != "postgresql":
        pytest.skip("prepared statements through libpq are PostgreSQL's")
    return db


def echo(values: dict[str, Any]) -> Callable[[Connection], Any]:
    return lambda conn: ECHO.first(conn, values)


def test_every_bound_type_round_trips(pg: Database) -> None:
    row = pg.write(echo(VALUES))
    assert row._asdict() == VALUES
    assert row.at.tzinfo is dt.UTC
    nulls = pg.write(echo(dict.fromkeys(VALUES)))
    assert nulls == (None,) * len(VALUES)


def test_a_statement_is_prepared_once_per_connection(pg: Database) -> None:
    for _ in range(3):
        pg.write(echo(VALUES))
    # write() runs on the same held connection: one statement prepared there, run three times.
    assert pg.write(lambda conn: conn.exec_driver_sql(PREPARED_HERE).scalar_one()) == 1


def test_the_sessions_time_zone_and_date_style_change_nothing(pg: Database) -> None:
    pg.write(lambda conn: conn.exec_driver_sql("SET TimeZone = 'Asia/Shanghai'"))
    pg.write(lambda conn: conn.exec_driver_sql("SET DateStyle = 'SQL, DMY'"))
    assert pg.write(echo(VALUES)).at == AT


def test_a_constraint_violation_keeps_its_class(pg: Database) -> None:
    generation = StateGeneration.__table__
    duplicate = HotStatement(insert(generation).values(name="state", value=bindparam("value")))
    with pytest.raises(IntegrityError):  # the migration seeded the "state" row already
        pg.write(lambda conn: duplicate.rows(conn, {"value": 1}))
    assert pg.write(echo(VALUES)).big == VALUES["big"]  # the connection is still good


def test_a_type_without_a_binary_value_is_refused(pg: Database) -> None:
    document = HotStatement(select(bindparam("doc", type_=JSON()).label("doc")))
    with pytest.raises(ValueError, match="cannot bind"):
        pg.write(lambda conn: document.rows(conn, {"doc": {}}))


def test_a_lost_server_is_a_disconnect_and_the_next_write_reconnects(
    pg: Database, server_restart: Callable[[], None]
) -> None:
    pg.write(echo(VALUES))
    server_restart()
    with pytest.raises(DatabaseUnavailableError):
        pg.write(echo(VALUES))  # a write is never retried: it may have landed
    assert pg.write(echo(VALUES)).name == VALUES["name"]
