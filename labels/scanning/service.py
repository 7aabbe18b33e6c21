"""A scan, end to end: judge the code, fold the scan into its serial's summary, log it.

A label's first scan is judged from the caches and written in one statement that checks what
they assumed (:mod:`gimark.labels.scanning.first_scans`). Otherwise a scan reads (the code's state,
its serial's pattern), judges, and writes its row together with the serial's new summary in
one write that succeeds only if no other scan of the serial came in between
(:mod:`gimark.labels.scanning.store`); if one did, it reads and judges again, and after a few
such collisions it waits on the serial's row lock instead (:mod:`gimark.labels.scanning.locking`).
Either way concurrent scans of one code never lose an update and no scan is answered before
its row is committed. Only scans of a validly signed code shape its summary: anyone can type
a serial or forge a code, and neither may make a genuine label look copied.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from gimark.core.db import Database
from gimark.core.errors import DatabaseUnavailableError
from gimark.labels.scanning.duplicates import (
    DetectionConfig,
    Scan,
    SerialSummary,
    assess,
    verdict_of,
)
from gimark.labels.scanning.first_scans import store_first_scan
from gimark.labels.scanning.locking import lock_and_claim, record
from gimark.labels.scanning.store import (
    Seen,
    log,
    read_state_and_pattern,
    read_summary,
    store_if_unchanged,
)
from gimark.labels.scanning.verification import (
    CANNOT_VERIFY,
    GENUINE,
    NOT_OURS,
    UNAUTHORIZED,
    Finding,
    Given,
    Verifier,
)

__all__ = ["Outcome", "ScanService", "Scanning", "read_summary"]

# Optimistic attempts before a scan queues on its serial's row lock: each collision means
# another scan of the same serial landed in between, which outside a test is rare.
OPTIMISTIC_ATTEMPTS: Final = 3


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


@dataclass(frozen=True)
class _Plan:
    """A scan judged on what was read: its answer, its row, and the pattern it folds into
    (None: it shapes none, the row is all it writes)."""

    outcome: Outcome
    row: dict[str, Any] | None  # None: written already
    seen: Seen | None


class ScanService:
    """Judges and records scans; one per process (its verifier caches)."""

    def __init__(
        self,
        db: Database,
        bases: tuple[str, ...],
        config: DetectionConfig,
        optimistic_attempts: int = OPTIMISTIC_ATTEMPTS,
    ) -> None:
        self.db = db
        self.verifier = Verifier(db, bases)
        self.config = config
        self.optimistic_attempts = optimistic_attempts  # 0: every scan takes the row lock

    def scan(self, text: str, who: Scanning, now: dt.datetime) -> Outcome:
        """Judge ``text`` and record the scan; a database that is away gives cannot_verify."""
        try:
            given = self.verifier.read(text)
            failed = False  # a write of this scan failed: it may have landed all the same
            if isinstance(given, Given):
                try:
                    outcome = self._scan_on_guess(given, who, now)
                except (SQLAlchemyError, DatabaseUnavailableError):
                    # A connection that died in the pool, or written and the answer lost:
                    # the read below tells, and the scan is recorded once either way.
                    outcome, failed = None, True
                if outcome is not None:
                    return outcome
            for _ in range(self.optimistic_attempts):
                outcome = self._scan_optimistically(given, who, now, failed)
                if outcome is not None:
                    return outcome
            return self.db.in_transaction(
                lambda conn: self._record(conn, self.verifier.check(conn, text, now), who, now)
            )
        except (SQLAlchemyError, DatabaseUnavailableError):
            return self._offline(text, now)

    def _scan_on_guess(self, given: Given, who: Scanning, now: dt.datetime) -> Outcome | None:
        """The scan judged from the caches alone and written with a check that what they
        assumed still holds (:mod:`gimark.labels.scanning.first_scans`): one round trip for
        a label's first scan, two for a later one. None if the caches cannot judge it, or it
        was not written (the state had changed, or another scan of the serial came in
        between)."""
        guessed = self.verifier.guess(given, now)
        if guessed is None or not _shapes_pattern(guessed[0]):
            return None
        finding, state = guessed
        outcome, summary, row = self._folded(finding, Seen(None, None, False), who, now)
        first = self.db.write(lambda conn: store_first_scan(conn, row, summary, state))
        if first.landed:
            return outcome
        if first.seen is None:
            return None
        seen = first.seen
        outcome, summary, row = self._folded(finding, seen, who, now)
        if self.db.write(lambda conn: store_if_unchanged(conn, row, summary, seen)):
            return outcome
        return None

    def _folded(
        self, finding: Finding, seen: Seen, who: Scanning, now: dt.datetime
    ) -> tuple[Outcome, SerialSummary, dict[str, Any]]:
        """The outcome of a scan that shapes its serial's pattern (as ``seen`` before it),
        the pattern after it, and the scan's row."""
        assert finding.party is not None
        sales = finding.party.product.sales_region_codes
        scan = Scan(at=now, scanner=who.scanner, point=who.point, region=who.region)
        assessment = assess(seen.summary, scan, not seen.scanner_known, sales, self.config)
        verdict = _verdict(finding, assessment.reasons)
        reasons = finding.reasons + assessment.reasons if verdict != GENUINE else ()
        outcome = Outcome(verdict, reasons, finding, assessment.summary, recorded=True)
        return outcome, assessment.summary, _scan_row(finding, verdict, reasons, who, now)

    def _scan_optimistically(
        self, given: Given | Finding, who: Scanning, now: dt.datetime, failed: bool
    ) -> Outcome | None:
        """Read and judge, then write; None if another scan of the serial was written in
        between (nothing was written then)."""
        return self.db.read_then_write(
            lambda conn: self._judge(conn, given, who, now, failed), self._write
        )

    def _judge(
        self,
        conn: Connection,
        given: Given | Finding,
        who: Scanning,
        now: dt.datetime,
        failed: bool,
    ) -> _Plan:
        """What to write for this scan (``given``: what its text was read as), from the
        state and the serial's pattern as read now (``failed``: an earlier write of this
        scan failed, and may have landed)."""
        seen = None
        if isinstance(given, Finding):
            finding = given  # not ours or malformed: nothing to read
        else:
            state, seen = read_state_and_pattern(conn, given.serial, who.scanner)
            finding = self.verifier.judge(conn, given, state, now)
        if finding.party is None:
            seen = None  # no batch of ours holds the serial: it has no pattern to show
        if seen is None or not _shapes_pattern(finding):
            # A typed serial or a code of a known batch: its history is shown, not changed.
            verdict = _verdict(finding, ())
            reasons = finding.reasons if verdict != GENUINE else ()
            row = _scan_row(finding, verdict, reasons, who, now)
            summary = None if seen is None else seen.summary
            return _Plan(Outcome(verdict, reasons, finding, summary, recorded=True), row, None)
        summary = seen.summary
        if failed and _is_this_scan(summary, who, now):
            # Written already, the answer lost (the microsecond and the scanner's cookie tell
            # this scan from any other, short of a client replaying its cookie in parallel).
            assert summary is not None
            verdict = _verdict(finding, summary.reasons)
            reasons = finding.reasons + summary.reasons if verdict != GENUINE else ()
            outcome = Outcome(verdict, reasons, finding, summary, recorded=True)
            return _Plan(outcome, None, seen)
        outcome, _, row = self._folded(finding, seen, who, now)
        return _Plan(outcome, row, seen)

    @staticmethod
    def _write(conn: Connection, plan: _Plan) -> Outcome | None:
        if plan.row is None:
            return plan.outcome
        if plan.seen is None:
            log(conn, plan.row)
            return plan.outcome
        assert plan.outcome.summary is not None
        if store_if_unchanged(conn, plan.row, plan.outcome.summary, plan.seen):
            return plan.outcome
        return None

    def _record(
        self, conn: Connection, finding: Finding, who: Scanning, now: dt.datetime
    ) -> Outcome:
        """The scan under the serial's row lock, in ``conn``'s transaction."""
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


def _is_this_scan(summary: SerialSummary | None, who: Scanning, now: dt.datetime) -> bool:
    return summary is not None and (summary.last_at, summary.last_scanner) == (now, who.scanner)


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
