"""Hot statements on both databases: the column types still convert, constants travel with
the statement, and driver errors come out as SQLAlchemy's. (Enums: the batch status in
tests/labels/test_scan_store.py.)"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import BigInteger, bindparam, insert, literal, select
from sqlalchemy.exc import IntegrityError

from gimark.core.db import Database
from gimark.core.generation import StateGeneration
from gimark.core.hot_sql import HotStatement
from gimark.labels.scanning.models import ScanRecord
from gimark.verify_web.reports.models import Report

SCANS = ScanRecord.__table__
GENERATION = StateGeneration.__table__
AT = dt.datetime(2026, 11, 24, 8, 30, 15, 123456, tzinfo=dt.UTC)

LOG = HotStatement(
    insert(SCANS).values(
        at=bindparam("at"),
        serial=bindparam("serial"),
        verdict="genuine",  # a constant the statement carries itself
        scanner=bindparam("scanner"),
        place_source="none",
    )
)
READ = HotStatement(
    select(SCANS.c.at, SCANS.c.serial, SCANS.c.verdict, literal(7).label("seven"))
    .where(SCANS.c.serial == bindparam("serial", type_=BigInteger()))
    .limit(1)
)


def test_a_row_round_trips_through_the_column_types(db: Database) -> None:
    db.in_transaction(lambda conn: LOG.rows(conn, {"at": AT, "serial": 9, "scanner": "s"}))
    with db.reading() as conn:
        row = READ.first(conn, {"serial": 9})
        missing = READ.first(conn, {"serial": 10})
    assert row is not None and missing is None
    assert (row.at, row.serial, row.verdict, row.seven) == (AT, 9, "genuine", 7)
    assert row.at.tzinfo is dt.UTC  # aware UTC on SQLite too, as through the ORM


def test_a_driver_error_is_a_sqlalchemy_error(db: Database) -> None:
    duplicate = HotStatement(insert(GENERATION).values(name="state", value=bindparam("value")))
    with pytest.raises(IntegrityError):  # the migration seeded the "state" row already
        db.in_transaction(lambda conn: duplicate.rows(conn, {"value": 1}))


def test_expanding_parameters_are_refused(db: Database) -> None:
    in_list = HotStatement(select(SCANS.c.id).where(SCANS.c.serial.in_(bindparam("serials"))))
    with db.reading() as conn, pytest.raises(ValueError, match="expanding"):
        in_list.rows(conn, {"serials": [1, 2]})


def test_a_computed_column_default_is_refused(db: Database) -> None:
    reports = Report.__table__  # "at" defaults to utcnow(), which only an ORM flush computes
    report = HotStatement(insert(reports).values(text=bindparam("text")))
    with db.reading() as conn, pytest.raises(ValueError, match="default"):
        report.rows(conn, {"text": "fake"})
