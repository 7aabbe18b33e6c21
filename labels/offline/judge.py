"""Judging a code without a network: the published keys and a signed status list, nothing else.

An inspector's answer must be the online service's answer for the same state: the steps,
outcomes and reason codes are those of :mod:`gimark.labels.scanning.verification` (whose reading and
signature helpers this module shares), with the database replaced by a
:class:`~gimark.labels.offline.statuslist.StatusList` already checked by
:func:`~gimark.labels.offline.statuslist.verify_status_list`. Scan history is not available offline,
so duplicates cannot be suspected here; "genuine" means what the online state check means by
it. A missing or stale list is the database being away: ``cannot_verify``, never "genuine".
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Final

from gimark.keys.keyring import PublicKeyInfo, PublicKeySet
from gimark.keys.models import KeyStatus
from gimark.labels.issuing.codes import Code
from gimark.labels.offline.statuslist import BatchEntry, BatchState, StatusList
from gimark.labels.scanning.verification import (
    CANNOT_VERIFY,
    GENUINE,
    UNAUTHORIZED,
    Finding,
    key_reasons,
    read_given,
    signature_reasons,
)
from gimark.trace.authorizations import Reason

__all__ = ["BATCH_ID", "check_offline", "with_compromises"]

BATCH_ID: Final = "batch_id"  # Finding.extra: the list entry a finding rests on

_STATE_REASON: Final = {
    BatchState.ACTIVE: (),
    BatchState.NOT_ACTIVE: ("batch_not_active",),
    BatchState.REVOKED: ("batch_revoked",),
}
# As online: expiry after issue is no objection, a suspension or revocation since is.
_NOW_REASONS: Final = frozenset({Reason.SUSPENDED, Reason.REVOKED})


def check_offline(
    text: str,
    bases: tuple[str, ...],
    keys: PublicKeySet,
    status: StatusList | None,
    now: dt.datetime,
) -> Finding:
    """Judge ``text`` (a scanned QR text or a typed serial) from ``keys`` and ``status``.

    ``status`` None means no usable list (none, or stale): the answer is then at best
    ``cannot_verify``. ``Finding.batch`` and ``Finding.party`` are database rows and stay
    None; ``Finding.extra[BATCH_ID]`` names the list entry the finding rests on.
    """
    # 1. What was given: a typed serial, one of our codes, or something else.
    given = read_given(text, bases)
    if isinstance(given, Finding):
        return given
    code, serial = given.code, given.serial
    # 2. The state: without a list, only a bad signature can still be told.
    if status is None:
        return _without_state(code, serial, keys)
    keys = with_compromises(keys, status)
    # 3. The signature, by a key we know. The list was verified with these keys, so a code
    # naming a key they lack was not signed by any key the issuer had at generated_at.
    if code is not None:
        refused = signature_reasons(code, keys)
        if refused:
            return Finding(UNAUTHORIZED, refused, serial)
    entry = status.find(serial)
    key = _key_of(code, entry, keys)
    # 4. The batch, the serial and the authorization behind them.
    if entry is None:
        reasons = ("serial_not_issued", *key_reasons(key, now))
        return Finding(UNAUTHORIZED, reasons, serial, typed=code is None, key=key)
    reasons = _batch_reasons(entry, serial) + key_reasons(key, entry.approved_at)
    reasons += _authorization_reasons(entry)
    outcome = UNAUTHORIZED if reasons else GENUINE
    extra = {BATCH_ID: str(entry.id)}
    return Finding(outcome, reasons, serial, typed=code is None, key=key, extra=extra)


def with_compromises(keys: PublicKeySet, status: StatusList) -> PublicKeySet:
    """``keys`` with the compromises the list declares; the earlier moment wins, as on import.

    The list may be newer than the key set the inspector holds.
    """
    merged = []
    for info in keys:
        declared = status.compromised.get(info.kid)
        if declared is not None and (info.compromised_at is None or declared < info.compromised_at):
            info = dataclasses.replace(info, status=KeyStatus.COMPROMISED, compromised_at=declared)
        merged.append(info)
    return PublicKeySet(merged)


def _without_state(code: Code | None, serial: int, keys: PublicKeySet) -> Finding:
    # As online with the database away: a bad signature is bad regardless, but the key set may
    # be older than the key that signed a new code, so an unknown key proves nothing.
    if code is not None:
        refused = signature_reasons(code, keys)
        if refused and refused != ("unknown_key",):
            return Finding(UNAUTHORIZED, refused, serial)
    return Finding(CANNOT_VERIFY, ("state_unavailable",), serial, typed=code is None)


def _key_of(
    code: Code | None, entry: BatchEntry | None, keys: PublicKeySet
) -> PublicKeyInfo | None:
    if code is not None:
        return keys.info(code.key_id)
    if entry is not None and entry.key_kid is not None:
        # A typed serial names no key; its batch does.
        return next((k for k in keys if k.kid == entry.key_kid), None)
    return None


def _batch_reasons(entry: BatchEntry, serial: int) -> tuple[str, ...]:
    voided = ("serial_voided",) if entry.is_voided(serial) else ()
    return _STATE_REASON[entry.state] + voided


def _authorization_reasons(entry: BatchEntry) -> tuple[str, ...]:
    if entry.authorization_at_issue is not Reason.AUTHORIZED:
        return (str(entry.authorization_at_issue),)
    now = entry.authorization_now
    return (str(now),) if now in _NOW_REASONS else ()
