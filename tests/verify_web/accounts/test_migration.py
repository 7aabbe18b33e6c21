"""Migration 0006 on a database that already has accounts: versions start at 1, and an
account without its party stops the upgrade with the reason."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from alembic import command
from sqlalchemy import text

from gimark.core.db import Database
from gimark.core.migrate import alembic_config, current_revision, upgrade
from gimark.verify_web.accounts import services as accounts

Factory = Callable[..., Any]
INSERT = text(
    "INSERT INTO accounts (username, password_hash, role, enterprise_id, printer_id, active,"
    " created_at) VALUES (:username, 'x', :role, NULL, :printer_id, :active, :at)"
)


def back_to_0005(db: Database) -> None:
    command.downgrade(alembic_config(db), "0005")
    assert current_revision(db) == "0005"


def add(db: Database, username: str, role: str, printer_id: int | None) -> None:
    values = {"username": username, "role": role, "printer_id": printer_id}
    with db.session() as s:
        s.execute(INSERT, values | {"active": True, "at": dt.datetime.now(dt.UTC)})


def test_existing_accounts_start_at_session_version_1(db: Database, make_printer: Factory) -> None:
    printer_id = make_printer().id
    back_to_0005(db)
    add(db, "printer1", "printer", printer_id)
    add(db, "admin1", "admin", None)
    upgrade(db)
    with db.session() as s:
        assert [a.session_version for a in accounts.list_accounts(s)] == [1, 1]


def test_an_account_without_its_party_stops_the_upgrade(db: Database) -> None:
    back_to_0005(db)
    add(db, "printer1", "printer", None)  # possible before 0006, by a direct insert
    with pytest.raises(RuntimeError, match="1 enterprise/printer account"):
        upgrade(db)
    assert current_revision(db) == "0005"
