"""The scan log and what the verdicts keep per serial.

No raw IP address is stored anywhere: a scan keeps a keyed hash of it at most, a coarse place
(region code and/or lat/lon rounded to about a kilometre) and the scanner's first-party cookie.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, Float, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from gimark.core.db import Base, UTCDateTime

# SQLite only auto-increments a column declared INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class ScanRecord(Base):
    """One scan or typed lookup, whatever its verdict."""

    __tablename__ = "scans"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    serial: Mapped[int | None] = mapped_column(BigInteger)  # None: not a code of ours
    typed: Mapped[bool] = mapped_column(Boolean, default=False)
    verdict: Mapped[str] = mapped_column(String(24))
    reasons: Mapped[str] = mapped_column(String(255), default="")  # comma-separated codes
    scanner: Mapped[str] = mapped_column(String(40))  # the gm_sid cookie
    region: Mapped[str | None] = mapped_column(String(6))  # GB/T 2260
    lat: Mapped[float | None] = mapped_column(Float)  # rounded to 0.01°
    lon: Mapped[float | None] = mapped_column(Float)
    place_source: Mapped[str] = mapped_column(String(8), default="none")  # gps | ip | none
    ua_family: Mapped[str] = mapped_column(String(24), default="other")
    ip_hash: Mapped[str | None] = mapped_column(
        String(32)
    )  # HMAC of the address, never the address

    __table_args__ = (
        Index("ix_scans_serial_at", "serial", "at"),
        # The log only grows, in time order: on PostgreSQL a BRIN index finds a time range
        # as well and costs next to nothing per insert (SQLite has none: a B-tree there).
        Index("ix_scans_at", "at", postgresql_using="brin"),
    )


class SerialScanner(Base):
    """Who has scanned a serial: the unique key makes 'is this scanner new?' one insert."""

    __tablename__ = "serial_scanners"

    serial: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    scanner: Mapped[str] = mapped_column(String(40), primary_key=True)
    first_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class SerialSummaryRow(Base):
    """The bounded per-serial state of :class:`gimark.labels.scanning.duplicates.SerialSummary`."""

    __tablename__ = "serial_summaries"

    serial: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    scan_count: Mapped[int] = mapped_column(Integer, default=0)  # 0: placeholder, no scan yet
    scanner_count: Mapped[int] = mapped_column(Integer, default=0)
    first_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    first_region: Mapped[str | None] = mapped_column(String(6))
    last_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_scanner: Mapped[str] = mapped_column(String(40), default="")
    last_region: Mapped[str | None] = mapped_column(String(6))
    outside_scanners: Mapped[int] = mapped_column(Integer, default=0)
    outside_provinces: Mapped[str] = mapped_column(String(32), default="")  # comma-separated
    travel_conflicts: Mapped[int] = mapped_column(Integer, default=0)
    site_count: Mapped[int] = mapped_column(Integer, default=0)
    sites: Mapped[str] = mapped_column(Text, default="[]")  # JSON, see duplicates.encode_sites
    reasons: Mapped[str] = mapped_column(String(100), default="")  # comma-separated, sticky
    flagged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        # Few serials are ever flagged: only they are indexed, and a scan of an unflagged
        # serial writes no index entry for it.
        Index(
            "ix_serial_summaries_flagged_at",
            "flagged_at",
            postgresql_where=text("flagged_at IS NOT NULL"),
            sqlite_where=text("flagged_at IS NOT NULL"),
        ),
    )


class FlagClearance(Base):
    """An inspector's decision that a flagged serial is not copied after all: who, when, why.

    Clearing deletes the serial's summary and scanner claims (see
    :mod:`gimark.labels.scanning.flags`), so what the flag rested on is kept here.
    """

    __tablename__ = "flag_clearances"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    serial: Mapped[int] = mapped_column(BigInteger, index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text)
    cleared_reasons: Mapped[str] = mapped_column(String(100))  # the summary's, comma-separated
    flagged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    scanner_count: Mapped[int] = mapped_column(Integer)  # distinct scanners when cleared
