"""Issuer keys: encrypted at rest, lifecycle, JWKS export and import — on both databases."""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gimark.core.db import Database
from gimark.core.settings import Settings
from gimark.keys import services
from gimark.keys.errors import (
    ActiveKeyExistsError,
    JwksError,
    KeyNotUsableError,
    NoActiveKeyError,
    UnknownKeyError,
    WrongPassphraseError,
)
from gimark.keys.ids import key_id_for
from gimark.keys.keyring import b64url, kid_of, raw_public, read_private_key
from gimark.keys.models import KeyStatus, SigningKey

PASSPHRASE = "correct horse battery staple"


def test_a_new_key_is_encrypted_owner_only_and_not_in_the_database(
    db: Database, settings: Settings
) -> None:
    with db.session() as s:
        row = services.create_key(s, settings, PASSPHRASE)
    path = settings.keys_dir / f"{row.key_id}.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert b"ENCRYPTED PRIVATE KEY" in path.read_bytes()
    assert row.kid and len(row.key_id) == 8 and row.status is KeyStatus.ACTIVE
    with db.session() as s:
        signer = services.load_signer(s, settings, PASSPHRASE)
    assert signer.kid == row.kid and "PRIVATE" not in repr(signer)


def test_wrong_passphrase_is_refused_by_name(db: Database, settings: Settings) -> None:
    with db.session() as s:
        services.create_key(s, settings, PASSPHRASE)
    with db.session() as s, pytest.raises(WrongPassphraseError, match="wrong passphrase"):
        services.load_signer(s, settings, "not the passphrase")


def test_a_second_active_key_needs_rotation(db: Database, settings: Settings) -> None:
    with db.session() as s:
        services.create_key(s, settings, PASSPHRASE)
    with db.session() as s, pytest.raises(ActiveKeyExistsError):
        services.create_key(s, settings, PASSPHRASE)
    with db.session() as s:
        assert len(services.list_keys(s)) == 1


def test_rotation_retires_the_old_key_which_still_verifies(
    db: Database, settings: Settings
) -> None:
    with db.session() as s:
        old = services.create_key(s, settings, PASSPHRASE)
    with db.session() as s:
        new = services.rotate_key(s, settings, PASSPHRASE)
    with db.session() as s:
        statuses = {r.kid: r.status for r in services.list_keys(s)}
        keyset = services.public_key_set(s)
        signer = services.load_signer(s, settings, PASSPHRASE)
    assert statuses == {old.kid: KeyStatus.RETIRED, new.kid: KeyStatus.ACTIVE}
    assert signer.kid == new.kid
    assert keyset.info(bytes.fromhex(old.key_id)).status is KeyStatus.RETIRED


def test_retire_then_nothing_signs(db: Database, settings: Settings) -> None:
    with db.session() as s:
        row = services.create_key(s, settings, PASSPHRASE)
    with db.session() as s:
        services.retire_key(s, row.kid[:10])
    with db.session() as s, pytest.raises(NoActiveKeyError):
        services.load_signer(s, settings, PASSPHRASE)
    with db.session() as s, pytest.raises(KeyNotUsableError, match="retired"):
        services.retire_key(s, row.key_id)


def test_compromise_keeps_the_earliest_time(db: Database, settings: Settings) -> None:
    early = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with db.session() as s:
        row = services.create_key(s, settings, PASSPHRASE)
    with db.session() as s:
        services.compromise_key(s, row.kid, at=early)
    with db.session() as s:
        services.compromise_key(s, row.kid, at=early + dt.timedelta(days=3))
    with db.session() as s:
        info = services.public_key_set(s).info(bytes.fromhex(row.key_id))
    assert info.status is KeyStatus.COMPROMISED and info.compromised_at == early


def test_unknown_key_is_named(db: Database) -> None:
    with db.session() as s, pytest.raises(UnknownKeyError, match="nope"):
        services.retire_key(s, "nope")


def test_jwks_round_trip_into_another_issuer(db: Database, settings: Settings) -> None:
    with db.session() as s:
        row = services.create_key(s, settings, PASSPHRASE)
        services.compromise_key(s, row.kid, at=dt.datetime(2026, 5, 1, tzinfo=dt.UTC))
        document = services.export_jwks(s)
    (jwk,) = document["keys"]  # type: ignore[misc]
    assert {"kty": "OKP", "crv": "Ed25519", "kid": row.kid, "alg": "EdDSA"}.items() <= jwk.items()
    assert "d" not in jwk
    # The same key seen by a second database, as another province's issuer would import it.
    with db.session() as s:
        s.delete(services.find_key(s, row.kid))
    with db.session() as s:
        (imported,) = services.import_jwks(s, document, issuer="湖南省")
        assert not imported.own and imported.status is KeyStatus.COMPROMISED
        assert imported.compromised_at == dt.datetime(2026, 5, 1, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({}, "keys"),
        ({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "A" * 43, "d": "A" * 43}]}, "private"),
        ({"keys": [{"kty": "RSA", "n": "0vx7", "e": "AQAB", "d": "X5"}]}, "private"),
    ],
)
def test_bad_key_sets_are_refused_and_nothing_is_stored(
    db: Database, document: object, message: str
) -> None:
    with db.session() as s, pytest.raises(JwksError, match=message):
        services.import_jwks(s, document, issuer="x")
    with db.session() as s:
        assert services.list_keys(s) == []


def public_jwk(private_key: Ed25519PrivateKey, **members: object) -> dict[str, object]:
    public = private_key.public_key()
    return {"kty": "OKP", "crv": "Ed25519", "x": b64url(raw_public(public)), **members}


def test_foreign_entries_are_skipped_and_reported_and_the_rest_imported(db: Database) -> None:
    theirs = Ed25519PrivateKey.generate()
    document = {
        "keys": [
            {"kty": "RSA", "kid": "rsa-2024", "n": "0vx7", "e": "AQAB"},
            public_jwk(theirs, kid=kid_of(theirs.public_key())),
            public_jwk(Ed25519PrivateKey.generate(), kid="forged"),
            {"kty": "OKP", "crv": "Ed25519", "x": "short"},
        ]
    }
    with db.session() as s:
        result = services.import_key_set(s, document, issuer="湖南省")
        assert [r.kid for r in result.rows] == [kid_of(theirs.public_key())]
    assert [(k.index, k.kid, k.reason) for k in result.skipped] == [
        (0, "rsa-2024", "not_ed25519"),
        (2, "forged", "kid_mismatch"),
        (3, None, "bad_x"),
    ]
    with db.session() as s:
        assert [r.kid for r in services.list_keys(s)] == [kid_of(theirs.public_key())]


def test_a_key_whose_id_is_taken_is_skipped_not_stored(db: Database) -> None:
    # The database holds one key per four-byte id. A real collision needs some 2**16 keys;
    # a row under the id of the key to import makes the same situation.
    theirs = Ed25519PrivateKey.generate()
    taken = key_id_for(theirs.public_key()).hex()
    with db.session() as s:
        s.add(
            SigningKey(kid="an-earlier-key", key_id=taken, public_x="A" * 43, issuer="x", own=False)
        )
    with db.session() as s:
        result = services.import_key_set(s, {"keys": [public_jwk(theirs)]}, issuer="x")
    assert result.rows == []
    (skipped,) = result.skipped
    assert skipped.reason == "key_id_taken" and skipped.kid == kid_of(theirs.public_key())
    assert taken in skipped.en and "an-earlier-key" in skipped.en


def test_a_damaged_key_file_is_a_key_file_error(tmp_path: Path) -> None:
    from gimark.keys.errors import KeyFileError

    path = tmp_path / "k.pem"
    path.write_text("-----BEGIN PRIVATE KEY-----\n")
    with pytest.raises(KeyFileError, match="not an encrypted"):
        read_private_key(path, PASSPHRASE, "kid")
    with pytest.raises(KeyFileError):
        read_private_key(tmp_path / "missing.pem", PASSPHRASE, "kid")
