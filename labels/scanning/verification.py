"""What a code's state says online: the signature, its key, its batch, the authorization
behind it, read from the database and the per-process caches.

The rules are the judge's (:mod:`gimark.labels.scanning.judge`, which offline verification
shares); this module gives it the state to judge. This is the unauthorized half of a verdict;
the duplicate half comes from the scan pattern (:mod:`gimark.labels.scanning.duplicates`), and
:mod:`gimark.labels.scanning.service` puts them together and records the scan. The steps are
numbered as in ``docs/verification.md``.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
from dataclasses import dataclass

from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from gimark.core.db import Database, connection_of
from gimark.core.errors import DatabaseUnavailableError
from gimark.keys.keyring import PublicKeySet
from gimark.labels.scanning.batch_ranges import BatchRanges
from gimark.labels.scanning.judge import (
    CANNOT_VERIFY,
    DUPLICATE,
    GENUINE,
    NOT_OURS,
    UNAUTHORIZED,
    BatchState,
    Finding,
    Given,
    issued_at,
    judge_code,
    read_given,
    standing_of,
    without_state,
)
from gimark.labels.scanning.registry_cache import NotCachedError, Party, RegistryCache
from gimark.labels.scanning.state import BatchInfo, State, read_state
from gimark.trace.authorizations import Reason, judge, turning_points

# The verdict names and the judge's types are used from here by the scan path and the web.
__all__ = [
    "CANNOT_VERIFY",
    "DUPLICATE",
    "GENUINE",
    "NOT_OURS",
    "UNAUTHORIZED",
    "Finding",
    "Given",
    "Verifier",
]


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
        if state.batch is not None and conn is not None:
            self.batches.remember(state.batch)
        try:
            return judge_code(given, _Online(self.cache, conn, state, now), now)
        except (SQLAlchemyError, DatabaseUnavailableError):
            return self._without_state(given)

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
        return without_state(given, self.cache.last_keys)


@dataclass(slots=True)
class _Online:
    """A code's state online (a :class:`~gimark.labels.scanning.judge.CodeState`): its batch as
    read from the database, the keys and its party from the caches, loaded through ``conn``
    when they lack them (None: the caches alone)."""

    cache: RegistryCache
    conn: Connection | None
    state: State
    now: dt.datetime

    def keys(self) -> PublicKeySet:
        # Cached per state generation: one integer comparison.
        return self.cache.keys(self.conn, self.state.generation)

    def batch(self) -> _OnlineBatch | None:
        batch = self.state.batch
        standing = None if batch is None else standing_of(batch.status)
        if batch is None or standing is None:
            return None
        party = self.cache.party(
            self.conn, self.state.generation, batch.enterprise_id, batch.product_id
        )
        return _OnlineBatch(batch, standing, self.state.voided, party, self.now)


@dataclass(slots=True)
class _OnlineBatch:
    """A batch row and its party (a :class:`~gimark.labels.scanning.judge.BatchFacts`)."""

    info: BatchInfo
    standing: BatchState
    voided: bool
    party: Party
    now: dt.datetime

    @property
    def key_kid(self) -> str | None:
        return self.info.key_kid

    @property
    def approved_at(self) -> dt.datetime | None:
        return self.info.approved_at

    @property
    def authorization_at_issue(self) -> Reason:
        return _at_issue(self.party, issued_at(self.info.approved_at, self.info.requested_at))

    @property
    def authorization_now(self) -> Reason:
        span = bisect.bisect_right(_turning_points(self.party), self.now)
        return _reason_in_span(self.party, span)

    def shown(self, finding: Finding) -> Finding:
        f = finding
        return Finding(f.outcome, f.reasons, f.serial, f.typed, self.info, self.party, f.key)


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
