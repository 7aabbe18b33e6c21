"""Key material: the one module that touches private keys.

Private keys are Ed25519, stored only as PKCS#8 PEM encrypted with the operator's passphrase,
in files readable by their owner alone. Public keys are identified by their RFC 7638 JWK
thumbprint (``kid``); codes carry its first four bytes (``key_id``).
"""

from __future__ import annotations

import base64
import datetime as dt
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from gimark.keys.errors import (
    KeyFileError,
    UnknownKeyError,
    WrongPassphraseError,
)
from gimark.keys.ids import jwk_thumbprint, key_id_for
from gimark.keys.models import KeyStatus


def b64url(data: bytes) -> str:
    """Unpadded base64url, as JOSE uses it."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Inverse of :func:`b64url` (tolerates missing padding)."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def raw_public(public_key: Ed25519PublicKey) -> bytes:
    """The 32 raw bytes of a public key."""
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def kid_of(public_key: Ed25519PublicKey) -> str:
    """The key's ``kid``: its RFC 7638 thumbprint, base64url."""
    return b64url(jwk_thumbprint(public_key))


def write_private_key(path: Path, key: Ed25519PrivateKey, passphrase: str) -> None:
    """Write ``key`` encrypted with ``passphrase`` to a new owner-only file (never overwrites)."""
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase.encode("utf-8")),
    )
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        os.link(tmp, path)  # fails if ``path`` exists: a key file is never replaced
    finally:
        tmp.unlink(missing_ok=True)


def read_private_key(path: Path, passphrase: str, kid: str) -> Ed25519PrivateKey:
    """Decrypt the key in ``path``.

    Raises:
        KeyFileError: the file is missing, unreadable or not an encrypted Ed25519 key.
        WrongPassphraseError: the passphrase does not decrypt it.
    """
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise KeyFileError(path=path, detail=exc.strerror or type(exc).__name__) from None
    if b"ENCRYPTED PRIVATE KEY" not in pem:
        raise KeyFileError(path=path, detail="not an encrypted PKCS#8 key")
    try:
        key = serialization.load_pem_private_key(pem, passphrase.encode("utf-8"))
    except ValueError:
        raise WrongPassphraseError(kid=kid) from None
    except UnsupportedAlgorithm as exc:
        raise KeyFileError(path=path, detail=str(exc)) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(path=path, detail="not an Ed25519 key")
    return key


class Signer:
    """Signs with one decrypted issuer key; implements the codes' ``CodeSigner``."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._private_key = private_key
        public = private_key.public_key()
        self.kid = kid_of(public)
        self._key_id = key_id_for(public)

    @property
    def key_id(self) -> bytes:
        return self._key_id

    def sign(self, message: bytes) -> bytes:
        return self._private_key.sign(message)

    def __repr__(self) -> str:  # never show key material
        return f"Signer(kid={self.kid!r})"


@dataclass(frozen=True)
class PublicKeyInfo:
    """A verifying key and what is known of its state."""

    kid: str
    key_id: bytes
    public_key: Ed25519PublicKey
    issuer: str
    status: KeyStatus
    compromised_at: dt.datetime | None = None


class PublicKeySet:
    """The verifying keys by their four-byte id; implements the codes' ``KeyResolver``.

    Four bytes can collide (two among a thousand keys in about one key set of 8,600), so
    every key is kept, those sharing an id in the order given: a code verifies if any key
    with its id verifies it (``docs/code-format.md``, section 3.2).
    """

    def __init__(self, keys: Iterable[PublicKeyInfo]) -> None:
        self._keys = tuple(keys)
        by_id: dict[bytes, list[PublicKeyInfo]] = {}
        for info in self._keys:
            by_id.setdefault(info.key_id, []).append(info)
        self._by_id = {key_id: tuple(infos) for key_id, infos in by_id.items()}
        # Built once: public_keys() is asked on every scan.
        self._public = {
            key_id: tuple(info.public_key for info in infos)
            for key_id, infos in self._by_id.items()
        }

    def __iter__(self) -> Iterator[PublicKeyInfo]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def infos(self, key_id: bytes) -> tuple[PublicKeyInfo, ...]:
        """Every key named by ``key_id``, in the order the set was given them.

        Raises:
            UnknownKeyError: no such key.
        """
        try:
            return self._by_id[key_id]
        except KeyError:
            raise UnknownKeyError(kid=key_id.hex()) from None

    def info(self, key_id: bytes, public_key: Ed25519PublicKey | None = None) -> PublicKeyInfo:
        """The key named by ``key_id``: the one whose public half is ``public_key`` (the key
        that verified a code, as ``codes.verify`` returns it).

        Without ``public_key`` and with several keys under ``key_id``, the most cautious of
        them: the one declared compromised earliest, else the first. Whoever judges a code
        by its key's state should pass ``public_key``, so that two keys sharing an id never
        lend each other their state.

        Raises:
            UnknownKeyError: no such key (or none with that public half).
        """
        infos = self.infos(key_id)
        if public_key is not None:
            raw = raw_public(public_key)
            for info in infos:
                if raw_public(info.public_key) == raw:
                    return info
            raise UnknownKeyError(kid=key_id.hex())
        return infos[0] if len(infos) == 1 else _most_cautious(infos)

    def public_keys(self, key_id: bytes) -> tuple[Ed25519PublicKey, ...]:
        """Every public key named by ``key_id``: what ``codes.verify`` tries, in order.

        Raises:
            UnknownKeyError: no such key.
        """
        try:
            return self._public[key_id]
        except KeyError:
            raise UnknownKeyError(kid=key_id.hex()) from None

    def public_key(self, key_id: bytes) -> Ed25519PublicKey:
        """The first public key named by ``key_id``; see :meth:`public_keys` for all of them.

        Raises:
            UnknownKeyError: no such key.
        """
        return self.public_keys(key_id)[0]


def _most_cautious(infos: tuple[PublicKeyInfo, ...]) -> PublicKeyInfo:
    compromised = [info for info in infos if info.status is KeyStatus.COMPROMISED]
    if not compromised:
        return infos[0]
    # No time known counts as compromised since ever: the earliest of all.
    return min(compromised, key=lambda info: info.compromised_at or _SINCE_EVER)


_SINCE_EVER = dt.datetime.min.replace(tzinfo=dt.UTC)


def public_key_from_x(x: str) -> Ed25519PublicKey:
    """A public key from a JWK ``x`` member.

    Raises:
        ValueError: ``x`` is not 32 bytes of base64url.
    """
    raw = b64url_decode(x)
    if len(raw) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    return Ed25519PublicKey.from_public_bytes(raw)
