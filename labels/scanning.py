"""A scan, end to end: judge the code, fold the scan into its serial's summary, log it.

One transaction per scan. The per-serial summary is read under a row lock (PostgreSQL
``FOR UPDATE``; SQLite's BEGIN IMMEDIATE already serializes writers), so concurrent scans of
one code never lose an update. Only scans of a validly signed code shape its summary: anyone
can type a serial or forge a code, and neither may make a genuine label look copied.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final

from sqlalchemy import RowMapping, Table, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from gimark.core.db import Base, Database
from gimark.core.errors import DatabaseUnavailableError
from gimark.labels.duplicates import (
    DetectionConfig,
    Scan,
    SerialSummary,
    assess,
    decode_sites,
    encode_sites,
    verdict_of,
)
from gimark.labels.scan_models import ScanRecord, SerialScanner, SerialSummaryRow
from gimark.labels.verification import (
    CANNOT_VERIFY,
    GENUINE,
    NOT_OURS,
    UNAUTHORIZED,
    Finding,
    Verifier,
)

# Core tables, not the ORM: the scan path is the hot path (plain SQL costs a sixth of the ORM).
_SCANS: Final = Base.metadata.tables[ScanRecord.__tablename__]
_SCANNERS: Final = Base.metadata.tables[SerialScanner.__tablename__]
_SUMMARIES: Final = Base.metadata.tables[SerialSummaryRow.__tablename__]


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
            with self.db.session() as session:
                return self._scan(session, text, who, now)
        except (SQLAlchemyError, DatabaseUnavailableError):
            return self._offline(text, now)

    def _scan(self, session: Session, text: str, who: Scanning, now: dt.datetime) -> Outcome:
        finding = self.verifier.check(session, text, now)
        summary: SerialSummary | None = None
        duplicate: tuple[str, ...] = ()
        if _shapes_pattern(finding):
            assert finding.serial is not None and finding.party is not None
            sales = finding.party.product.sales_region_codes
            summary, duplicate = self._fold(session, finding.serial, who, sales, now)
        elif finding.serial is not None:
            summary = read_summary(session, finding.serial)
        verdict = _verdict(finding, duplicate)
        reasons = finding.reasons + tuple(duplicate) if verdict != GENUINE else ()
        _log(session, finding, verdict, reasons, who, now)
        return Outcome(verdict, reasons, finding, summary, recorded=True)

    def _fold(
        self, session: Session, serial: int, who: Scanning, sales: tuple[str, ...], now: dt.datetime
    ) -> tuple[SerialSummary, tuple[str, ...]]:
        is_new = _claim_scanner(session, serial, who.scanner, now)
        before = _lock_summary(session, serial)
        scan = Scan(at=now, scanner=who.scanner, point=who.point, region=who.region)
        assessment = assess(before, scan, is_new, sales, self.config)
        _store_summary(session, serial, assessment.summary)
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


def _claim_scanner(session: Session, serial: int, scanner: str, now: dt.datetime) -> bool:
    """Whether ``scanner`` is new to ``serial``; the unique key decides, race-free."""
    return _insert_ignore(session, _SCANNERS, serial=serial, scanner=scanner, first_at=now)


def _lock_summary(session: Session, serial: int) -> SerialSummary | None:
    """The summary, locked until commit; a placeholder row is made so there is a row to lock."""
    query = select(_SUMMARIES).where(_SUMMARIES.c.serial == serial).with_for_update()
    row = session.execute(query).first()
    if row is None:
        _insert_ignore(session, _SUMMARIES, serial=serial, scan_count=0)
        row = session.execute(query).one()
    return _summary_of(row._mapping)


def _insert_ignore(session: Session, table: Table, **values: object) -> bool:
    """INSERT … ON CONFLICT DO NOTHING; True when the row is new."""
    dialect = session.get_bind().dialect.name
    statement = (pg_insert if dialect == "postgresql" else sqlite_insert)(table).values(**values)
    # RETURNING, not rowcount: psycopg reports -1 for an INSERT … ON CONFLICT here.
    key = next(iter(table.primary_key.columns))
    inserted = session.execute(statement.on_conflict_do_nothing().returning(key)).first()
    return inserted is not None


def read_summary(session: Session, serial: int) -> SerialSummary | None:
    """The summary without locking (for typed lookups and unsigned codes)."""
    row = session.execute(select(_SUMMARIES).where(_SUMMARIES.c.serial == serial)).first()
    return None if row is None else _summary_of(row._mapping)


def _summary_of(values: RowMapping) -> SerialSummary | None:
    if not values["scan_count"]:
        return None
    return SerialSummary(
        scan_count=values["scan_count"],
        scanner_count=values["scanner_count"],
        first_at=values["first_at"],
        first_region=values["first_region"],
        last_at=values["last_at"],
        last_scanner=values["last_scanner"],
        last_region=values["last_region"],
        outside_scanners=values["outside_scanners"],
        outside_provinces=_split(values["outside_provinces"]),
        travel_conflicts=values["travel_conflicts"],
        site_count=values["site_count"],
        sites=decode_sites(values["sites"]),
        reasons=_split(values["reasons"]),
        flagged_at=values["flagged_at"],
    )


def _split(text: str | None) -> tuple[str, ...]:
    return tuple(part for part in (text or "").split(",") if part)


def _store_summary(session: Session, serial: int, summary: SerialSummary) -> None:
    session.execute(
        update(_SUMMARIES)
        .where(_SUMMARIES.c.serial == serial)
        .values(
            scan_count=summary.scan_count,
            scanner_count=summary.scanner_count,
            first_at=summary.first_at,
            first_region=summary.first_region,
            last_at=summary.last_at,
            last_scanner=summary.last_scanner,
            last_region=summary.last_region,
            outside_scanners=summary.outside_scanners,
            outside_provinces=",".join(summary.outside_provinces),
            travel_conflicts=summary.travel_conflicts,
            site_count=summary.site_count,
            sites=encode_sites(summary.sites),
            reasons=",".join(summary.reasons),
            flagged_at=summary.flagged_at,
        )
    )


def _log(
    session: Session,
    finding: Finding,
    verdict: str,
    reasons: tuple[str, ...],
    who: Scanning,
    now: dt.datetime,
) -> None:
    lat, lon = who.point if who.point is not None else (None, None)
    session.execute(
        insert(_SCANS).values(
            at=now,
            serial=finding.serial,
            typed=finding.typed,
            verdict=verdict,
            reasons=",".join(reasons)[:255],
            scanner=who.scanner[:40],
            region=who.region,
            lat=lat,
            lon=lon,
            place_source=who.place_source,
            ua_family=who.ua_family[:24],
            ip_hash=who.ip_hash,
        )
    )
