"""Batch tables: one row per batch, never one per label.

A batch owns a contiguous serial range ``[serial_first, serial_last]``; the only per-label
facts stored are exceptions (voided serials, as ranges), so a batch of ten million labels is
one row plus a handful. Every state change is a ``batch_events`` row: who, when, why.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gimark.core.db import Base, UTCDateTime, utcnow, value_enum


class BatchStatus(enum.StrEnum):
    """Where a batch is in its life.

    requested → approved (serials allocated, printer assigned) → printed (a run was generated)
    → delivered (labels are live). ``rejected`` ends a request; ``revoked`` ends any batch.
    """

    REQUESTED = "requested"
    APPROVED = "approved"
    PRINTED = "printed"
    DELIVERED = "delivered"
    REJECTED = "rejected"
    REVOKED = "revoked"


class BatchAction(enum.StrEnum):
    """What a batch event recorded."""

    REQUEST = "request"
    APPROVE = "approve"
    REJECT = "reject"
    GENERATE = "generate"
    VOID = "void"
    DELIVER = "deliver"
    REVOKE = "revoke"


class SerialCounter(Base):
    """The next serial to allocate. One row; approvals lock it, so ranges never overlap."""

    __tablename__ = "serial_counters"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    next_serial: Mapped[int] = mapped_column(BigInteger)


class Batch(Base):
    """N labels of one product for one enterprise, printed by one printer."""

    __tablename__ = "batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    authorization_id: Mapped[int | None] = mapped_column(ForeignKey("authorizations.id"))
    quantity: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[BatchStatus] = mapped_column(value_enum(BatchStatus))
    printer_id: Mapped[int | None] = mapped_column(ForeignKey("printers.id"), index=True)
    serial_first: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    serial_last: Mapped[int | None] = mapped_column(BigInteger)
    key_kid: Mapped[str | None] = mapped_column(String(64))  # the key its codes are signed with
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    printed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    voided_count: Mapped[int] = mapped_column(BigInteger, default=0)

    events: Mapped[list[BatchEvent]] = relationship(
        back_populates="batch", order_by="BatchEvent.id"
    )
    voided: Mapped[list[VoidedRange]] = relationship(
        back_populates="batch", order_by="VoidedRange.first"
    )


class BatchEvent(Base):
    """One state change of a batch."""

    __tablename__ = "batch_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    action: Mapped[BatchAction] = mapped_column(value_enum(BatchAction))
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    reason: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[str] = mapped_column(Text, default="")  # JSON: counts, ranges, file digests

    batch: Mapped[Batch] = relationship(back_populates="events")


class VoidedRange(Base):
    """Serials of a batch spoiled in printing: ``[first, last]``, never overlapping another."""

    __tablename__ = "voided_ranges"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    first: Mapped[int] = mapped_column(BigInteger)
    last: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    batch: Mapped[Batch] = relationship(back_populates="voided")

    __table_args__ = (Index("ix_voided_ranges_batch_first", "batch_id", "first"),)
