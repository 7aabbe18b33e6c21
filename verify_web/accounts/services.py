"""Account operations: create, authenticate, change a password, end sessions, deactivate, list.

Like the domain services, every function takes the caller's session and never commits.
Passwords are stored only as werkzeug hashes (scrypt by default, salted).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from gimark.core.errors import GimarkError, not_found
from gimark.trace.services import get_enterprise, get_printer, insert_unique
from gimark.verify_web.accounts.errors import (
    AccountInactiveError,
    InvalidCredentialsError,
    InvalidUsernameError,
    RolePartyError,
    UsernameTakenError,
    WeakPasswordError,
)
from gimark.verify_web.accounts.models import Account, Role

USERNAME = re.compile(r"[a-z0-9][a-z0-9._@-]{2,63}")
PASSWORD_MIN = 8  # characters
PASSWORD_MAX = 1024  # characters: bounds the hashing work one request can cause


def normalize_username(username: str) -> str:
    """Usernames compare case-insensitively: stored and looked up in lower case.

    Raises:
        InvalidUsernameError: not 3–64 of the allowed characters.
    """
    name = username.strip().lower()
    if not USERNAME.fullmatch(name):
        raise InvalidUsernameError(username=username)
    return name


def _check_party(
    session: Session, role: Role, enterprise_id: int | None, printer_id: int | None
) -> None:
    wants_enterprise = role is Role.ENTERPRISE
    wants_printer = role is Role.PRINTER
    if wants_enterprise and enterprise_id is None:
        raise RolePartyError(role=role, detail="needs --enterprise", detail_zh="须指定所属企业")
    if wants_printer and printer_id is None:
        raise RolePartyError(role=role, detail="needs --printer", detail_zh="须指定所属印制企业")
    if (enterprise_id is not None and not wants_enterprise) or (
        printer_id is not None and not wants_printer
    ):
        raise RolePartyError(
            role=role,
            detail="acts for no other enterprise or printer",
            detail_zh="不能代表其他企业或印制企业",
        )
    if enterprise_id is not None:
        get_enterprise(session, enterprise_id)
    if printer_id is not None:
        get_printer(session, printer_id)


def _check_password(password: str) -> None:
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise WeakPasswordError(minimum=PASSWORD_MIN, maximum=PASSWORD_MAX)


def create_account(
    session: Session,
    *,
    username: str,
    password: str,
    role: Role,
    enterprise_id: int | None = None,
    printer_id: int | None = None,
) -> Account:
    """Create an active account.

    Raises:
        InvalidUsernameError: the username is not acceptable.
        WeakPasswordError: the password is too short or too long.
        RolePartyError: an enterprise account without an enterprise, a printer account without
            a printer, or another role given one.
        NotFoundError: no such enterprise or printer.
        UsernameTakenError: the username exists.
    """
    name = normalize_username(username)
    _check_password(password)
    role = Role(role)
    _check_party(session, role, enterprise_id, printer_id)
    account = Account(
        username=name,
        password_hash=generate_password_hash(password),
        role=role,
        enterprise_id=enterprise_id,
        printer_id=printer_id,
        active=True,
    )

    def conflict() -> GimarkError | None:
        taken = session.scalar(select(Account.id).where(Account.username == name))
        return None if taken is None else UsernameTakenError(username=name)

    insert_unique(session, account, conflict)
    return account


@functools.cache
def _decoy_hash() -> str:
    # Checked against when the username is unknown, so that both failures cost one hash.
    return generate_password_hash("decoy password, never a real one")


def authenticate(session: Session, *, username: str, password: str) -> Account:
    """The account whose username and password these are.

    Raises:
        InvalidCredentialsError: unknown username or wrong password (one error for both, and
            the same hashing work for both, so neither message nor timing tells them apart).
        AccountInactiveError: the password is right but the account is deactivated.
    """
    name = username.strip().lower()
    account = None
    if len(password) <= PASSWORD_MAX and USERNAME.fullmatch(name):
        account = session.scalar(select(Account).where(Account.username == name))
    stored = account.password_hash if account is not None else _decoy_hash()
    matches = check_password_hash(stored, password[:PASSWORD_MAX])
    if account is None or not matches:
        raise InvalidCredentialsError()
    if not account.active:
        raise AccountInactiveError(username=account.username)
    return account


def get_account(session: Session, username: str) -> Account:
    """The account with ``username``.

    Raises:
        NotFoundError: there is none.
    """
    name = username.strip().lower()
    account = session.scalar(select(Account).where(Account.username == name))
    if account is None:
        raise not_found("账户", "account", name)
    return account


def end_sessions(session: Session, account_id: int) -> None:
    """End every session of the account ``account_id``, this one and any copied cookie alike.

    One UPDATE that adds 1 in the database rather than a read and a write, so that two
    sign-outs at once both count. An unknown id changes nothing: the account that signs out
    may have been deleted meanwhile, and signing out must still work.
    """
    session.execute(
        update(Account)
        .where(Account.id == account_id)
        .values(session_version=Account.session_version + 1)
    )


def change_password(session: Session, username: str, password: str) -> Account:
    """Give ``username`` a new password and end all its sessions (the old password's).

    Raises:
        NotFoundError: no such account.
        WeakPasswordError: the password is too short or too long.
    """
    account = get_account(session, username)
    _check_password(password)
    account.password_hash = generate_password_hash(password)
    end_sessions(session, account.id)  # also updates ``account`` (synchronize_session)
    return account


def deactivate(session: Session, username: str) -> Account:
    """Stop an account from signing in; its open sessions end at their next request.

    Raises:
        NotFoundError: no such account.
    """
    account = get_account(session, username)
    account.active = False
    return account


def list_accounts(session: Session) -> Sequence[Account]:
    """Every account, oldest first."""
    return session.scalars(select(Account).order_by(Account.id)).all()


def actor_of(username: str) -> str:
    """How domain services record the account ``username`` as the one who acted."""
    return f"account:{username}"
