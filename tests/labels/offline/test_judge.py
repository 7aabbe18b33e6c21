"""Offline verification gives the online answer for the same state, and never a stale "genuine".

The agreement test builds one world holding every reason a state check can give, then judges
each code twice: with the online :class:`Verifier` against the database, and offline from the
exported JWKS and a signed status list, both passed through JSON as an inspector receives them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import update

from gimark.core.db import Database, utcnow
from gimark.core.settings import Settings
from gimark.keys import services as keys
from gimark.keys.jwks import from_jwks
from gimark.keys.keyring import PublicKeyInfo, PublicKeySet, Signer, kid_of
from gimark.keys.models import KeyStatus
from gimark.labels.issuing import batches, ledger
from gimark.labels.issuing.codes import encode_url, parse, sign_code
from gimark.labels.issuing.models import Batch, BatchStatus
from gimark.labels.issuing.serials import format_serial
from gimark.labels.offline.judge import BATCH_ID, check_offline
from gimark.labels.offline.payload import (
    BatchEntry,
    BatchState,
    EnterpriseInfo,
    ProductInfo,
)
from gimark.labels.offline.statuslist import (
    StatusList,
    build_status_list,
    sign_status_list,
    verify_status_list,
)
from gimark.labels.scanning.verification import (
    CANNOT_VERIFY,
    GENUINE,
    UNAUTHORIZED,
    Finding,
    Verifier,
)
from gimark.trace import services as registry
from gimark.trace.authorizations import Reason, authorize
from gimark.trace.models import Action

BASE = Settings().base_url
ADMIN = "admin:test"
MakeBatch = Callable[..., int]
Factory = Callable[..., Any]

EVERY_STATE_REASON = {
    "malformed",
    "not_ours",
    "bad_signature",
    "unknown_key",
    "key_compromised",
    "serial_not_issued",
    "batch_not_active",
    "batch_revoked",
    "serial_voided",
    "authorization_suspended",
    "authorization_revoked",
    "authorization_expired",
    "not_authorized",
}


@dataclass(frozen=True)
class Party:
    """An enterprise authorized for a product."""

    enterprise_id: int
    product_id: int


@dataclass
class World:
    """Codes (QR texts and typed serials) whose state gives every reason."""

    texts: dict[str, str]  # what it shows → text

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.texts.items())


def serials_of(db: Database, batch_id: int) -> tuple[int, int]:
    with db.session() as s:
        batch = batches.get_batch(s, batch_id)
    assert batch.serial_first is not None and batch.serial_last is not None
    return batch.serial_first, batch.serial_last


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


@pytest.fixture
def other_party(db: Database, make_enterprise: Factory, authorized: Any) -> Callable[..., Party]:
    """Another enterprise authorized for the same product (``until``: an end of validity)."""

    def make(until: dt.datetime | None = None) -> Party:
        enterprise_id = make_enterprise(name="君山茶业有限公司").id
        with db.session() as s:
            authorize(
                s,
                enterprise_id=enterprise_id,
                product_id=authorized.product_id,
                valid_from=None,
                valid_until=until,
                actor=ADMIN,
            )
        return Party(enterprise_id, authorized.product_id)

    return make


def batch_of(db: Database, party: Party, printer_id: int) -> int:
    """A delivered batch of ``party``."""
    with db.session() as s:
        batch = batches.request_batch(
            s,
            enterprise_id=party.enterprise_id,
            product_id=party.product_id,
            quantity=20,
            actor="enterprise:test",
            max_quantity=1000,
        )
        batches.approve_batch(s, batch.id, printer_id=printer_id, actor=ADMIN)
        batch_id = batch.id
    with db.session() as s:
        batches.mark_printed(s, batch_id, actor="printer", detail={"files": []})
    with db.session() as s:
        ledger.deliver_batch(s, batch_id, actor="printer")
    return batch_id


def set_approved_at(db: Database, batch_id: int, when: dt.datetime) -> None:
    """Date a batch's issue: how a batch issued outside its authorization is made."""
    with db.session() as s:
        s.execute(update(Batch).where(Batch.id == batch_id).values(approved_at=when))


@pytest.fixture
def world(
    db: Database,
    make_batch: MakeBatch,
    other_party: Callable[..., Party],
    printer_id: int,
    code_of: Callable[[int], str],
    signing_key: str,
    settings: Settings,
) -> World:
    texts: dict[str, str] = {}

    def both(name: str, serial: int) -> None:
        texts[name] = code_of(serial)
        texts[f"{name} (typed)"] = format_serial(serial)

    live, live_last = serials_of(db, make_batch(status=BatchStatus.DELIVERED))
    both("genuine", live)
    both("approved, not delivered", serials_of(db, make_batch(status=BatchStatus.APPROVED))[0])
    both("printed, not delivered", serials_of(db, make_batch(status=BatchStatus.PRINTED))[0])
    spoiled = make_batch(status=BatchStatus.PRINTED)
    first, _ = serials_of(db, spoiled)
    with db.session() as s:
        ledger.void_serials(s, spoiled, [(first + 2, first + 4)], reason="卡纸", actor="printer")
    with db.session() as s:
        ledger.deliver_batch(s, spoiled, actor="printer")
    both("voided", first + 3)
    both("beside the voided", first + 5)
    revoked = make_batch(status=BatchStatus.DELIVERED)
    with db.session() as s:
        batches.revoke_batch(s, revoked, reason="假冒投诉核实", actor=ADMIN)
    both("batch revoked", serials_of(db, revoked)[0])
    both("never issued", live_last + 10_000)
    texts["forged"] = encode_url(sign_code(Signer(Ed25519PrivateKey.generate()), live), BASE)
    code = parse(code_of(live), (BASE,))
    texts["altered"] = encode_url(dataclasses.replace(code, serial=live + 1), BASE)
    # Enterprises whose standing changed after issue, and batches issued outside authorization.
    for action, name in ((Action.SUSPEND, "suspended"), (Action.REVOKE, "enterprise revoked")):
        party = other_party()
        both(name, serials_of(db, batch_of(db, party, printer_id))[0])
        with db.session() as s:
            registry.change_enterprise_status(
                s, party.enterprise_id, action, reason="抽检不合格", actor=ADMIN
            )
    early = other_party()
    before = batch_of(db, early, printer_id)
    set_approved_at(db, before, utcnow() - dt.timedelta(days=30))
    both("issued before its authorization", serials_of(db, before)[0])
    until = utcnow() + dt.timedelta(hours=1)
    after = batch_of(db, other_party(until=until), printer_id)
    set_approved_at(db, after, until + dt.timedelta(seconds=1))
    both("issued after its authorization ended", serials_of(db, after)[0])
    # The key counts as compromised from a day on: batches bound to it later are unauthorized,
    # earlier ones stay good. The issuer rotates first, to go on signing (status lists too).
    late = make_batch(status=BatchStatus.DELIVERED)
    compromised_at = utcnow() + dt.timedelta(days=1)
    set_approved_at(db, late, compromised_at)
    both("signed after the key was compromised", serials_of(db, late)[0])
    assert settings.key_passphrase is not None
    with db.session() as s:
        keys.rotate_key(s, settings, settings.key_passphrase)
        keys.compromise_key(s, signing_key, at=compromised_at)
    texts |= {
        "not ours": "https://example.com/product/123",
        "empty": "",
        "damaged": f"{BASE}/AE4HOGX7",
        "mistyped": "0000-0000-01Y",
    }
    return World(texts)


def test_offline_and_online_give_the_same_answer_for_every_reason(
    db: Database, settings: Settings, world: World
) -> None:
    now = utcnow()
    offline_list, published = status_list(db, settings, now), published_keys(db)
    verifier = Verifier(db, (BASE,))
    answers = {}
    for name, text in world:
        with db.session() as s:
            online = verifier.check(s, text, now)
        offline = check_offline(text, (BASE,), published, offline_list, now)
        assert answer(offline) == answer(online), name
        answers[name] = answer(offline)
    assert {reason for _, reasons, _, _ in answers.values() for reason in reasons} == (
        EVERY_STATE_REASON
    )
    assert answers["genuine"][:2] == answers["genuine (typed)"][:2] == (GENUINE, ())
    assert answers["beside the voided"][0] == GENUINE


def answer(finding: Finding) -> tuple[str, tuple[str, ...], int | None, bool]:
    return finding.outcome, finding.reasons, finding.serial, finding.typed


def test_a_genuine_code_names_its_batch_and_key(
    db: Database, settings: Settings, make_batch: MakeBatch, code_of: Callable[[int], str]
) -> None:
    batch_id = make_batch(status=BatchStatus.DELIVERED)
    serial, _ = serials_of(db, batch_id)
    now = utcnow()
    finding = check_offline(
        code_of(serial), (BASE,), published_keys(db), status_list(db, settings, now), now
    )
    assert (finding.outcome, finding.extra[BATCH_ID]) == (GENUINE, str(batch_id))
    assert finding.key is not None and finding.batch is None and finding.party is None


def test_without_a_usable_list_nothing_is_called_genuine(
    db: Database, make_batch: MakeBatch, code_of: Callable[[int], str]
) -> None:
    serial, _ = serials_of(db, make_batch(status=BatchStatus.DELIVERED))
    published, now = published_keys(db), utcnow()
    for text in (code_of(serial), format_serial(serial)):
        finding = check_offline(text, (BASE,), published, None, now)
        assert (finding.outcome, finding.reasons) == (CANNOT_VERIFY, ("state_unavailable",))
    # A bad signature is bad whatever the state; a key missing from an old key set is not.
    altered = dataclasses.replace(parse(code_of(serial), (BASE,)), serial=serial + 1)
    assert check_offline(encode_url(altered, BASE), (BASE,), published, None, now).reasons == (
        "bad_signature",
    )
    stranger = encode_url(sign_code(Signer(Ed25519PrivateKey.generate()), serial), BASE)
    assert check_offline(stranger, (BASE,), published, None, now).outcome == CANNOT_VERIFY


def test_a_list_newer_than_the_key_set_brings_its_compromises(
    db: Database,
    settings: Settings,
    make_batch: MakeBatch,
    code_of: Callable[[int], str],
    signing_key: str,
) -> None:
    serial, _ = serials_of(db, make_batch(status=BatchStatus.DELIVERED))
    text, old_keys = code_of(serial), published_keys(db)
    # The issuer rotates (the list must be signed by a key that is not compromised) and
    # declares the old key compromised; the inspector still holds last week's key set.
    assert settings.key_passphrase is not None
    with db.session() as s:
        keys.rotate_key(s, settings, settings.key_passphrase)
        keys.compromise_key(s, signing_key, at=utcnow() - dt.timedelta(days=1))
    now = utcnow()
    fresh = status_list(db, settings, now)
    new_key = fresh.kid
    held = PublicKeySet([*old_keys, *(k for k in published_keys(db) if k.kid == new_key)])
    finding = check_offline(text, (BASE,), held, fresh, now)
    assert (finding.outcome, finding.reasons) == (UNAUTHORIZED, ("key_compromised",))


# --- two keys under one 4-byte id --------------------------------------------------------


class _SignerUnder(Signer):
    """A real key whose codes carry ``key_id`` (a colliding id, named instead of searched
    for among some 2**16 keys)."""

    def __init__(self, private_key: Ed25519PrivateKey, key_id: bytes) -> None:
        super().__init__(private_key)
        self._key_id = key_id


def _listed_batch(kid: str, approved_at: dt.datetime) -> StatusList:
    entry = BatchEntry(
        id=1,
        first=1,
        last=100,
        state=BatchState.ACTIVE,
        voided=(),
        key_kid=kid,
        approved_at=approved_at,
        enterprise=EnterpriseInfo("沅江市芦笋合作社", "93430981MA4Q2RKX18"),
        product=ProductInfo("沅江芦笋", "Yuanjiang Asparagus", "protected-product", "430981", None),
        authorization_at_issue=Reason.AUTHORIZED,
        authorization_now=Reason.AUTHORIZED,
    )
    return StatusList("gimark", approved_at, kid, (BASE,), {}, (entry,))


def test_a_key_sharing_its_id_with_a_compromised_one_lends_it_no_state() -> None:
    ours, theirs = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    shared = Signer(ours).key_id
    issued = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    compromised = PublicKeyInfo(
        kid_of(theirs.public_key()),
        shared,
        theirs.public_key(),
        "gimark",
        KeyStatus.COMPROMISED,
        issued - dt.timedelta(days=30),  # before the batch: its codes would be refused
    )
    active = PublicKeyInfo(
        kid_of(ours.public_key()), shared, ours.public_key(), "gimark", KeyStatus.ACTIVE
    )
    keys = PublicKeySet([compromised, active])  # the compromised one first: the cautious pick
    status = _listed_batch(kid_of(ours.public_key()), issued)
    now = issued + dt.timedelta(days=1)

    genuine = sign_code(Signer(ours), 7).url(BASE)
    forged_by_theirs = sign_code(_SignerUnder(theirs, shared), 7).url(BASE)

    assert check_offline(genuine, (BASE,), keys, status, now).reasons == ()
    assert check_offline(forged_by_theirs, (BASE,), keys, status, now).reasons == (
        "key_compromised",
    )
