"""A scan, end to end: judge the code, fold the scan into its serial's summary, log it.

One write transaction per scan: the serial's summary is read under a row lock (on
PostgreSQL; on SQLite one writer at a time holds the database), folded with the scan and
written back together with the scan's row, so concurrent scans of one code never lose an
update and no scan is answered without its row committed. :mod:`gimark.labels.scan_store`
holds the statements and their lock order. Only scans of a validly signed code shape its
summary: anyone can type a serial or forge a code, and neither may make a genuine label look
copied.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from gimark.core.db import Database
from gimark.core.errors import DatabaseUnavailableError
from gimark.labels.duplicates import DetectionConfig, Scan, SerialSummary, assess, verdict_of
from gimark.labels.scan_store import lock_and_claim, read_summary, record
from gimark.labels.verification import (
    CANNOT_VERIFY,
    GENUINE,
    NOT_OURS,
    UNAUTHORIZED,
    Finding,
    Verifier,
)

__all__ = ["Outcome", "ScanService", "Scanning", "read_summary"]


@dataclass(frozen=True)
class Scanning:
    """Who scanned and from where, as the web layer knows it (nothing identifying)."""

    scanner: str  # the first-party cookie
    region: str | None = None  # GB/T 2260, from the IP
    point: tuple[float, float] | None = None  # measured (browser geolocation), rounded
    place_source: str = "none"  # gps | ip | none
    ua_family: str = "other"
    ip_hash: str | None = None


@dataclass(frozen=True)
class Outcome:
    """The verdict of one scan, its reasons and what the page shows with it."""

    verdict: str
    reasons: tuple[str, ...]
    finding: Finding
    summary: SerialSummary | None  # the serial's scan pattern after this scan, if any
    recorded: bool  # False only when the database was away


class ScanService:
    """Judges and records scans; one per process (its verifier caches)."""

    def __init__(self, db: Database, bases: tuple[str, ...], config: DetectionConfig) -> None:
        self.db = db
        self.verifier = Verifier(db, bases)
        self.config = config

    def scan(self, text: str, who: Scanning, now: dt.datetime) -> Outcome:
        """Judge ``text`` and record the scan; a database that is away gives cannot_verify."""
        try:
            if self.db.dialect == "sqlite":
                # One writer at a time: judge before queuing for the write lock, so that it
                # is held for the writes alone (the state read is as of a moment earlier).
                with self.db.reading() as conn:
                    finding = self.verifier.check(conn, text, now)
                return self.db.in_transaction(lambda conn: self._record(conn, finding, who, now))
            return self.db.in_transaction(
                lambda conn: self._record(conn, self.verifier.check(conn, text, now), who, now)
            )
        except (SQLAlchemyError, DatabaseUnavailableError):
            return self._offline(text, now)

    def _record(
        self, conn: Connection, finding: Finding, who: Scanning, now: dt.datetime
    ) -> Outcome:
        summary: SerialSummary | None = None
        duplicate: tuple[str, ...] = ()
        shaped = _shapes_pattern(finding)
        if shaped:
            assert finding.serial is not None and finding.party is not None
            sales = finding.party.product.sales_region_codes
            summary, duplicate = self._fold(conn, finding.serial, who, sales, now)
        elif finding.serial is not None and finding.party is not None:
            # A typed serial or a code of a known batch: its history is shown, not changed.
            summary = read_summary(conn, finding.serial)
        verdict = _verdict(finding, duplicate)
        reasons = finding.reasons + tuple(duplicate) if verdict != GENUINE else ()
        record(conn, _scan_row(finding, verdict, reasons, who, now), summary if shaped else None)
        return Outcome(verdict, reasons, finding, summary, recorded=True)

    def _fold(
        self, conn: Connection, serial: int, who: Scanning, sales: tuple[str, ...], now: dt.datetime
    ) -> tuple[SerialSummary, tuple[str, ...]]:
        """The serial's summary with this scan folded in (:func:`record` stores it)."""
        before, is_new = lock_and_claim(conn, serial, who.scanner, now)
        scan = Scan(at=now, scanner=who.scanner, point=who.point, region=who.region)
        assessment = assess(before, scan, is_new, sales, self.config)
        return assessment.summary, assessment.reasons

    def _offline(self, text: str, now: dt.datetime) -> Outcome:
        # Nothing can be recorded; the verifier still refuses what needs no database.
        finding = self.verifier.judge_without_state(text)
        return Outcome(finding.outcome, finding.reasons, finding, None, recorded=False)


def _shapes_pattern(finding: Finding) -> bool:
    signed = not finding.typed and finding.key is not None
    return signed and finding.party is not None and finding.outcome in (GENUINE, UNAUTHORIZED)


def _verdict(finding: Finding, duplicate: tuple[str, ...]) -> str:
    if finding.outcome in (NOT_OURS, CANNOT_VERIFY):
        return finding.outcome
    unauthorized = finding.reasons if finding.outcome == UNAUTHORIZED else ()
    return verdict_of(unauthorized, duplicate, cannot_verify=False)


def _scan_row(
    finding: Finding, verdict: str, reasons: tuple[str, ...], who: Scanning, now: dt.datetime
) -> dict[str, Any]:
    lat, lon = who.point if who.point is not None else (None, None)
    return {
        "at": now,
        "serial": finding.serial,
        "typed": finding.typed,
        "verdict": verdict,
        "reasons": ",".join(reasons)[:255],
        "scanner": who.scanner[:40],
        "region": who.region,
        "lat": lat,
        "lon": lon,
        "place_source": who.place_source,
        "ua_family": who.ua_family[:24],
        "ip_hash": who.ip_hash,
    }
