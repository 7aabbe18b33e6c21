"""``gimark account``: the sign-ins of the portal.

Passwords never go on the command line (where ``ps`` and shell history would keep them):
they come from GIMARK_ACCOUNT_PASSWORD or are typed twice on a terminal.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from gimark.core.context import Context
from gimark.core.output import emit, json_option
from gimark.verify_web.accounts import services as accounts
from gimark.verify_web.accounts.errors import MissingPasswordError
from gimark.verify_web.accounts.models import Account, Role

PASSWORD_ENV = "GIMARK_ACCOUNT_PASSWORD"  # noqa: S105 - the variable's name, not a password


def account_summary(account: Account) -> dict[str, Any]:
    """What the commands print about an account (never its password hash)."""
    return {
        "id": account.id,
        "username": account.username,
        "role": account.role.value,
        "enterprise_id": account.enterprise_id,
        "printer_id": account.printer_id,
        "active": account.active,
        "created_at": account.created_at,
    }


def _password(gm: Context) -> str:
    given = os.environ.get(PASSWORD_ENV)
    if given:
        return given
    if not (gm.interactive and sys.stdin.isatty()):
        raise MissingPasswordError()
    first = click.prompt("password / 密码", hide_input=True, err=True)
    if click.prompt("again / 再输一次", hide_input=True, err=True) != first:
        raise MissingPasswordError()
    return str(first)


@click.group("account")
def account_group() -> None:
    """Portal sign-ins of admins, enterprises, printers and inspectors. 门户账户。"""


@account_group.command("add")
@click.option("--username", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--enterprise", "enterprise_id", type=int, help="The enterprise it acts for.")
@click.option("--printer", "printer_id", type=int, help="The printer it acts for.")
@json_option
@click.pass_obj
def add_command(
    gm: Context,
    username: str,
    role: str,
    enterprise_id: int | None,
    printer_id: int | None,
    as_json: bool,
) -> None:
    """Create an account (password from GIMARK_ACCOUNT_PASSWORD or typed twice)."""
    password = _password(gm)
    with gm.db.session() as s:
        account = accounts.create_account(
            s,
            username=username,
            password=password,
            role=Role(role),
            enterprise_id=enterprise_id,
            printer_id=printer_id,
        )
        created, name = account.id, account.username
    # Printed once committed: a success line must never precede a rollback.
    emit(as_json, {"id": created}, f"account {created} ({name}) created / 账户已创建")


@account_group.command("list")
@json_option
@click.pass_obj
def list_command(gm: Context, as_json: bool) -> None:
    """Every account, oldest first."""
    with gm.db.session() as s:
        rows = [account_summary(a) for a in accounts.list_accounts(s)]
    lines = [
        f"{r['id']:>4}  {r['username']:<24} {r['role']:<10} "
        f"{'active' if r['active'] else 'deactivated / 已停用'}"
        for r in rows
    ]
    emit(as_json, rows, "\n".join(lines) if lines else "no accounts / 暂无账户")


@account_group.command("password")
@click.argument("username")
@json_option
@click.pass_obj
def password_command(gm: Context, username: str, as_json: bool) -> None:
    """Set a new password (from GIMARK_ACCOUNT_PASSWORD or typed twice); ends its sessions."""
    password = _password(gm)
    with gm.db.session() as s:
        summary = account_summary(accounts.change_password(s, username, password))
    emit(
        as_json,
        summary,
        f"password of {summary['username']} changed; its sessions are ended / 密码已更改，"
        "该账户的所有会话已失效",
    )


@account_group.command("deactivate")
@click.argument("username")
@json_option
@click.pass_obj
def deactivate_command(gm: Context, username: str, as_json: bool) -> None:
    """Stop an account from signing in; its open sessions end at their next request."""
    with gm.db.session() as s:
        summary = account_summary(accounts.deactivate(s, username))
    emit(as_json, summary, f"account {summary['username']} deactivated / 已停用")


def register(root: click.Group) -> None:
    """Add this package's commands to the ``gimark`` root group."""
    root.add_command(account_group)
