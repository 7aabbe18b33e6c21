"""Consumers' reports of suspect products, as stored."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import BigInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gimark.core.db import Base, UTCDateTime, utcnow, value_enum


class ReportStatus(enum.StrEnum):
    """Where a consumer's report is in review."""

    NEW = "new"
    REVIEWING = "reviewing"
    CLOSED = "closed"


class Report(Base):
    """A consumer's report of a suspect product."""

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    code_text: Mapped[str] = mapped_column(String(2048), default="")
    serial: Mapped[int | None] = mapped_column(BigInteger, index=True)
    verdict: Mapped[str] = mapped_column(String(24), default="")  # the verdict when reported
    text: Mapped[str] = mapped_column(Text, default="")
    contact: Mapped[str] = mapped_column(String(200), default="")
    photo: Mapped[str | None] = mapped_column(String(80))  # <sha256>.<ext> under uploads/
    scanner: Mapped[str] = mapped_column(String(40), default="")
    region: Mapped[str | None] = mapped_column(String(6))
    status: Mapped[ReportStatus] = mapped_column(value_enum(ReportStatus), default=ReportStatus.NEW)
