"""One judge of a code's state, online and offline: the rules of steps 1, 3 and 4 of
``docs/verification.md``, over a small protocol saying what they need to know of the state.

Online (:mod:`gimark.labels.scanning.verification`) the state is the database and the
per-process caches; offline (:mod:`gimark.labels.offline.judge`) it is a signed status list.
Both read the text with :func:`read_given` and judge with :func:`judge_code` (or
:func:`without_state` when there is no state to read), so an inspector's answer cannot drift
from the service's. The duplicate half of a verdict needs the scan history and is judged
elsewhere (:mod:`gimark.labels.scanning.duplicates`).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

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
from gimark.labels.scanning.reasons import DUPLICATE_REASONS, UNAUTHORIZED_REASONS
from gimark.labels.scanning.registry_cache import Party
from gimark.labels.scanning.state import BatchInfo
from gimark.trace.authorizations import Reason

__all__ = [
    "CANNOT_VERIFY",
    "DUPLICATE",
    "GENUINE",
    "NOT_OURS",
    "UNAUTHORIZED",
    "BatchFacts",
    "BatchState",
    "CodeState",
    "Finding",
    "Given",
    "issued_at",
    "judge_code",
    "read_given",
    "standing_of",
    "verdict_of",
    "without_state",
]

# Verdict names of the contract.
GENUINE: Final = "genuine"
DUPLICATE: Final = "duplicate_suspected"
UNAUTHORIZED: Final = "unauthorized"
NOT_OURS: Final = "not_ours"
CANNOT_VERIFY: Final = "cannot_verify"


class BatchState(enum.StrEnum):
    """What a batch's status means for its labels (the status list's ``state`` values)."""

    ACTIVE = "active"  # delivered: its labels are live
    NOT_ACTIVE = "not_active"  # approved or printed, not delivered: not released
    REVOKED = "revoked"


# Requested and rejected batches hold no serials (none are allocated before approval), so
# they have no standing: a serial is never theirs.
_STANDING: Final = {
    BatchStatus.APPROVED: BatchState.NOT_ACTIVE,  # printed or not, not delivered: not released
    BatchStatus.PRINTED: BatchState.NOT_ACTIVE,
    BatchStatus.DELIVERED: BatchState.ACTIVE,
    BatchStatus.REVOKED: BatchState.REVOKED,
}
_STANDING_REASONS: Final = {
    BatchState.ACTIVE: (),
    BatchState.NOT_ACTIVE: ("batch_not_active",),
    BatchState.REVOKED: ("batch_revoked",),
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
    batch: BatchInfo | None = None  # online: the batch row the finding rests on
    party: Party | None = None  # online: its enterprise and product
    key: PublicKeyInfo | None = None
    extra: dict[str, str] = field(default_factory=dict)  # offline: the list entry's id


@dataclass(frozen=True)
class Given:
    """What a scanned or typed text is, once read: a code of ours or a typed serial."""

    code: Code | None  # None: a typed serial, no signature shown
    serial: int


class BatchFacts(Protocol):
    """What the judge needs to know of the batch that holds a code's serial."""

    @property
    def standing(self) -> BatchState:
        """What the batch's status means for its labels (see :func:`standing_of`)."""
        ...

    @property
    def voided(self) -> bool:
        """Whether the code's serial was voided as spoiled in printing."""
        ...

    @property
    def key_kid(self) -> str | None:
        """The key the batch was bound to (what a typed serial is judged by)."""
        ...

    @property
    def approved_at(self) -> dt.datetime | None:
        """When the batch was bound to its key: a compromise after it leaves it good."""
        ...

    @property
    def authorization_at_issue(self) -> Reason:
        """The enterprise's authorization for the product at :func:`issued_at`."""
        ...

    @property
    def authorization_now(self) -> Reason:
        """The authorization now (offline: when the list was generated)."""
        ...

    def shown(self, finding: Finding) -> Finding:
        """``finding`` with what the answer shows of the batch (online its row and party,
        offline the list entry)."""
        ...


class CodeState(Protocol):
    """What the judge needs to know of one code's state, wherever it is read from.

    Its methods may raise whatever the reading raises (online: a database error); the
    caller turns that into :func:`without_state`.
    """

    def keys(self) -> PublicKeySet:
        """The verifying keys, each with its status and the time of its compromise."""
        ...

    def batch(self) -> BatchFacts | None:
        """The batch that holds the code's serial; None if no batch was issued it."""
        ...


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


def judge_code(given: Given, state: CodeState, now: dt.datetime) -> Finding:
    """Steps 2 to 4 for ``given``: its signature, its key, its batch, its serial and the
    authorization behind them, from ``state`` at ``now``.

    Raises:
        whatever ``state`` raises when it cannot be read.
    """
    code, serial, typed = given.code, given.serial, given.code is None
    # 2. The keys of the state.
    keys = state.keys()
    # 3. The signature, by a key we know.
    signer: Ed25519PublicKey | None = None  # the key that verified the signature
    if code is not None:
        refused, signer = _signature(code, keys)
        if refused:
            return Finding(UNAUTHORIZED, refused, serial)
    batch = state.batch()
    key = _key_of(code, signer, None if batch is None else batch.key_kid, keys)
    # 4. The batch, the serial and the authorization behind them.
    if batch is None:
        reasons = ("serial_not_issued", *_key_reasons(key, now))
        return Finding(UNAUTHORIZED, reasons, serial, typed, key=key)
    reasons = (
        _STANDING_REASONS[batch.standing]
        + (("serial_voided",) if batch.voided else ())
        + _key_reasons(key, batch.approved_at)
        + _authorization_reasons(batch.authorization_at_issue, batch.authorization_now)
    )
    outcome = UNAUTHORIZED if reasons else GENUINE
    return batch.shown(Finding(outcome, reasons, serial, typed, key=key))


def without_state(given: Given, keys: PublicKeySet | None) -> Finding:
    """What can be said of ``given`` when its state cannot be read (database away, no usable
    status list), from ``keys`` known from before (None: none): a bad signature is bad
    regardless, anything else cannot be verified now."""
    if given.code is not None and keys is not None:
        refused, _ = _signature(given.code, keys)
        # The keys may be older than the key that signed a new code: unknown proves nothing.
        if refused and refused != ("unknown_key",):
            return Finding(UNAUTHORIZED, refused, given.serial)
    return Finding(CANNOT_VERIFY, ("state_unavailable",), given.serial, given.code is None)


def verdict_of(unauthorized: Sequence[str], duplicate: Sequence[str], cannot_verify: bool) -> str:
    """6. The verdict from the state checks' reasons, the duplicate reasons and availability.

    Unauthorized beats everything: a revoked or inactive batch is unauthorized, copied or
    not, and a forged signature needs no database. Then cannot_verify, which never says
    genuine; then duplicate_suspected.

    Raises:
        ValueError: a reason code that belongs to neither list (a programming error).
    """
    unknown = (set(unauthorized) - UNAUTHORIZED_REASONS) | (set(duplicate) - set(DUPLICATE_REASONS))
    if unknown:
        raise ValueError(f"unknown reason codes: {sorted(unknown)}")
    if unauthorized:
        return UNAUTHORIZED
    if cannot_verify:
        return CANNOT_VERIFY
    if duplicate:
        return DUPLICATE
    return GENUINE


def standing_of(status: BatchStatus) -> BatchState | None:
    """What ``status`` means for a batch's labels; None for a batch that holds no serials."""
    return _STANDING.get(status)


def issued_at(approved_at: dt.datetime | None, requested_at: dt.datetime) -> dt.datetime:
    """When a batch counts as issued for its authorization: its approval, else its request."""
    return approved_at or requested_at


def _signature(code: Code, keys: PublicKeySet) -> tuple[tuple[str, ...], Ed25519PublicKey | None]:
    """Why the signature of ``code`` is refused by ``keys`` (empty: it is good), and the key
    that verified it."""
    try:
        return (), verify(code, keys)
    except UnknownKeyError:
        return ("unknown_key",), None
    except BadSignatureError:
        return ("bad_signature",), None


def _key_reasons(key: PublicKeyInfo | None, signed_at: dt.datetime | None) -> tuple[str, ...]:
    """``key_compromised`` if ``key`` was compromised before ``signed_at`` (or it is unknown
    when the code was signed)."""
    if key is None or key.status is not KeyStatus.COMPROMISED:
        return ()
    # Codes signed before the compromise stay good; "when" is when the batch was bound to
    # the key (its approval). Without a batch the code cannot predate anything.
    if key.compromised_at is None or signed_at is None or signed_at >= key.compromised_at:
        return ("key_compromised",)
    return ()


def _key_of(
    code: Code | None, signer: Ed25519PublicKey | None, batch_kid: str | None, keys: PublicKeySet
) -> PublicKeyInfo | None:
    if code is not None:
        # The key that verified the code: keys sharing its 4-byte id lend it no state.
        return keys.info(code.key_id, signer)
    if batch_kid is not None:
        # A typed serial names no key; its batch does.
        return next((k for k in keys if k.kid == batch_kid), None)
    return None


def _authorization_reasons(at_issue: Reason, now: Reason) -> tuple[str, ...]:
    if at_issue is not Reason.AUTHORIZED:
        return (str(at_issue),)  # "not_authorized" extends the contract's reason codes
    return (str(now),) if now in _NOW_REASONS else ()
