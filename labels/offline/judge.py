"""Judging a code without a network: the published keys and a signed status list, nothing else.

An inspector's answer must be the online service's answer for the same state, so both come
from one judge (:mod:`gimark.labels.scanning.judge`); this module only hands it the state: a
:class:`~gimark.labels.offline.statuslist.StatusList` already checked by
:func:`~gimark.labels.offline.statuslist.verify_status_list`, in place of the database. Scan
history is not available offline, so duplicates cannot be suspected here; "genuine" means
what the online state check means by it. A missing or stale list is the database being away:
``cannot_verify``, never "genuine".
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Final

from gimark.keys.keyring import PublicKeySet
from gimark.keys.models import KeyStatus
from gimark.labels.offline.statuslist import BatchEntry, BatchState, StatusList
from gimark.labels.scanning.judge import Finding, judge_code, read_given, without_state
from gimark.trace.authorizations import Reason

__all__ = ["BATCH_ID", "check_offline", "with_compromises"]

BATCH_ID: Final = "batch_id"  # Finding.extra: the list entry a finding rests on


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
    # 2. The state: without a list, only a bad signature can still be told.
    if status is None:
        return without_state(given, keys)
    # 3. and 4., as online. The list was verified with these keys, so a code naming a key
    # they lack was not signed by any key the issuer had at generated_at.
    return judge_code(given, _Listed(with_compromises(keys, status), status, given.serial), now)


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


@dataclass(frozen=True)
class _Listed:
    """A code's state offline (a :class:`~gimark.labels.scanning.judge.CodeState`): the key
    set with the list's compromises, and the list's entry for its serial."""

    merged_keys: PublicKeySet
    status: StatusList
    serial: int

    def keys(self) -> PublicKeySet:
        return self.merged_keys

    def batch(self) -> _Entry | None:
        entry = self.status.find(self.serial)
        return None if entry is None else _Entry(entry, self.serial)


@dataclass(frozen=True)
class _Entry:
    """A list entry (a :class:`~gimark.labels.scanning.judge.BatchFacts`) for one serial."""

    entry: BatchEntry
    serial: int

    @property
    def standing(self) -> BatchState:
        return self.entry.state

    @property
    def voided(self) -> bool:
        return self.entry.is_voided(self.serial)

    @property
    def key_kid(self) -> str | None:
        return self.entry.key_kid

    @property
    def approved_at(self) -> dt.datetime | None:
        return self.entry.approved_at

    @property
    def authorization_at_issue(self) -> Reason:
        return self.entry.authorization_at_issue

    @property
    def authorization_now(self) -> Reason:
        return self.entry.authorization_now  # as of the list's generated_at

    def shown(self, finding: Finding) -> Finding:
        return dataclasses.replace(finding, extra={BATCH_ID: str(self.entry.id)})
