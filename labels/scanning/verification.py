"""What a code's state says: the signature, its key, its batch, the authorization behind it.

This is the unauthorized half of a verdict; the duplicate half comes from the scan pattern
(:mod:`gimark.labels.scanning.duplicates`), and :mod:`gimark.labels.scanning.service` puts them
together and records the scan. The steps are numbered as in ``docs/verification.md``.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
from dataclasses import dataclass, field
from typing import Final

from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from gimark.core.db import Database, connection_of
from gimark.core.errors import DatabaseUnavailableError
from gimark.keys.errors import UnknownKeyError
from gimark.keys.keyring import PublicKeyInfo, PublicKeySet
from gimark.keys.models import KeyStatus
from gimark.labels.issuing.codes import Code, parse, verify
from gimark.labels.issuing.errors import (
    BadSerialError,
    BadSignatureError,
    MalformedCodeError,
    NotOursError,
)
from gimark.labels.issuing.models import BatchStatus
from gimark.labels.issuing.serials import looks_like_serial, parse_serial
from gimark.labels.scanning.batch_ranges import BatchRanges
from gimark.labels.scanning.registry_cache import NotCachedError, Party, RegistryCache
from gimark.labels.scanning.state import BatchInfo, State, read_state
from gimark.trace.authorizations import Reason, judge, turning_points

# Verdict names of the contract.
GENUINE: Final = "genuine"
DUPLICATE: Final = "duplicate_suspected"
UNAUTHORIZED: Final = "unauthorized"
NOT_OURS: Final = "not_ours"
CANNOT_VERIFY: Final = "cannot_verify"

_BATCH_REASON: Final = {
    BatchStatus.REQUESTED: "serial_not_issued",  # no serials are allocated before approval
    BatchStatus.REJECTED: "serial_not_issued",
    BatchStatus.APPROVED: "batch_not_active",  # printed or not, not delivered: not released
    BatchStatus.PRINTED: "batch_not_active",
    BatchStatus.REVOKED: "batch_revoked",
}
# Reasons that still hold when the authorization changes later; expiry after issue is not
# one: labels applied while the authorization was valid stay genuine on the shelf.
_NOW_REASONS: Final = frozenset({Reason.SUSPENDED, Reason.REVOKED})


@dataclass(frozen=True)
class Finding:
    """The state of one scanned or typed code."""

    outcome: str  # GENUINE (no objection from state), UNAUTHORIZED, NOT_OURS or CANNOT_VERIFY
    reasons: tuple[str, ...] = ()
    serial: int | None = None
    typed: bool = False  # a typed serial: no signature was shown
    batch: BatchInfo | None = None
    party: Party | None = None
    key: PublicKeyInfo | None = None
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Given:
    """What a scanned or typed text is, once read: a code of ours or a typed serial."""

    code: Code | None  # None: a typed serial, no signature shown
    serial: int


class Verifier:
    """Checks codes against the keys and the database; one per process (it caches)."""

    def __init__(self, db: Database, bases: tuple[str, ...], cache: RegistryCache | None = None):
        self.db = db
        self.bases = bases
        self.cache = cache or RegistryCache()
        self.batches = BatchRanges()

    def check(self, session: Session | Connection, text: str, now: dt.datetime) -> Finding:
        """Judge ``text`` (a scanned QR text or a typed serial) from the state at ``now``,
        reading it in the transaction of ``session`` (a Session or a Core Connection)."""
        given = self.read(text)
        if isinstance(given, Finding):
            return given
        try:
            conn = connection_of(session)
            state = read_state(conn, given.serial)
        except (SQLAlchemyError, DatabaseUnavailableError):
            return self._without_state(given)
        return self.judge(conn, given, state, now)

    def read(self, text: str) -> Given | Finding:
        """Step 1 for ``text`` (see :func:`read_given`)."""
        return read_given(text, self.bases)

    def judge(
        self, conn: Connection | None, given: Given, state: State, now: dt.datetime
    ) -> Finding:
        """Steps 2 to 4 for ``given``, from its ``state`` (as read with
        :func:`~gimark.labels.scanning.state.read_state` or a statement that includes its query);
        ``conn`` loads what the caches lack (None: the caches alone).

        Raises:
            NotCachedError: ``conn`` is None and a cache lacks the keys or the party.
        """
        code, serial, batch = given.code, given.serial, state.batch
        if batch is not None and conn is not None:
            self.batches.remember(batch)
        # 2. The keys of the state generation (cached: one integer comparison).
        try:
            keys = self.cache.keys(conn, state.generation)
        except (SQLAlchemyError, DatabaseUnavailableError):
            return self._without_state(given)
        # 3. The signature, by a key we know.
        if code is not None:
            refused = signature_reasons(code, keys)
            if refused:
                return Finding(UNAUTHORIZED, refused, serial)
        key = _key_of(code, batch, keys)
        # 4. The batch, the serial and the authorization behind them.
        if batch is None:
            reasons = ("serial_not_issued", *key_reasons(key, now))
            return Finding(UNAUTHORIZED, reasons, serial, typed=code is None, key=key)
        try:
            party = self.cache.party(conn, state.generation, batch.enterprise_id, batch.product_id)
        except (SQLAlchemyError, DatabaseUnavailableError):
            return self._without_state(given)
        reasons = _batch_reasons(batch, state.voided) + key_reasons(key, batch.approved_at)
        reasons += _authorization_reasons(party, batch, now)
        outcome = UNAUTHORIZED if reasons else GENUINE
        return Finding(outcome, reasons, serial, code is None, batch, party, key)

    def guess(self, given: Given, now: dt.datetime) -> tuple[Finding, State] | None:
        """Judge a signed code from the caches alone, taking its batch as last read and its
        serial as not voided; None if a cache lacks anything. The guess holds only if the
        write that records the scan checks that state in the same statement
        (:func:`~gimark.labels.scanning.first_scans.store_first_scan`)."""
        batch = self.batches.find(given.serial)
        if given.code is None or batch is None or self.cache.generation < 0:
            return None
        state = State(self.cache.generation, batch, voided=False)
        try:
            return self.judge(None, given, state, now), state
        except NotCachedError:
            return None

    def judge_without_state(self, text: str) -> Finding:
        """What can be said with the database away: not ours, malformed, a bad signature by a
        key we know; anything else cannot be verified now."""
        given = self.read(text)
        if isinstance(given, Finding):
            return given if given.outcome == NOT_OURS else Finding(UNAUTHORIZED, ("malformed",))
        return self._without_state(given)

    def _without_state(self, given: Given) -> Finding:
        # A bad signature is bad regardless, but nothing else can be said.
        if given.code is not None and self.cache.last_keys is not None:
            refused = signature_reasons(given.code, self.cache.last_keys)
            if refused and refused != ("unknown_key",):  # a new key may be unknown to us
                return Finding(UNAUTHORIZED, refused, given.serial)
        return Finding(CANNOT_VERIFY, ("state_unavailable",), given.serial)


def read_given(text: str, bases: tuple[str, ...]) -> Given | Finding:
    """1. What was given: a typed serial, one of our codes, or something else (then the
    finding already: not ours or malformed). Online and offline checks both start here."""
    try:
        code, serial = _read_code(text, bases)
    except NotOursError:
        return Finding(NOT_OURS, ("not_ours",))
    except MalformedCodeError:
        return Finding(UNAUTHORIZED, ("malformed",))
    except BadSerialError:
        return Finding(UNAUTHORIZED, ("malformed",), typed=True)
    return Given(code, serial)


def _read_code(text: str, bases: tuple[str, ...]) -> tuple[Code | None, int]:
    """The code in a scanned text (None for a typed serial) and its serial.

    Raises:
        NotOursError: not a code of ours (another site's URL, random text).
        MalformedCodeError: our base URL, but not a well-formed code.
        BadSerialError: a typed serial whose check character is wrong.
    """
    # An ASCII text with a "/" (every scanned URL) is never a typed serial: "/" is neither a
    # separator nor a serial symbol. Deciding that here spares normalizing the whole URL
    # character by character on every scan.
    if not (text.isascii() and "/" in text) and looks_like_serial(text):
        return None, parse_serial(text)
    code = parse(text, bases)
    return code, code.serial


def signature_reasons(code: Code, keys: PublicKeySet) -> tuple[str, ...]:
    """Why the signature of ``code`` is refused by ``keys`` (empty: it is good)."""
    try:
        verify(code, keys)
    except UnknownKeyError:
        return ("unknown_key",)
    except BadSignatureError:
        return ("bad_signature",)
    return ()


def _key_of(code: Code | None, batch: BatchInfo | None, keys: PublicKeySet) -> PublicKeyInfo | None:
    if code is not None:
        return keys.info(code.key_id)
    if batch is not None and batch.key_kid is not None:
        # A typed serial names no key; its batch does.
        return next((k for k in keys if k.kid == batch.key_kid), None)
    return None


def key_reasons(key: PublicKeyInfo | None, signed_at: dt.datetime | None) -> tuple[str, ...]:
    """``key_compromised`` if ``key`` was compromised before ``signed_at`` (or it is unknown
    when the code was signed)."""
    if key is None or key.status is not KeyStatus.COMPROMISED:
        return ()
    # Codes signed before the compromise stay good; "when" is when the batch was bound to
    # the key (its approval). Without a batch the code cannot predate anything.
    if key.compromised_at is None or signed_at is None or signed_at >= key.compromised_at:
        return ("key_compromised",)
    return ()


def _batch_reasons(batch: BatchInfo, voided: bool) -> tuple[str, ...]:
    reasons = []
    if batch.status is not BatchStatus.DELIVERED:
        reasons.append(_BATCH_REASON[batch.status])
    if voided:
        reasons.append("serial_voided")
    return tuple(reasons)


def _authorization_reasons(party: Party, batch: BatchInfo, now: dt.datetime) -> tuple[str, ...]:
    at_issue = _at_issue(party, batch.approved_at or batch.requested_at)
    if at_issue is not Reason.AUTHORIZED:
        return (str(at_issue),)  # "not_authorized" extends the contract's reason codes
    now_reason = _reason_in_span(party, bisect.bisect_right(_turning_points(party), now))
    return (str(now_reason),) if now_reason in _NOW_REASONS else ()


# What the authorization said when a batch was issued never changes for a party (a party
# lives for one state generation): judged once per batch, not on every scan of its labels.
@functools.lru_cache(maxsize=1024)
def _at_issue(party: Party, issued: dt.datetime) -> Reason:
    return judge(party.authorizations, party.enterprise, issued).reason


# What the authorization says now changes only at the instants its rows name: judged once per
# span between two of them (span i starts at the i-th instant), not on every scan.
@functools.lru_cache(maxsize=256)
def _turning_points(party: Party) -> tuple[dt.datetime, ...]:
    return turning_points(party.authorizations, party.enterprise)


@functools.lru_cache(maxsize=1024)
def _reason_in_span(party: Party, span: int) -> Reason:
    points = _turning_points(party)
    if span > 0:
        at = points[span - 1]
    else:  # before the first instant (any instant before it answers the same)
        at = points[0] - dt.timedelta(microseconds=1) if points else dt.datetime.now(dt.UTC)
    return judge(party.authorizations, party.enterprise, at).reason
