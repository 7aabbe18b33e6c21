"""The signed status list: what it holds, its signature, and every way a list is refused."""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from gimark.core.db import Database, utcnow
from gimark.core.settings import Settings
from gimark.keys import services as keys
from gimark.keys.jwks import from_jwks, to_jwks
from gimark.keys.keyring import PublicKeyInfo, PublicKeySet, Signer, b64url, b64url_decode
from gimark.keys.models import KeyStatus
from gimark.labels.issuing import batches, ledger
from gimark.labels.issuing.models import BatchStatus
from gimark.labels.offline.errors import (
    StaleStatusListError,
    StatusListFormatError,
    StatusListFromFutureError,
    StatusListKeyNotTrustedError,
    StatusListSignatureError,
    StatusListUnknownKeyError,
)
from gimark.labels.offline.statuslist import (
    DEFAULT_MAX_AGE,
    BatchState,
    build_status_list,
    canonical_json,
    read_status_list,
    sign_status_list,
    verify_status_list,
)

MakeBatch = Callable[..., int]


def signer_of(db: Database, settings: Settings) -> Signer:
    assert settings.key_passphrase is not None
    with db.session() as s:
        return keys.load_signer(s, settings, settings.key_passphrase)


def published_keys(db: Database) -> PublicKeySet:
    """The key set as an inspector holds it: the JWKS, through JSON."""
    with db.session() as s:
        document = json.loads(json.dumps(keys.export_jwks(s)))
    return PublicKeySet(from_jwks(document))


def signed_list(db: Database, settings: Settings, now: dt.datetime | None = None) -> Any:
    """A signed list as a downloaded file gives it back."""
    with db.session() as s:
        payload = build_status_list(s, now or utcnow(), bases=settings.bases)
    return json.loads(json.dumps(sign_status_list(payload, signer_of(db, settings))))


def first_serial(db: Database, batch_id: int) -> int:
    with db.session() as s:
        first = batches.get_batch(s, batch_id).serial_first
    assert first is not None
    return first


def test_each_issued_batch_is_one_entry_with_its_state(
    db: Database, make_batch: MakeBatch, request_batch: Callable[..., int]
) -> None:
    live = make_batch(quantity=5_000_000, status=BatchStatus.DELIVERED)
    pending = make_batch(status=BatchStatus.APPROVED)
    spoiled = make_batch(status=BatchStatus.PRINTED)
    first = first_serial(db, spoiled)
    with db.session() as s:
        ledger.void_serials(s, spoiled, [(first + 3, first + 5)], reason="卡纸", actor="p")
        batches.revoke_batch(s, pending, reason="申请有误", actor="admin")
    request_batch(10)  # no serials yet: not listed
    with db.session() as s:
        payload = build_status_list(s, utcnow())
    entries = {entry["id"]: entry for entry in payload["batches"]}
    assert set(entries) == {live, pending, spoiled}
    assert entries[live]["last"] - entries[live]["first"] == 4_999_999
    assert len(json.dumps(entries[live])) < 500  # five million labels, one short entry
    assert entries[live]["state"] == BatchState.ACTIVE
    assert entries[pending]["state"] == BatchState.REVOKED
    assert entries[spoiled]["state"] == BatchState.NOT_ACTIVE
    assert entries[spoiled]["voided"] == [[first + 3, first + 5]]
    entry = entries[live]
    assert (entry["authorization_at_issue"], entry["authorization_now"]) == ("authorized",) * 2
    assert payload["enterprises"][str(entry["enterprise"])]["name"] == "沅江市芦笋合作社"
    assert payload["products"][str(entry["product"])]["name_en"] == "Yuanjiang Asparagus"
    assert payload["compromised_keys"] == []


def test_compromised_keys_come_from_the_published_key_set(
    db: Database, make_batch: MakeBatch, signing_key: str
) -> None:
    make_batch(status=BatchStatus.DELIVERED)
    at = utcnow() - dt.timedelta(days=3)
    with db.session() as s:
        keys.compromise_key(s, signing_key, at=at)
        payload = build_status_list(s, utcnow())
    assert payload["compromised_keys"] == [{"kid": signing_key, "compromised_at": at.isoformat()}]


def test_a_signed_list_reads_back_against_the_published_keys(
    db: Database, settings: Settings, make_batch: MakeBatch, signing_key: str
) -> None:
    batch_id = make_batch(quantity=50, status=BatchStatus.DELIVERED)
    first = first_serial(db, batch_id)
    status = verify_status_list(signed_list(db, settings), published_keys(db), utcnow())
    assert (status.kid, status.issuer, status.bases) == (signing_key, "gimark", settings.bases)
    entry = status.find(first + 49)
    assert entry is not None and entry.id == batch_id and entry.state is BatchState.ACTIVE
    assert status.find(first + 50) is None and status.find(first - 1) is None
    assert entry.enterprise.name == "沅江市芦笋合作社" and entry.product.name_zh == "沅江芦笋"


def test_the_signature_is_a_detached_rfc_7515_jws_over_canonical_json(
    db: Database, settings: Settings, make_batch: MakeBatch
) -> None:
    """Checked by hand, as an independent verifier following docs/status-list.md would."""
    make_batch(status=BatchStatus.DELIVERED)
    document = signed_list(db, settings)
    protected, payload_part, signature = document["signature"].split(".")
    assert payload_part == ""
    header = json.loads(b64url_decode(protected))
    assert header == {"alg": "EdDSA", "kid": header["kid"], "typ": "gimark-status-list+json"}
    (jwk,) = [k for k in keys_json(db)["keys"] if k["kid"] == header["kid"]]
    public_key = Ed25519PublicKey.from_public_bytes(b64url_decode(jwk["x"]))
    body = json.dumps(
        document["payload"], ensure_ascii=False, sort_keys=True, separators=(",", ":")
    ).encode("utf-8")
    public_key.verify(b64url_decode(signature), f"{protected}.{b64url(body)}".encode())


def keys_json(db: Database) -> Any:
    with db.session() as s:
        return keys.export_jwks(s)


def _set_state(payload: dict[str, Any], state: str) -> None:
    payload["batches"][0]["state"] = state


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda p: _set_state(p, "active"), id="revoked-made-active"),
        pytest.param(lambda p: p["batches"][0].update(voided=[]), id="voids-dropped"),
        pytest.param(lambda p: p.update(generated_at=utcnow().isoformat()), id="redated"),
        pytest.param(lambda p: p["batches"].pop(), id="batch-dropped"),
        pytest.param(
            lambda p: next(iter(p["enterprises"].values())).update(name="假冒企业"),
            id="enterprise-renamed",
        ),
    ],
)
def test_a_tampered_list_is_refused(
    db: Database,
    settings: Settings,
    make_batch: MakeBatch,
    tamper: Callable[[dict[str, Any]], object],
) -> None:
    batch_id = make_batch(status=BatchStatus.PRINTED)
    first = first_serial(db, batch_id)
    with db.session() as s:
        ledger.void_serials(s, batch_id, [(first, first)], reason="卡纸", actor="p")
        batches.revoke_batch(s, batch_id, reason="假冒投诉核实", actor="admin")
    document = signed_list(db, settings)
    tampered = copy.deepcopy(document)
    tamper(tampered["payload"])
    assert tampered != document
    with pytest.raises(StatusListSignatureError, match="altered after signing"):
        verify_status_list(tampered, published_keys(db), utcnow())


def test_a_list_signed_by_an_unknown_key_is_refused(
    db: Database, settings: Settings, make_batch: MakeBatch
) -> None:
    make_batch(status=BatchStatus.DELIVERED)
    with db.session() as s:
        payload = build_status_list(s, utcnow())
    stranger = Signer(Ed25519PrivateKey.generate())
    forged = sign_status_list(payload, stranger)
    with pytest.raises(StatusListUnknownKeyError, match=stranger.kid):
        verify_status_list(forged, published_keys(db), utcnow())


def test_a_list_signed_by_another_key_under_our_kid_is_refused(
    db: Database, settings: Settings, make_batch: MakeBatch, signing_key: str
) -> None:
    make_batch(status=BatchStatus.DELIVERED)
    with db.session() as s:
        payload = build_status_list(s, utcnow())
    forged = sign_status_list(payload, _Impostor(signing_key))
    with pytest.raises(StatusListSignatureError):
        verify_status_list(forged, published_keys(db), utcnow())


class _Impostor:
    """Claims a known kid and signs with a key of its own."""

    def __init__(self, kid: str) -> None:
        self.kid = kid
        self._key = Ed25519PrivateKey.generate()

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)


def test_a_list_signed_by_a_compromised_key_is_refused(
    db: Database, settings: Settings, make_batch: MakeBatch, signing_key: str
) -> None:
    make_batch(status=BatchStatus.DELIVERED)
    document = signed_list(db, settings)
    with db.session() as s:
        keys.compromise_key(s, signing_key)
    with pytest.raises(StatusListKeyNotTrustedError, match="compromised"):
        verify_status_list(document, published_keys(db), utcnow())


def test_a_list_signed_by_another_issuers_key_is_refused(
    db: Database, settings: Settings, make_batch: MakeBatch
) -> None:
    make_batch(status=BatchStatus.DELIVERED)
    private = Ed25519PrivateKey.generate()
    province = Signer(private)
    foreign = PublicKeyInfo(
        province.kid, province.key_id, private.public_key(), "province", KeyStatus.ACTIVE
    )
    with db.session() as s:
        (mine,) = keys.list_keys(s)
        theirs = [keys.info_of(mine), *from_jwks(to_jwks([foreign]))]
        payload = build_status_list(s, utcnow())
    with pytest.raises(StatusListKeyNotTrustedError, match="province"):
        verify_status_list(sign_status_list(payload, province), PublicKeySet(theirs), utcnow())


def test_a_stale_list_is_refused_and_so_is_one_from_the_future(
    db: Database, settings: Settings, make_batch: MakeBatch
) -> None:
    make_batch(status=BatchStatus.DELIVERED)
    generated = utcnow()
    document, published = signed_list(db, settings, generated), published_keys(db)
    later = generated + DEFAULT_MAX_AGE + dt.timedelta(minutes=1)
    with pytest.raises(StaleStatusListError, match=r"168\.0 hours allowed"):
        verify_status_list(document, published, later)
    assert verify_status_list(document, published, later, max_age=dt.timedelta(days=30))
    with pytest.raises(StatusListFromFutureError, match="clock"):
        verify_status_list(document, published, generated - dt.timedelta(hours=1))
    # A few minutes of clock skew is not worth refusing an inspector's answer for.
    assert verify_status_list(document, published, generated - dt.timedelta(minutes=2))


@pytest.mark.parametrize(
    ("document", "match"),
    [
        ([], "payload"),
        ({"payload": {}}, "payload"),
        ({"payload": {}, "signature": "abc"}, "detached"),
        ({"payload": {}, "signature": "a.b.c"}, "detached"),
        ({"payload": {}, "signature": "e30..AAAA"}, "EdDSA"),
        ({"payload": {}, "signature": "!!!..AAAA"}, "header"),
    ],
)
def test_documents_that_are_not_signed_lists(
    db: Database, signing_key: str, document: object, match: str
) -> None:
    with pytest.raises(StatusListFormatError, match=match):
        verify_status_list(document, published_keys(db), utcnow())


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda p: p.update(version=2), "version 1"),
        (lambda p: p["batches"].append(dict(p["batches"][0])), "overlaps"),
        (lambda p: p["batches"][0].update(state="lost"), "unknown value"),
        (lambda p: p["batches"][0].update(first=True), "'first'"),
        (lambda p: p["batches"][0].update(voided=[[1, 2, 3]]), "voided range"),
        (lambda p: p.update(generated_at="2025-01-01T00:00:00"), "time zone"),
    ],
)
def test_a_signed_but_malformed_list_is_refused(
    db: Database,
    settings: Settings,
    make_batch: MakeBatch,
    change: Callable[[dict[str, Any]], object],
    match: str,
) -> None:
    """Signed by our own key and still refused: a list that reads loosely reads two ways."""
    make_batch(status=BatchStatus.DELIVERED)
    with db.session() as s:
        payload = build_status_list(s, utcnow())
    change(payload)
    document = json.loads(json.dumps(sign_status_list(payload, signer_of(db, settings))))
    with pytest.raises(StatusListFormatError, match=match):
        verify_status_list(document, published_keys(db), utcnow())


def test_canonical_json_sorts_keys_and_keeps_chinese_as_utf8() -> None:
    assert canonical_json({"b": 1, "a": ["沅江", None, True]}) == (
        '{"a":["沅江",null,true],"b":1}'.encode()
    )


def test_the_example_in_the_docs_verifies() -> None:
    """docs/status-list.md is a contract: its example must check out with its key."""
    text = (Path(__file__).parents[3] / "docs" / "status-list.md").read_text(encoding="utf-8")
    example, jwk = (json.loads(block) for block in re.findall(r"```json\n(.*?)\n```", text, re.S))
    status = read_status_list(example, PublicKeySet(from_jwks({"keys": [jwk]})))
    assert [(b.first, b.last, b.state) for b in status.batches] == [
        (1, 5000, BatchState.ACTIVE),
        (5001, 5200, BatchState.NOT_ACTIVE),
    ]
    assert status.find(19) is not None and status.batches[0].is_voided(19)
