"""The verifying key set: keys by their four-byte id, several of them when ids collide."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gimark.keys.errors import UnknownKeyError
from gimark.keys.keyring import PublicKeyInfo, PublicKeySet, Signer, kid_of
from gimark.keys.models import KeyStatus
from gimark.labels.issuing.codes import decode_and_verify, sign_code, verify
from gimark.labels.issuing.errors import BadSignatureError

BASE = "HTTPS://GI.EXAMPLE.CN/V"
OURS = Ed25519PrivateKey.generate()
THEIRS = Ed25519PrivateKey.generate()
SHARED_ID = Signer(OURS).key_id


class SignerUnder(Signer):
    """A real key whose codes carry ``key_id``: what a colliding key id looks like on a label.

    Finding two keys whose thumbprints share four bytes takes some 2**16 keys; naming the
    id outright gives the same codes without the search.
    """

    def __init__(self, private_key: Ed25519PrivateKey, key_id: bytes) -> None:
        super().__init__(private_key)
        self._key_id = key_id


def info(
    private_key: Ed25519PrivateKey,
    *,
    status: KeyStatus = KeyStatus.ACTIVE,
    compromised_at: dt.datetime | None = None,
) -> PublicKeyInfo:
    """The key as a key set holds it, filed under the shared id whatever its thumbprint."""
    public = private_key.public_key()
    return PublicKeyInfo(kid_of(public), SHARED_ID, public, "gimark", status, compromised_at)


def url(private_key: Ed25519PrivateKey, serial: int) -> str:
    return sign_code(SignerUnder(private_key, SHARED_ID), serial).url(BASE)


@pytest.mark.parametrize("order", ["ours first", "theirs first"])
def test_two_keys_under_one_id_both_verify_their_own_codes(order: str) -> None:
    held = [info(OURS), info(THEIRS)]
    keys = PublicKeySet(held if order == "ours first" else held[::-1])
    assert len(keys) == 2
    assert {k.kid for k in keys} == {kid_of(OURS.public_key()), kid_of(THEIRS.public_key())}
    for private_key in (OURS, THEIRS):
        code = decode_and_verify(url(private_key, 42), (BASE,), keys)
        verified_by = verify(code, keys)
        assert keys.info(SHARED_ID, verified_by).kid == kid_of(private_key.public_key())


def test_a_third_key_under_the_same_id_is_still_a_forgery() -> None:
    keys = PublicKeySet([info(OURS), info(THEIRS)])
    with pytest.raises(BadSignatureError, match="forged or altered"):
        decode_and_verify(url(Ed25519PrivateKey.generate(), 42), (BASE,), keys)


def test_every_key_under_an_id_is_listed() -> None:
    keys = PublicKeySet([info(OURS), info(THEIRS)])
    assert [k.kid for k in keys.infos(SHARED_ID)] == [
        kid_of(OURS.public_key()),
        kid_of(THEIRS.public_key()),
    ]
    assert len(keys.public_keys(SHARED_ID)) == 2
    assert keys.public_key(SHARED_ID) is keys.public_keys(SHARED_ID)[0]


def test_one_key_lends_its_state_to_no_other() -> None:
    since = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    keys = PublicKeySet(
        [info(OURS), info(THEIRS, status=KeyStatus.COMPROMISED, compromised_at=since)]
    )
    ours = verify(decode_and_verify(url(OURS, 7), (BASE,), keys), keys)
    theirs = verify(decode_and_verify(url(THEIRS, 7), (BASE,), keys), keys)
    assert keys.info(SHARED_ID, ours).status is KeyStatus.ACTIVE
    assert keys.info(SHARED_ID, theirs).status is KeyStatus.COMPROMISED


def test_without_the_verifying_key_the_most_cautious_state_is_given() -> None:
    early = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    late = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    third = Ed25519PrivateKey.generate()
    keys = PublicKeySet(
        [
            info(OURS),
            info(THEIRS, status=KeyStatus.COMPROMISED, compromised_at=late),
            info(third, status=KeyStatus.COMPROMISED, compromised_at=early),
        ]
    )
    assert keys.info(SHARED_ID).kid == kid_of(third.public_key())
    assert PublicKeySet([info(OURS), info(THEIRS)]).info(SHARED_ID).kid == kid_of(OURS.public_key())


def test_unknown_ids_and_keys_are_named() -> None:
    keys = PublicKeySet([info(OURS)])
    with pytest.raises(UnknownKeyError, match="00000000"):
        keys.public_keys(bytes(4))
    with pytest.raises(UnknownKeyError, match=SHARED_ID.hex()):
        keys.info(SHARED_ID, THEIRS.public_key())
