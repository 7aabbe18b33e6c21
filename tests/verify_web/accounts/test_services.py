"""Accounts: creating, authenticating and deactivating them, by service and by command."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from gimark.core.db import Database
from gimark.core.errors import NotFoundError
from gimark.verify_web.accounts import services as accounts
from gimark.verify_web.accounts.errors import (
    AccountInactiveError,
    InvalidCredentialsError,
    InvalidUsernameError,
    RolePartyError,
    UsernameTakenError,
    WeakPasswordError,
)
from gimark.verify_web.accounts.models import Account, Role

PASSWORD = "correct horse 42"
Factory = Callable[..., Any]


def count(db: Database) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(Account)) or 0


def test_an_account_keeps_a_hash_not_the_password(db: Database, make_printer: Factory) -> None:
    printer_id = make_printer().id
    with db.session() as s:
        account = accounts.create_account(
            s, username=" Printer.One ", password=PASSWORD, role=Role.PRINTER, printer_id=printer_id
        )
    assert account.username == "printer.one" and account.active
    assert PASSWORD not in account.password_hash and account.password_hash.startswith("scrypt:")
    with db.session() as s:
        found = accounts.authenticate(s, username="PRINTER.ONE", password=PASSWORD)
    assert found.id == account.id and found.printer_id == printer_id


@pytest.mark.parametrize(
    ("role", "party", "error"),
    [
        (Role.PRINTER, {}, "needs --printer"),
        (Role.ENTERPRISE, {}, "needs --enterprise"),
        (Role.ADMIN, {"printer_id": "printer"}, "acts for no other"),
        (Role.PRINTER, {"enterprise_id": "enterprise", "printer_id": "printer"}, "no other"),
        (Role.INSPECTOR, {"enterprise_id": "enterprise"}, "acts for no other"),
    ],
)
def test_a_role_needs_its_party_and_no_other(
    db: Database,
    make_printer: Factory,
    make_enterprise: Factory,
    role: Role,
    party: dict[str, str],
    error: str,
) -> None:
    made = {"printer": make_printer().id, "enterprise": make_enterprise().id}
    ids = {key: made[value] for key, value in party.items()}
    with pytest.raises(RolePartyError, match=error), db.session() as s:
        accounts.create_account(s, username="someone", password=PASSWORD, role=role, **ids)
    assert count(db) == 0


def test_a_missing_party_is_refused_in_both_languages(db: Database) -> None:
    with pytest.raises(RolePartyError) as caught, db.session() as s:
        accounts.create_account(s, username="p1x", password=PASSWORD, role=Role.PRINTER)
    assert caught.value.message("zh") == "角色 printer 的账户须指定所属印制企业"
    assert caught.value.message("en") == "an account with role printer needs --printer"


@pytest.mark.parametrize(
    ("role", "party"),
    [("printer", {"enterprise_id": "enterprise"}), ("enterprise", {"printer_id": "printer"})],
)
def test_the_database_refuses_an_account_without_its_party(
    db: Database,
    make_printer: Factory,
    make_enterprise: Factory,
    role: str,
    party: dict[str, str],
) -> None:
    # Past the service, straight into the table: the CHECK constraint still holds.
    made = {"printer": make_printer().id, "enterprise": make_enterprise().id}
    row = {"enterprise_id": None, "printer_id": None} | {k: made[v] for k, v in party.items()}
    insert = text(
        "INSERT INTO accounts (username, password_hash, role, enterprise_id, printer_id, active,"
        " created_at) VALUES ('direct', 'x', :role, :enterprise_id, :printer_id, :active, :at)"
    )
    values = row | {"role": role, "active": True, "at": dt.datetime.now(dt.UTC)}
    with pytest.raises(IntegrityError, match=r"ck_accounts_role_party|CHECK"), db.session() as s:
        s.execute(insert, values)
    assert count(db) == 0
    # The same insert with its party is accepted, and starts at session version 1.
    values[f"{role}_id"] = made[role]
    with db.session() as s:
        s.execute(insert, values)
    with db.session() as s:
        assert accounts.get_account(s, "direct").session_version == 1


def test_the_party_must_exist(db: Database) -> None:
    with pytest.raises(NotFoundError, match="printer 99 not found"), db.session() as s:
        accounts.create_account(
            s, username="ghost", password=PASSWORD, role=Role.PRINTER, printer_id=99
        )
    assert count(db) == 0


@pytest.mark.parametrize("username", ["", "ab", "-dash-first", "has space", "名字", "x" * 65])
def test_usernames_are_checked(db: Database, username: str) -> None:
    with pytest.raises(InvalidUsernameError), db.session() as s:
        accounts.create_account(s, username=username, password=PASSWORD, role=Role.ADMIN)


@pytest.mark.parametrize("password", ["short", "x" * 1025])
def test_passwords_have_a_length_range(db: Database, password: str) -> None:
    with pytest.raises(WeakPasswordError, match="8 to 1024"), db.session() as s:
        accounts.create_account(s, username="admin", password=password, role=Role.ADMIN)


def test_a_username_is_taken_whatever_its_case(db: Database) -> None:
    with db.session() as s:
        accounts.create_account(s, username="admin", password=PASSWORD, role=Role.ADMIN)
    with pytest.raises(UsernameTakenError, match="'admin' is already taken"), db.session() as s:
        accounts.create_account(s, username="ADMIN", password="another one!", role=Role.ADMIN)
    assert count(db) == 1


def test_unknown_user_and_wrong_password_fail_alike(db: Database) -> None:
    with db.session() as s:
        accounts.create_account(s, username="admin", password=PASSWORD, role=Role.ADMIN)
    failures = []
    for username, password in [("admin", "wrong password"), ("nobody", PASSWORD), ("", "")]:
        with pytest.raises(InvalidCredentialsError) as caught, db.session() as s:
            accounts.authenticate(s, username=username, password=password)
        failures.append((caught.value.code, caught.value.message("zh"), caught.value.message("en")))
    assert set(failures) == {
        ("invalid_credentials", "用户名或密码错误", "wrong username or password")
    }


def test_a_deactivated_account_cannot_sign_in(db: Database) -> None:
    with db.session() as s:
        accounts.create_account(s, username="admin", password=PASSWORD, role=Role.ADMIN)
    with db.session() as s:
        assert not accounts.deactivate(s, "Admin").active
    with pytest.raises(AccountInactiveError, match="deactivated"), db.session() as s:
        accounts.authenticate(s, username="admin", password=PASSWORD)
    # A wrong password still says only "wrong username or password".
    with pytest.raises(InvalidCredentialsError), db.session() as s:
        accounts.authenticate(s, username="admin", password="wrong password")
    with pytest.raises(NotFoundError, match="account nobody not found"), db.session() as s:
        accounts.deactivate(s, "nobody")


# --- the command line --------------------------------------------------------------------------


def test_account_commands(run: Callable[..., Any], make_enterprise: Factory) -> None:
    enterprise_id = make_enterprise().id
    env = {"GIMARK_ACCOUNT_PASSWORD": PASSWORD}
    added = run(
        "account", "add", "--username", "ent1", "--role", "enterprise",
        "--enterprise", str(enterprise_id), "--json", env=env,
    ).json()  # fmt: skip
    listed = run("account", "list", "--json").json()
    assert [
        (a["id"], a["username"], a["role"], a["enterprise_id"], a["active"]) for a in listed
    ] == [(added["id"], "ent1", "enterprise", enterprise_id, True)]
    assert "password_hash" not in listed[0]
    gone = run("account", "deactivate", "ent1", "--json").json()
    assert gone["active"] is False and gone["username"] == "ent1"


def test_account_add_refusals_are_one_line(run: Callable[..., Any]) -> None:
    no_password = run("account", "add", "--username", "a1b", "--role", "admin", ok=False)
    assert no_password.exit_code != 0 and "Traceback" not in no_password.stderr
    assert "GIMARK_ACCOUNT_PASSWORD" in no_password.stderr
    assert len(no_password.stderr.strip().splitlines()) == 1
    env = {"GIMARK_ACCOUNT_PASSWORD": PASSWORD}
    no_printer = run(
        "account", "add", "--username", "p1x", "--role", "printer", "--json", env=env, ok=False
    )
    assert no_printer.exit_code != 0 and no_printer.stdout == ""
    assert json.loads(no_printer.stderr)["error"]["code"] == "role_party_mismatch"
    assert run("account", "list", "--json").json() == []
