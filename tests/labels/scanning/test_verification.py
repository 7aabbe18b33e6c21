"""What a code's state says, on both databases: every unauthorized reason, and genuine."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

import pytest
from support.pgcluster import free_port

from gimark.core.db import Database, utcnow
from gimark.core.settings import Settings
from gimark.keys import services as keys
from gimark.labels.issuing import batches, ledger
from gimark.labels.issuing.codes import Code, encode_url, sign_code
from gimark.labels.issuing.models import BatchStatus
from gimark.labels.issuing.serials import format_serial
from gimark.labels.scanning.verification import (
    CANNOT_VERIFY,
    GENUINE,
    NOT_OURS,
    UNAUTHORIZED,
    Finding,
    Given,
    Verifier,
)
from gimark.trace import services as registry
from gimark.trace.models import Action

BASE = Settings().base_url
MakeBatch = Callable[..., int]


@pytest.fixture
def verifier(db: Database) -> Verifier:
    return Verifier(db, (BASE,))


def first_serial(db: Database, batch_id: int) -> int:
    with db.session() as s:
        first = batches.get_batch(s, batch_id).serial_first
    assert first is not None
    return first


def check(db: Database, verifier: Verifier, text: str) -> Finding:
    with db.session() as s:
        return verifier.check(s, text, utcnow())


def test_a_delivered_label_is_genuine(
    db: Database, verifier: Verifier, make_batch: MakeBatch, code_of: Callable[[int], str]
) -> None:
    serial = first_serial(db, make_batch(status=BatchStatus.DELIVERED))
    finding = check(db, verifier, code_of(serial))
    assert (finding.outcome, finding.reasons) == (GENUINE, ())
    assert finding.party is not None and finding.party.product.name_zh == "沅江芦笋"
    typed = check(db, verifier, format_serial(serial))
    assert (typed.outcome, typed.typed) == (GENUINE, True)


@pytest.mark.parametrize(
    ("status", "reason"),
    [(BatchStatus.APPROVED, "batch_not_active"), (BatchStatus.PRINTED, "batch_not_active")],
)
def test_labels_not_yet_delivered_are_unauthorized(
    db: Database,
    verifier: Verifier,
    make_batch: MakeBatch,
    code_of: Callable[[int], str],
    status: BatchStatus,
    reason: str,
) -> None:
    serial = first_serial(db, make_batch(status=status))
    assert check(db, verifier, code_of(serial)).reasons == (reason,)


def test_revoked_batch_and_voided_serial(
    db: Database, verifier: Verifier, make_batch: MakeBatch, code_of: Callable[[int], str]
) -> None:
    printed = make_batch(status=BatchStatus.PRINTED)
    serial = first_serial(db, printed)
    with db.session() as s:
        ledger.void_serials(s, printed, [(serial, serial)], reason="卡纸", actor="printer")
    with db.session() as s:
        ledger.deliver_batch(s, printed, actor="printer")
    assert check(db, verifier, code_of(serial)).reasons == ("serial_voided",)
    assert check(db, verifier, code_of(serial + 1)).outcome == GENUINE
    with db.session() as s:
        batches.revoke_batch(s, printed, reason="假冒投诉核实", actor="admin")
    assert check(db, verifier, code_of(serial + 1)).reasons == ("batch_revoked",)


def test_serial_never_issued(
    db: Database, verifier: Verifier, make_batch: MakeBatch, code_of: Callable[[int], str]
) -> None:
    batch_id = make_batch(quantity=10, status=BatchStatus.DELIVERED)
    beyond = first_serial(db, batch_id) + 10
    finding = check(db, verifier, code_of(beyond))
    assert (finding.outcome, finding.reasons) == (UNAUTHORIZED, ("serial_not_issued",))


def test_forged_and_altered_signatures(
    db: Database, verifier: Verifier, make_batch: MakeBatch, code_of: Callable[[int], str]
) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from gimark.keys.keyring import Signer

    serial = first_serial(db, make_batch(status=BatchStatus.DELIVERED))
    forged = encode_url(sign_code(Signer(Ed25519PrivateKey.generate()), serial), BASE)
    assert check(db, verifier, forged).reasons == ("unknown_key",)
    genuine = check(db, verifier, code_of(serial))
    assert genuine.outcome == GENUINE
    from gimark.labels.issuing.codes import parse

    code = parse(code_of(serial), (BASE,))
    altered = dataclasses.replace(code, signature=bytes(64))
    assert check(db, verifier, encode_url(altered, BASE)).reasons == ("bad_signature",)
    moved: Code = dataclasses.replace(code, serial=serial + 1)
    assert check(db, verifier, encode_url(moved, BASE)).reasons == ("bad_signature",)


def test_suspension_takes_effect_on_the_next_scan_and_reinstatement_too(
    db: Database, verifier: Verifier, make_batch: MakeBatch, code_of: Callable[[int], str]
) -> None:
    batch_id = make_batch(status=BatchStatus.DELIVERED)
    text = code_of(first_serial(db, batch_id))
    assert check(db, verifier, text).outcome == GENUINE  # warms the cache
    with db.session() as s:
        enterprise_id = batches.get_batch(s, batch_id).enterprise_id
        registry.change_enterprise_status(
            s, enterprise_id, Action.SUSPEND, reason="抽检不合格", actor="admin"
        )
    assert check(db, verifier, text).reasons == ("authorization_suspended",)
    with db.session() as s:
        registry.change_enterprise_status(
            s, enterprise_id, Action.REINSTATE, reason="整改完成", actor="admin"
        )
    assert check(db, verifier, text).outcome == GENUINE
    with db.session() as s:
        registry.change_enterprise_status(
            s, enterprise_id, Action.REVOKE, reason="一票否决", actor="admin"
        )
    assert check(db, verifier, text).reasons == ("authorization_revoked",)


def test_a_key_compromised_after_issue_leaves_earlier_labels_genuine(
    db: Database, verifier: Verifier, make_batch: MakeBatch, code_of: Callable[[int], str]
) -> None:
    batch_id = make_batch(status=BatchStatus.DELIVERED)
    serial = first_serial(db, batch_id)
    text, stray = code_of(serial), code_of(serial + 1000)
    with db.session() as s:
        (row,) = keys.list_keys(s)
        keys.compromise_key(s, row.kid, at=utcnow() + dt.timedelta(seconds=1))
    assert check(db, verifier, text).outcome == GENUINE
    with db.session() as s:
        keys.compromise_key(s, row.kid, at=utcnow() - dt.timedelta(days=30))
    assert check(db, verifier, text).reasons == ("key_compromised",)
    never_issued = check(db, verifier, stray)
    assert never_issued.reasons == ("serial_not_issued", "key_compromised")


@pytest.mark.parametrize(
    ("text", "outcome", "reason"),
    [
        ("https://example.com/product/123", NOT_OURS, "not_ours"),
        ("", NOT_OURS, "not_ours"),
        ("x" * 10_000, NOT_OURS, "not_ours"),
        (f"{BASE}/AE4HOGX7", UNAUTHORIZED, "malformed"),
        ("0000-0000-01Y", UNAUTHORIZED, "malformed"),
    ],
)
def test_things_that_are_not_codes(
    db: Database, verifier: Verifier, text: str, outcome: str, reason: str
) -> None:
    assert check(db, verifier, text).reasons == (reason,)
    assert check(db, verifier, text).outcome == outcome


def test_a_database_that_is_away_never_says_genuine(
    db: Database, make_batch: MakeBatch, code_of: Callable[[int], str]
) -> None:
    text = code_of(first_serial(db, make_batch(status=BatchStatus.DELIVERED)))
    gone = Database(f"postgresql://nobody@127.0.0.1:{free_port()}/gone", pool_pre_ping=False)
    verifier = Verifier(gone, (BASE,))
    with gone.sessions() as s:
        finding = verifier.check(s, text, utcnow())
    assert (finding.outcome, finding.reasons) == (CANNOT_VERIFY, ("state_unavailable",))
    gone.dispose()


def test_a_guess_from_the_caches_is_what_a_check_says(
    db: Database, verifier: Verifier, make_batch: MakeBatch, code_of: Callable[[int], str]
) -> None:
    serial = first_serial(db, make_batch(status=BatchStatus.DELIVERED))
    label, neighbour = verifier.read(code_of(serial)), verifier.read(code_of(serial + 1))
    assert isinstance(label, Given) and isinstance(neighbour, Given)
    assert verifier.guess(label, utcnow()) is None  # nothing cached yet
    checked = check(db, verifier, code_of(serial))  # caches the keys, the party, the batch
    guessed = verifier.guess(neighbour, utcnow())
    assert guessed is not None
    finding, state = guessed
    assert (finding.outcome, finding.party, finding.batch) == (
        GENUINE,
        checked.party,
        checked.batch,
    )
    assert (state.batch, state.voided) == (checked.batch, False)
    typed = verifier.read(format_serial(serial))
    assert isinstance(typed, Given) and verifier.guess(typed, utcnow()) is None  # signed only
