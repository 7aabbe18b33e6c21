"""Accounts of the people who sign in: admins, enterprises, printers, inspectors.

Authentication is an edge concern: domain services take an ``actor`` string, and the web
layer maps a signed-in account to one (``account:<username>``).
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from gimark.core.db import Base, UTCDateTime, utcnow, value_enum


class Role(enum.StrEnum):
    """What an account may do."""

    ADMIN = "admin"
    ENTERPRISE = "enterprise"
    PRINTER = "printer"
    INSPECTOR = "inspector"


class Account(Base):
    """A person's sign-in; enterprise and printer accounts act for one party."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[Role] = mapped_column(value_enum(Role))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"))
    printer_id: Mapped[int | None] = mapped_column(ForeignKey("printers.id"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
