"""One judge, two states: online (the database and the caches) and offline (a signed status
list) give the same verdict and reasons for the same situation; and the verdict's precedence.

Each situation is set up on a real database; its code (and its typed serial, where a typed
serial can show the same thing) is then judged by the online :class:`Verifier` and by
``check_offline`` from the exported key set and a status list built from that database, both
passed through JSON as an inspector receives them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import update

from gimark.core.db import Database, utcnow
from gimark.core.settings import Settings
from gimark.keys import services as keys
from gimark.keys.jwks import from_jwks
from gimark.keys.keyring import PublicKeySet, Signer
from gimark.labels.issuing import batches, ledger
from gimark.labels.issuing.codes import encode_url, parse, sign_code
from gimark.labels.issuing.models import Batch, BatchStatus
from gimark.labels.issuing.serials import format_serial
from gimark.labels.offline.judge import check_offline
from gimark.labels.offline.statuslist import (
    StatusList,
    build_status_list,
    sign_status_list,
    verify_status_list,
)
from gimark.labels.scanning.judge import (
    CANNOT_VERIFY,
    DUPLICATE,
    GENUINE,
    UNAUTHORIZED,
    Finding,
    verdict_of,
)
from gimark.labels.scanning.reasons import DUPLICATE_REASONS, REASONS, UNAUTHORIZED_REASONS
from gimark.labels.scanning.verification import Verifier
from gimark.trace import services as registry
from gimark.trace.authorizations import authorize, change_authorization_status
from gimark.trace.models import Action

BASE = Settings().base_url
ADMIN = "admin:test"
PRINTER = "printer:test"
Factory = Callable[..., Any]


@dataclass
class Labels:
    """A database to set situations up in, and the moment they are judged at."""

    db: Database
    settings: Settings
    make_batch: Callable[..., int]
    code_of: Callable[[int], str]
    make_enterprise: Factory
    product_id: int
    authorization_id: int
    printer_id: int
    signing_key: str
    judged_at: dt.datetime | None = None  # None: when judged

    def batch(self, status: BatchStatus = BatchStatus.DELIVERED, quantity: int = 20) -> int:
        return self.make_batch(quantity=quantity, status=status)

    def first(self, batch_id: int) -> int:
        with self.db.session() as s:
            first = batches.get_batch(s, batch_id).serial_first
        assert first is not None
        return first

    def both(self, serial: int) -> tuple[str, ...]:
        """The QR text of ``serial`` and its typed serial."""
        return self.code_of(serial), format_serial(serial)

    def approved_at(self, batch_id: int, when: dt.datetime) -> None:
        """Date a batch's issue (how a batch issued outside its authorization is made)."""
        with self.db.session() as s:
            s.execute(update(Batch).where(Batch.id == batch_id).values(approved_at=when))

    def enterprise_id(self, batch_id: int) -> int:
        with self.db.session() as s:
            return batches.get_batch(s, batch_id).enterprise_id

    def until(self, until: dt.datetime) -> int:
        """A delivered batch of another enterprise, authorized for the product until ``until``."""
        enterprise_id = self.make_enterprise(name="君山茶业有限公司").id
        with self.db.session() as s:
            authorize(
                s,
                enterprise_id=enterprise_id,
                product_id=self.product_id,
                valid_from=None,
                valid_until=until,
                actor=ADMIN,
            )
            batch = batches.request_batch(
                s,
                enterprise_id=enterprise_id,
                product_id=self.product_id,
                quantity=20,
                actor="enterprise:test",
                max_quantity=1000,
            )
            batches.approve_batch(s, batch.id, printer_id=self.printer_id, actor=ADMIN)
            batch_id = batch.id
        with self.db.session() as s:
            batches.mark_printed(s, batch_id, actor=PRINTER, detail={"files": []})
        with self.db.session() as s:
            ledger.deliver_batch(s, batch_id, actor=PRINTER)
        return batch_id

    def compromise(self, at: dt.datetime) -> None:
        """Declare the signing key compromised from ``at``; the issuer rotates first, to go on
        signing (status lists too)."""
        assert self.settings.key_passphrase is not None
        with self.db.session() as s:
            keys.rotate_key(s, self.settings, self.settings.key_passphrase)
            keys.compromise_key(s, self.signing_key, at=at)


@pytest.fixture
def labels(
    db: Database,
    settings: Settings,
    make_batch: Callable[..., int],
    code_of: Callable[[int], str],
    make_enterprise: Factory,
    authorized: Any,
    printer_id: int,
    signing_key: str,
) -> Labels:
    return Labels(
        db,
        settings,
        make_batch,
        code_of,
        make_enterprise,
        authorized.product_id,
        authorized.authorization_id,
        printer_id,
        signing_key,
    )


# --- the situations ----------------------------------------------------------------------------


def genuine(labels: Labels) -> tuple[str, ...]:
    return labels.both(labels.first(labels.batch()))


def approved_not_delivered(labels: Labels) -> tuple[str, ...]:
    return labels.both(labels.first(labels.batch(BatchStatus.APPROVED)))


def printed_not_delivered(labels: Labels) -> tuple[str, ...]:
    return labels.both(labels.first(labels.batch(BatchStatus.PRINTED)))


def batch_revoked(labels: Labels) -> tuple[str, ...]:
    batch_id = labels.batch()
    with labels.db.session() as s:
        batches.revoke_batch(s, batch_id, reason="假冒投诉核实", actor=ADMIN)
    return labels.both(labels.first(batch_id))


def serial_voided(labels: Labels) -> tuple[str, ...]:
    batch_id = labels.batch(BatchStatus.PRINTED)
    spoiled = labels.first(batch_id) + 3
    with labels.db.session() as s:
        ledger.void_serials(s, batch_id, [(spoiled, spoiled + 1)], reason="卡纸", actor=PRINTER)
    with labels.db.session() as s:
        ledger.deliver_batch(s, batch_id, actor=PRINTER)
    return labels.both(spoiled)


def beside_a_voided_serial(labels: Labels) -> tuple[str, ...]:
    batch_id = labels.batch(BatchStatus.PRINTED)
    first = labels.first(batch_id)
    with labels.db.session() as s:
        ledger.void_serials(s, batch_id, [(first + 3, first + 4)], reason="卡纸", actor=PRINTER)
    with labels.db.session() as s:
        ledger.deliver_batch(s, batch_id, actor=PRINTER)
    return labels.both(first + 5)


def never_issued(labels: Labels) -> tuple[str, ...]:
    return labels.both(labels.first(labels.batch(quantity=10)) + 10)


def unknown_key(labels: Labels) -> tuple[str, ...]:
    serial = labels.first(labels.batch())
    return (encode_url(sign_code(Signer(Ed25519PrivateKey.generate()), serial), BASE),)


def bad_signature(labels: Labels) -> tuple[str, ...]:
    serial = labels.first(labels.batch())
    code = parse(labels.code_of(serial), (BASE,))
    return (encode_url(dataclasses.replace(code, serial=serial + 1), BASE),)


def enterprise(action: Action) -> Callable[[Labels], tuple[str, ...]]:
    def situation(labels: Labels) -> tuple[str, ...]:
        batch_id = labels.batch()
        with labels.db.session() as s:
            registry.change_enterprise_status(
                s, labels.enterprise_id(batch_id), action, reason="抽检不合格", actor=ADMIN
            )
        return labels.both(labels.first(batch_id))

    return situation


def authorization_suspended(labels: Labels) -> tuple[str, ...]:
    batch_id = labels.batch()
    with labels.db.session() as s:
        change_authorization_status(
            s, labels.authorization_id, Action.SUSPEND, reason="抽检不合格", actor=ADMIN
        )
    return labels.both(labels.first(batch_id))


def issued_before_its_authorization(labels: Labels) -> tuple[str, ...]:
    batch_id = labels.batch()
    labels.approved_at(batch_id, utcnow() - dt.timedelta(days=30))
    return labels.both(labels.first(batch_id))


def issued_after_its_authorization_expired(labels: Labels) -> tuple[str, ...]:
    until = utcnow() + dt.timedelta(hours=1)
    batch_id = labels.until(until)
    labels.approved_at(batch_id, until + dt.timedelta(seconds=1))
    return labels.both(labels.first(batch_id))


def authorization_expired_after_issue(labels: Labels) -> tuple[str, ...]:
    until = utcnow() + dt.timedelta(hours=1)
    texts = labels.both(labels.first(labels.until(until)))
    labels.judged_at = until + dt.timedelta(days=1)  # still fresh: the list is made then too
    return texts


def key_compromised_before_issue(labels: Labels) -> tuple[str, ...]:
    texts = labels.both(labels.first(labels.batch()))
    labels.compromise(utcnow() - dt.timedelta(days=30))
    return texts


def key_compromised_after_issue(labels: Labels) -> tuple[str, ...]:
    texts = labels.both(labels.first(labels.batch()))
    labels.compromise(utcnow())
    return texts


def never_issued_by_a_compromised_key(labels: Labels) -> tuple[str, ...]:
    text = labels.code_of(labels.first(labels.batch()) + 1000)
    labels.compromise(utcnow() - dt.timedelta(days=30))
    return (text,)


class Situation(NamedTuple):
    make: Callable[[Labels], tuple[str, ...]]
    verdict: str
    reasons: tuple[str, ...]


SITUATIONS = {
    "genuine": Situation(genuine, GENUINE, ()),
    "approved, not delivered": Situation(
        approved_not_delivered, UNAUTHORIZED, ("batch_not_active",)
    ),
    "printed, not delivered": Situation(printed_not_delivered, UNAUTHORIZED, ("batch_not_active",)),
    "batch revoked": Situation(batch_revoked, UNAUTHORIZED, ("batch_revoked",)),
    "serial voided": Situation(serial_voided, UNAUTHORIZED, ("serial_voided",)),
    "beside a voided serial": Situation(beside_a_voided_serial, GENUINE, ()),
    "never issued": Situation(never_issued, UNAUTHORIZED, ("serial_not_issued",)),
    "unknown key": Situation(unknown_key, UNAUTHORIZED, ("unknown_key",)),
    "bad signature": Situation(bad_signature, UNAUTHORIZED, ("bad_signature",)),
    "enterprise suspended": Situation(
        enterprise(Action.SUSPEND), UNAUTHORIZED, ("authorization_suspended",)
    ),
    "enterprise revoked": Situation(
        enterprise(Action.REVOKE), UNAUTHORIZED, ("authorization_revoked",)
    ),
    "authorization suspended": Situation(
        authorization_suspended, UNAUTHORIZED, ("authorization_suspended",)
    ),
    "issued before its authorization": Situation(
        issued_before_its_authorization, UNAUTHORIZED, ("not_authorized",)
    ),
    "issued after its authorization expired": Situation(
        issued_after_its_authorization_expired, UNAUTHORIZED, ("authorization_expired",)
    ),
    "authorization expired after issue": Situation(authorization_expired_after_issue, GENUINE, ()),
    "key compromised before issue": Situation(
        key_compromised_before_issue, UNAUTHORIZED, ("key_compromised",)
    ),
    "key compromised after issue": Situation(key_compromised_after_issue, GENUINE, ()),
    "never issued, by a compromised key": Situation(
        never_issued_by_a_compromised_key, UNAUTHORIZED, ("serial_not_issued", "key_compromised")
    ),
}


# --- judging them both ways --------------------------------------------------------------------


def published_keys(db: Database) -> PublicKeySet:
    with db.session() as s:
        return PublicKeySet(from_jwks(json.loads(json.dumps(keys.export_jwks(s)))))


def status_list(db: Database, settings: Settings, now: dt.datetime) -> StatusList:
    """A list built and signed at ``now``, read back as an inspector reads a downloaded file."""
    assert settings.key_passphrase is not None
    with db.session() as s:
        signer = keys.load_signer(s, settings, settings.key_passphrase)
        payload = build_status_list(s, now, bases=settings.bases)
    document = json.loads(json.dumps(sign_status_list(payload, signer)))
    return verify_status_list(document, published_keys(db), now)


def answer(finding: Finding) -> tuple[str, tuple[str, ...], int | None, bool]:
    return finding.outcome, finding.reasons, finding.serial, finding.typed


@pytest.mark.parametrize("name", SITUATIONS)
def test_online_and_offline_judge_alike(db: Database, labels: Labels, name: str) -> None:
    situation = SITUATIONS[name]
    texts = situation.make(labels)
    now = labels.judged_at or utcnow()
    listed, published = status_list(db, labels.settings, now), published_keys(db)
    for text in texts:
        with db.session() as s:
            online = Verifier(db, (BASE,)).check(s, text, now)
        offline = check_offline(text, (BASE,), published, listed, now)
        assert answer(online) == answer(offline), text
        assert (online.outcome, online.reasons) == (situation.verdict, situation.reasons), text


def test_with_no_state_to_read_both_answer_alike(db: Database, labels: Labels) -> None:
    texts = [*genuine(labels), *unknown_key(labels), *bad_signature(labels)]
    verifier, published, now = Verifier(db, (BASE,)), published_keys(db), utcnow()
    with db.session() as s:
        verifier.check(s, texts[0], now)  # the keys it knows from before the database went away
    answers = []
    for text in texts:
        online = verifier.judge_without_state(text)
        assert answer(online) == answer(check_offline(text, (BASE,), published, None, now))
        answers.append((online.outcome, online.reasons, online.typed))
    # A bad signature is bad regardless; an unknown key may be newer than the keys held.
    assert answers == [
        (CANNOT_VERIFY, ("state_unavailable",), False),
        (CANNOT_VERIFY, ("state_unavailable",), True),
        (CANNOT_VERIFY, ("state_unavailable",), False),
        (UNAUTHORIZED, ("bad_signature",), False),
    ]


# --- the verdict --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("unauthorized", "duplicate", "cannot_verify", "verdict"),
    [
        ((), (), False, GENUINE),
        ((), ("many_scanners",), False, DUPLICATE),
        (("batch_not_active",), ("many_scanners",), False, UNAUTHORIZED),  # stolen labels
        (("authorization_revoked",), (), False, UNAUTHORIZED),
        (("bad_signature",), (), True, UNAUTHORIZED),  # needs no database
        ((), (), True, CANNOT_VERIFY),  # never a false "genuine"
        ((), ("impossible_travel",), True, CANNOT_VERIFY),
    ],
)
def test_verdict_precedence(
    unauthorized: tuple[str, ...], duplicate: tuple[str, ...], cannot_verify: bool, verdict: str
) -> None:
    assert verdict_of(unauthorized, duplicate, cannot_verify) == verdict


def test_unknown_reason_codes_are_a_programming_error() -> None:
    with pytest.raises(ValueError, match="not_a_reason"):
        verdict_of(["not_a_reason"], [], False)


def test_every_reason_code_has_its_words_in_the_one_table() -> None:
    given = UNAUTHORIZED_REASONS | set(DUPLICATE_REASONS) | {"not_ours", "state_unavailable"}
    assert set(REASONS) == given
    for words in REASONS.values():
        assert words.zh and words.en and "{" not in words.zh + words.en
