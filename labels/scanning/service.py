"""A scan, end to end: judge the code, fold the scan into its serial's summary, log it.

The story of :meth:`ScanService.scan`: read, judge, write, each of the ways below cheapest
first; if another scan of the serial was written in between, read and judge again; after a
few such collisions, wait on the serial's row lock; with the database away, cannot_verify.

- :meth:`~ScanService._first_scan`: a label's first scan, judged from the caches and written
  in one statement that checks what they assumed (:mod:`gimark.labels.scanning.first_scans`);
- :meth:`~ScanService._compare_and_swap`: read the code's state and its serial's pattern,
  judge, and write the scan's row with the serial's new summary only if no other scan came in
  between (:mod:`gimark.labels.scanning.store`);
- :meth:`~ScanService._under_lock`: the same under the serial's row lock, in one transaction
  (:mod:`gimark.labels.scanning.locking`);
- :meth:`~ScanService._offline`: what can be said without the database.

Either way concurrent scans of one code never lose an update and no scan is answered before
its row is committed. Only scans of a validly signed code shape its summary: anyone can type
a serial or forge a code, and neither may make a genuine label look copied.

:meth:`ScanService.look` judges the same way on what is recorded and writes nothing: for a
request that is not someone scanning (a link previewer, a crawler, a HEAD).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
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
)
from gimark.labels.scanning.first_scans import store_first_scan
from gimark.labels.scanning.judge import verdict_of
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
_UNSCANNED: Final = Seen(summary=None, version=None, scanner_known=False)
_DATABASE_ERRORS: Final = (SQLAlchemyError, DatabaseUnavailableError)


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
    recorded: bool  # False when nothing was written: a look, or the database was away


@dataclass
class _Attempt:
    """A scan being recorded: its text, what the text was read as, who scanned and when."""

    text: str
    given: Given | Finding
    who: Scanning
    now: dt.datetime
    # A write of this scan failed: it may have landed all the same (the next read tells).
    maybe_written: bool = False


@dataclass(frozen=True)
class _Plan:
    """A scan judged on what was read: its answer, and the write that records it (True if
    it landed; None: written already)."""

    outcome: Outcome
    write: Callable[[Connection], bool] | None


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
        scan = _Attempt(text, self.verifier.read(text), who, now)
        try:
            outcome = self._first_scan(scan)
            for _ in range(self.optimistic_attempts):
                if outcome is not None:
                    return outcome
                outcome = self._compare_and_swap(scan)  # None: a collision
            return outcome or self._under_lock(scan)
        except _DATABASE_ERRORS:
            return self._offline(scan)

    def look(self, text: str, now: dt.datetime) -> Outcome:
        """Judge ``text`` on what is recorded (the state and its serial's pattern as they are)
        and write nothing: no scan row, no change to the pattern. A database that is away
        gives what can be said without it."""
        try:
            with self.db.reading() as conn:
                return _looked(self.verifier.check(conn, text, now), conn)
        except _DATABASE_ERRORS:
            finding = self.verifier.judge_without_state(text)
            return Outcome(finding.outcome, finding.reasons, finding, None, recorded=False)

    def _first_scan(self, scan: _Attempt) -> Outcome | None:
        """The scan judged from the caches alone and written only as its serial's first and
        while the state the caches assumed holds: one round trip (two for a later scan: the
        write returns the pattern to fold it into). None if the caches cannot judge it, or
        it was not written (the state changed, another scan came in between, or the write
        failed: then it may have landed, and the next read tells)."""
        if not isinstance(scan.given, Given):
            return None
        guessed = self.verifier.guess(scan.given, scan.now)
        if guessed is None or not _shapes_pattern(guessed[0]):
            return None
        finding, state = guessed
        outcome, row = self._folded(finding, _UNSCANNED, scan)
        summary = outcome.summary
        assert summary is not None
        try:
            first = self.db.write(lambda conn: store_first_scan(conn, row, summary, state))
            if first.landed or first.seen is None:
                return outcome if first.landed else None
            seen = first.seen
            outcome, row = self._folded(finding, seen, scan)
            swap = self._swap(row, outcome, seen)
            return outcome if self.db.write(swap) else None
        except _DATABASE_ERRORS:
            scan.maybe_written = True  # a dead pooled connection, or written and the answer lost
            return None

    def _compare_and_swap(self, scan: _Attempt) -> Outcome | None:
        """Read the state and the pattern, judge, and write if no other scan of the serial
        came in between; None if one did (nothing was written)."""
        return self.db.read_then_write(lambda conn: self._judge(conn, scan), _carry_out)

    def _judge(self, conn: Connection, scan: _Attempt) -> _Plan:
        """The scan judged on the state and the serial's pattern as read now in ``conn``."""
        if isinstance(scan.given, Finding):
            finding, seen = scan.given, None  # not ours or malformed: nothing to read
        else:
            state, seen = read_state_and_pattern(conn, scan.given.serial, scan.who.scanner)
            finding = self.verifier.judge(conn, scan.given, state, scan.now)
        if seen is None or not _shapes_pattern(finding):
            outcome, row = self._unshaped(finding, None if seen is None else seen.summary, scan)
            return _Plan(outcome, _log_only(row))
        if scan.maybe_written and _is_this_scan(seen.summary, scan):
            return _Plan(_written_already(finding, seen.summary), None)
        outcome, row = self._folded(finding, seen, scan)
        return _Plan(outcome, self._swap(row, outcome, seen))

    def _under_lock(self, scan: _Attempt) -> Outcome:
        """The scan judged and written under its serial's row lock, in one transaction:
        however hot the serial, it waits instead of colliding."""
        return self.db.in_transaction(lambda conn: self._locked(conn, scan))

    def _locked(self, conn: Connection, scan: _Attempt) -> Outcome:
        finding = self.verifier.check(conn, scan.text, scan.now)
        if not _shapes_pattern(finding):
            summary = None
            if finding.serial is not None and finding.party is not None:
                summary = read_summary(conn, finding.serial)  # shown, not changed
            outcome, row = self._unshaped(finding, summary, scan)
            record(conn, row, None)
            return outcome
        assert finding.serial is not None
        before, is_new = lock_and_claim(conn, finding.serial, scan.who.scanner, scan.now)
        outcome, row = self._folded(finding, Seen(before, None, not is_new), scan)
        record(conn, row, outcome.summary)
        return outcome

    def _offline(self, scan: _Attempt) -> Outcome:
        # Nothing can be recorded; the verifier still refuses what needs no database.
        finding = self.verifier.judge_without_state(scan.text)
        return Outcome(finding.outcome, finding.reasons, finding, None, recorded=False)

    def _folded(
        self, finding: Finding, seen: Seen, scan: _Attempt
    ) -> tuple[Outcome, dict[str, Any]]:
        """The outcome of a scan that shapes its serial's pattern (as ``seen`` before it;
        its summary: the pattern after it), and the scan's row."""
        assert finding.party is not None
        sales = finding.party.product.sales_region_codes
        who = scan.who
        observed = Scan(at=scan.now, scanner=who.scanner, point=who.point, region=who.region)
        assessment = assess(seen.summary, observed, not seen.scanner_known, sales, self.config)
        verdict = _verdict(finding, assessment.reasons)
        reasons = finding.reasons + assessment.reasons if verdict != GENUINE else ()
        outcome = Outcome(verdict, reasons, finding, assessment.summary, recorded=True)
        return outcome, _scan_row(finding, verdict, reasons, scan)

    @staticmethod
    def _unshaped(
        finding: Finding, summary: SerialSummary | None, scan: _Attempt
    ) -> tuple[Outcome, dict[str, Any]]:
        """The outcome of a scan that shapes no pattern (a typed serial, a code refused or
        not ours: its serial's history, ``summary``, is shown, not changed) and its row."""
        if finding.party is None:
            summary = None  # no batch of ours holds the serial: it has no pattern to show
        verdict = _verdict(finding, ())
        reasons = finding.reasons if verdict != GENUINE else ()
        outcome = Outcome(verdict, reasons, finding, summary, recorded=True)
        return outcome, _scan_row(finding, verdict, reasons, scan)

    @staticmethod
    def _swap(row: dict[str, Any], outcome: Outcome, seen: Seen) -> Callable[[Connection], bool]:
        summary = outcome.summary
        assert summary is not None
        return lambda conn: store_if_unchanged(conn, row, summary, seen)


def _carry_out(conn: Connection, plan: _Plan) -> Outcome | None:
    return plan.outcome if plan.write is None or plan.write(conn) else None


def _log_only(row: dict[str, Any]) -> Callable[[Connection], bool]:
    def write(conn: Connection) -> bool:
        log(conn, row)
        return True

    return write


def _looked(finding: Finding, conn: Connection) -> Outcome:
    # The pattern as it stands judges the code, as for a report (nothing new was observed).
    summary = None
    if finding.serial is not None and finding.party is not None:
        summary = read_summary(conn, finding.serial)
    flagged = summary.reasons if summary is not None and _shapes_pattern(finding) else ()
    verdict = _verdict(finding, flagged)
    reasons = finding.reasons + flagged if verdict != GENUINE else ()
    return Outcome(verdict, reasons, finding, summary, recorded=False)


def _written_already(finding: Finding, summary: SerialSummary | None) -> Outcome:
    # Written already, the answer lost (the microsecond and the scanner's cookie tell this
    # scan from any other, short of a client replaying its cookie in parallel).
    assert summary is not None
    verdict = _verdict(finding, summary.reasons)
    reasons = finding.reasons + summary.reasons if verdict != GENUINE else ()
    return Outcome(verdict, reasons, finding, summary, recorded=True)


def _is_this_scan(summary: SerialSummary | None, scan: _Attempt) -> bool:
    last = None if summary is None else (summary.last_at, summary.last_scanner)
    return last == (scan.now, scan.who.scanner)


def _shapes_pattern(finding: Finding) -> bool:
    signed = not finding.typed and finding.key is not None
    return signed and finding.party is not None and finding.outcome in (GENUINE, UNAUTHORIZED)


def _verdict(finding: Finding, duplicate: tuple[str, ...]) -> str:
    if finding.outcome in (NOT_OURS, CANNOT_VERIFY):
        return finding.outcome
    unauthorized = finding.reasons if finding.outcome == UNAUTHORIZED else ()
    return verdict_of(unauthorized, duplicate, cannot_verify=False)


def _scan_row(
    finding: Finding, verdict: str, reasons: tuple[str, ...], scan: _Attempt
) -> dict[str, Any]:
    who = scan.who
    lat, lon = who.point if who.point is not None else (None, None)
    return {
        "at": scan.now,
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
