"""Key lifecycle: create, rotate, retire, mark compromised, export and import.

The database holds each key's public half and state; the private half of our own keys is
only ever in its encrypted file under ``settings.keys_dir``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from gimark.core.db import utcnow
from gimark.core.settings import Settings
from gimark.keys.errors import (
    ActiveKeyExistsError,
    KeyNotUsableError,
    NoActiveKeyError,
    UnknownKeyError,
)
from gimark.keys.ids import key_id_for
from gimark.keys.jwks import SkippedKey, read_jwks, skipped_key, to_jwks
from gimark.keys.keyring import (
    PublicKeyInfo,
    PublicKeySet,
    Signer,
    b64url,
    kid_of,
    public_key_from_x,
    raw_public,
    read_private_key,
    write_private_key,
)
from gimark.keys.models import KeyStatus, SigningKey

OWN_ISSUER = "gimark"


def active_key(session: Session) -> SigningKey | None:
    """Our active signing key, if any."""
    return session.scalars(
        select(SigningKey).where(SigningKey.own.is_(True), SigningKey.status == KeyStatus.ACTIVE)
    ).first()


def find_key(session: Session, ident: str) -> SigningKey:
    """A key by its kid, its 8-hex-digit key id, or a unique kid prefix (as people type it).

    Raises:
        UnknownKeyError: no key, or the prefix names more than one.
    """
    ident = ident.strip()
    row = session.scalars(
        select(SigningKey).where((SigningKey.kid == ident) | (SigningKey.key_id == ident.lower()))
    ).first()
    if row is not None:
        return row
    matches = session.scalars(select(SigningKey).where(SigningKey.kid.startswith(ident))).all()
    if len(ident) >= 4 and len(matches) == 1:
        return matches[0]
    raise UnknownKeyError(kid=ident[:64])


def create_key(
    session: Session, settings: Settings, passphrase: str, *, note: str = ""
) -> SigningKey:
    """Make a new active issuer key.

    Raises:
        ActiveKeyExistsError: there is an active key already (use :func:`rotate_key`).
    """
    current = active_key(session)
    if current is not None:
        raise ActiveKeyExistsError(kid=current.kid)
    return _new_key(session, settings, passphrase, note)


def _new_key(session: Session, settings: Settings, passphrase: str, note: str) -> SigningKey:
    private_key = Ed25519PrivateKey.generate()
    public_key = private_key.public_key()
    key_id = key_id_for(public_key).hex()
    row = SigningKey(
        kid=kid_of(public_key),
        key_id=key_id,
        public_x=b64url(raw_public(public_key)),
        issuer=OWN_ISSUER,
        own=True,
        private_file=f"{key_id}.pem",
        status=KeyStatus.ACTIVE,
        note=note,
    )
    session.add(row)
    session.flush()  # the unique key_id is checked before the file is written
    settings.keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    write_private_key(settings.keys_dir / f"{key_id}.pem", private_key, passphrase)
    return row


def rotate_key(
    session: Session, settings: Settings, passphrase: str, *, note: str = ""
) -> SigningKey:
    """Retire the active key (it keeps verifying) and make a new active one.

    Raises:
        WrongPassphraseError: the passphrase does not open the current key; a typo must not
            leave the new key under a passphrase nobody knows.
    """
    current = active_key(session)
    if current is not None:
        if current.private_file is not None:
            read_private_key(settings.keys_dir / current.private_file, passphrase, current.kid)
        current.status = KeyStatus.RETIRED
        current.retired_at = utcnow()
        session.flush()
    return _new_key(session, settings, passphrase, note)


def retire_key(session: Session, ident: str) -> SigningKey:
    """Stop signing with a key; codes it signed keep verifying.

    Raises:
        UnknownKeyError: no such key.
        KeyNotUsableError: the key is not active.
    """
    row = find_key(session, ident)
    if row.status is not KeyStatus.ACTIVE:
        raise KeyNotUsableError(kid=row.kid, status=row.status.value)
    row.status = KeyStatus.RETIRED
    row.retired_at = utcnow()
    return row


def compromise_key(
    session: Session, ident: str, *, at: dt.datetime | None = None, note: str = ""
) -> SigningKey:
    """Declare a key compromised from ``at`` (default now): what it signed later is unauthorized.

    Raises:
        UnknownKeyError: no such key.
    """
    row = find_key(session, ident)
    when = at or utcnow()
    # An earlier declaration stands unless the new one reaches further back.
    if row.compromised_at is None or when < row.compromised_at:
        row.compromised_at = when
    row.status = KeyStatus.COMPROMISED
    if note:
        row.note = note[:500]
    return row


def list_keys(session: Session) -> list[SigningKey]:
    """Every key, ours and imported, oldest first."""
    return list(session.scalars(select(SigningKey).order_by(SigningKey.id)))


def info_of(row: SigningKey) -> PublicKeyInfo:
    """The verifying view of a key row."""
    return PublicKeyInfo(
        kid=row.kid,
        key_id=bytes.fromhex(row.key_id),
        public_key=public_key_from_x(row.public_x),
        issuer=row.issuer,
        status=row.status,
        compromised_at=row.compromised_at,
    )


def public_key_set(session: Session) -> PublicKeySet:
    """Every key that may verify a code, ours and imported."""
    return PublicKeySet([info_of(row) for row in list_keys(session)])


def export_jwks(session: Session) -> dict[str, object]:
    """The published key set (JWKS)."""
    return to_jwks([info_of(row) for row in list_keys(session)])


@dataclass(frozen=True)
class ImportedKeys:
    """What an import stored, and the entries of the document it left out with the reason."""

    rows: list[SigningKey]
    skipped: list[SkippedKey]


def import_key_set(session: Session, document: object, *, issuer: str) -> ImportedKeys:
    """Add another issuer's public keys, or update the state of ones already known.

    Entries a verifier cannot use (``docs/code-format.md``, section 3.2) are left out and
    reported, as is a key whose four-byte id already names a different key: the database
    holds one key per id.

    Raises:
        JwksError: the document is not a JWKS, or carries a private key; nothing is stored.
    """
    read = read_jwks(document, default_issuer=issuer)
    rows: list[SigningKey] = []
    skipped = list(read.skipped)
    for index, info in zip(read.positions, read.keys, strict=True):
        key_id = info.key_id.hex()
        held = session.scalars(select(SigningKey).where(SigningKey.key_id == key_id)).first()
        if held is not None and held.kid != info.kid:
            reason = skipped_key(index, "key_id_taken", kid=info.kid, key_id=key_id, other=held.kid)
            skipped.append(reason)
        else:
            rows.append(_import_one(session, info, held))
    session.flush()
    return ImportedKeys(rows, sorted(skipped, key=lambda s: s.index))


def import_jwks(session: Session, document: object, *, issuer: str) -> list[SigningKey]:
    """:func:`import_key_set`, returning only the rows stored.

    Raises:
        JwksError: as :func:`import_key_set`.
    """
    return import_key_set(session, document, issuer=issuer).rows


def _import_one(session: Session, info: PublicKeyInfo, row: SigningKey | None) -> SigningKey:
    """``info`` stored as a new row, or the state of ``row`` (the same key) updated."""
    if row is None:
        row = SigningKey(
            kid=info.kid,
            key_id=info.key_id.hex(),
            public_x=b64url(raw_public(info.public_key)),
            issuer=info.issuer,
            own=False,
            private_file=None,
            status=info.status,
        )
        session.add(row)
    elif not row.own:
        row.status = info.status
    if info.compromised_at is not None and (
        row.compromised_at is None or info.compromised_at < row.compromised_at
    ):
        row.compromised_at = info.compromised_at
        row.status = KeyStatus.COMPROMISED
    return row


def load_signer(session: Session, settings: Settings, passphrase: str) -> Signer:
    """Decrypt the active key for signing.

    Raises:
        NoActiveKeyError: there is no active key.
        WrongPassphraseError: the passphrase does not decrypt it.
        KeyFileError: its file is missing or damaged.
    """
    row = active_key(session)
    if row is None or row.private_file is None:
        raise NoActiveKeyError()
    return _decrypt(row, settings, passphrase)


def load_signer_for(session: Session, settings: Settings, passphrase: str, kid: str) -> Signer:
    """Decrypt the key ``kid`` to re-sign codes it signed before (a reprint gives the same bytes).

    A retired key may re-sign what it signed already; a compromised or foreign key may not.

    Raises:
        UnknownKeyError: no such key.
        KeyNotUsableError: the key is compromised, or is another issuer's public key.
        WrongPassphraseError: the passphrase does not decrypt it.
        KeyFileError: its file is missing or damaged.
    """
    row = find_key(session, kid)
    if row.status is KeyStatus.COMPROMISED or row.private_file is None:
        raise KeyNotUsableError(kid=row.kid, status=row.status.value if row.own else "public-only")
    return _decrypt(row, settings, passphrase)


def _decrypt(row: SigningKey, settings: Settings, passphrase: str) -> Signer:
    assert row.private_file is not None
    private_key = read_private_key(settings.keys_dir / row.private_file, passphrase, row.kid)
    if kid_of(private_key.public_key()) != row.kid:
        raise KeyNotUsableError(kid=row.kid, status="file does not match the registered key")
    return Signer(private_key)
