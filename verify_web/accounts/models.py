"""Accounts of the people who sign in: admins, enterprises, printers, inspectors.

Authentication is an edge concern: domain services take an ``actor`` string, and the web
layer maps a signed-in account to one (``account:<username>``).
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from gimark.core.db import Base, UTCDateTime, utcnow, value_enum


class Role(enum.StrEnum):
    """What an account may do."""

    ADMIN = "admin"
    ENTERPRISE = "enterprise"
    PRINTER = "printer"
    INSPECTOR = "inspector"


# An enterprise or printer account without its party could act for no one, or, read carelessly,
# for everyone: the database refuses it even from a direct insert. Shared with migration 0006.
ROLE_PARTY_CHECK = (
    "(role <> 'enterprise' OR enterprise_id IS NOT NULL)"
    " AND (role <> 'printer' OR printer_id IS NOT NULL)"
)


class Account(Base):
    """A person's sign-in; enterprise and printer accounts act for one party.

    ``session_version`` counts the times every session of the account was ended (sign-out,
    password change): a session signed in under an older version is no longer valid.
    """

    __tablename__ = "accounts"
    __table_args__ = (CheckConstraint(ROLE_PARTY_CHECK, name="role_party"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[Role] = mapped_column(value_enum(Role))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"))
    printer_id: Mapped[int | None] = mapped_column(ForeignKey("printers.id"))
    active: Mapped[bool] = mapped_column(default=True)
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
