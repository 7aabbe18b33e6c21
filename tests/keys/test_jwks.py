"""Reading and writing JWKS: entries a verifier cannot use are left out and reported."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gimark.keys.errors import JwksError
from gimark.keys.ids import key_id_for
from gimark.keys.jwks import MAX_KEYS, from_jwks, jwk_of, parse_jwk, read_jwks, to_jwks
from gimark.keys.keyring import PublicKeyInfo, PublicKeySet, Signer, b64url, kid_of, raw_public
from gimark.keys.models import KeyStatus
from gimark.labels.issuing.codes import decode_and_verify, sign_code

BASE = "HTTPS://GI.EXAMPLE.CN/V"
KEY = Ed25519PrivateKey.generate()


def jwk(private_key: Ed25519PrivateKey, **members: object) -> dict[str, Any]:
    """The entry an issuer publishes for ``private_key``, with ``members`` changed."""
    public = private_key.public_key()
    entry = {"kty": "OKP", "crv": "Ed25519", "x": b64url(raw_public(public)), "kid": kid_of(public)}
    entry.update(members)
    return entry


# Entries another publisher's key set may hold, and why a verifier leaves each out.
FOREIGN = [
    ({"kty": "RSA", "kid": "rsa-2024", "n": "0vx7", "e": "AQAB"}, "not_ed25519", "kty 'RSA'"),
    ({"kty": "EC", "crv": "P-256", "x": "f83O", "y": "x_FE"}, "not_ed25519", "crv 'P-256'"),
    ({"kty": "OKP", "crv": "X25519", "x": b64url(bytes(32))}, "not_ed25519", "'X25519'"),
    (jwk(KEY, x="A" * 20), "bad_x", "32 bytes"),
    (jwk(KEY, x=jwk(KEY)["x"] + "="), "bad_x", "unpadded"),  # padded: not the canonical x
    (jwk(KEY, kid="key-2024"), "kid_mismatch", "'key-2024' is not the key's"),
    (jwk(KEY, gimark_status="suspended"), "bad_status", "'suspended'"),
    (jwk(KEY, gimark_compromised_at="yesterday"), "bad_compromised_at", "'yesterday'"),
    (jwk(KEY, gimark_compromised_at="2026-05-01T00:00:00"), "bad_compromised_at", "time zone"),
    (["not", "an", "object"], "not_an_object", "not a JSON object"),
]


@pytest.mark.parametrize(("entry", "reason", "words"), FOREIGN)
def test_an_unusable_entry_is_skipped_with_its_reason(
    entry: object, reason: str, words: str
) -> None:
    good = Ed25519PrivateKey.generate()
    read = read_jwks({"keys": [entry, jwk(good)]})
    assert [k.kid for k in read.keys] == [kid_of(good.public_key())]
    assert read.positions == [1]
    (skipped,) = read.skipped
    assert (skipped.index, skipped.reason) == (0, reason)
    assert words in skipped.en and skipped.zh
    assert skipped.as_json()["reason"] == reason
    assert "keys[0]" in skipped.line() and "已跳过" in skipped.line()


def test_the_key_of_a_key_set_with_foreign_entries_verifies_its_codes() -> None:
    # What `gimark verify --jwks` does with a key set that also holds an RSA key.
    document = {"keys": [FOREIGN[0][0], jwk(KEY, use="sig", alg="EdDSA")]}
    keys = PublicKeySet(from_jwks(document))
    code = decode_and_verify(sign_code(Signer(KEY), 5).url(BASE), (BASE,), keys)
    assert code.serial == 5


def test_a_single_entry_that_cannot_be_used_is_an_error() -> None:
    with pytest.raises(JwksError, match="not an OKP/Ed25519 key"):
        parse_jwk(FOREIGN[0][0], "imported")
    assert parse_jwk(jwk(KEY), "imported").kid == kid_of(KEY.public_key())


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({}, '"keys" list'),
        ({"keys": {"kty": "OKP"}}, '"keys" list'),
        ([jwk(KEY)], '"keys" list'),
        ({"keys": [jwk(KEY)] * (MAX_KEYS + 1)}, "more than 1000 keys"),
        ({"keys": [jwk(KEY, d="A" * 43)]}, "private key"),
        # A leaked private key of any kind: the publisher is not to be trusted at all.
        ({"keys": [jwk(KEY), {"kty": "RSA", "n": "0vx7", "e": "AQAB", "d": "X5"}]}, "private key"),
    ],
)
def test_a_document_that_is_no_public_key_set_is_refused(document: object, message: str) -> None:
    with pytest.raises(JwksError, match=message):
        read_jwks(document)


def test_the_gimark_members_are_written_as_documented() -> None:
    public = KEY.public_key()
    since = dt.datetime(2026, 5, 1, 8, 30, tzinfo=dt.UTC)
    info = PublicKeyInfo(
        kid_of(public), key_id_for(public), public, "gimark", KeyStatus.COMPROMISED, since
    )
    written = jwk_of(info)
    assert written["gimark_key_id"] == key_id_for(public).hex().upper()  # upper case: a contract
    assert written["gimark_issuer"] == "gimark"
    assert written["gimark_status"] == "compromised"
    assert written["gimark_compromised_at"] == "2026-05-01T08:30:00+00:00"
    (read,) = from_jwks(json.loads(json.dumps(to_jwks([info]))), "elsewhere")
    assert read == info


def test_gimark_key_id_is_informative_only() -> None:
    # Readers compute the id from x (section 3.2): a wrong gimark_key_id changes nothing.
    (read,) = from_jwks({"keys": [jwk(KEY, gimark_key_id="00000000")]})
    assert read.key_id == key_id_for(KEY.public_key())
