"""The public key set as JWKS (RFC 7517, with RFC 8037 OKP/Ed25519 keys).

Besides the standard members each key carries ``gimark_status`` and, for a compromised key,
``gimark_compromised_at``: an offline verifier needs both to judge codes signed by it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from gimark.keys.errors import JwksError
from gimark.keys.ids import key_id_for
from gimark.keys.keyring import (
    PublicKeyInfo,
    b64url,
    kid_of,
    public_key_from_x,
    raw_public,
)
from gimark.keys.models import KeyStatus

MAX_KEYS = 1000  # an imported set larger than this is not a key set anyone publishes
MAX_JWKS_BYTES = 1_000_000  # bytes; a thousand keys fit in a fifth of that


def jwk_of(info: PublicKeyInfo) -> dict[str, Any]:
    """One key as a JWK."""
    jwk: dict[str, Any] = {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": b64url(raw_public(info.public_key)),
        "kid": info.kid,
        "use": "sig",
        "alg": "EdDSA",
        "gimark_issuer": info.issuer,
        "gimark_key_id": info.key_id.hex().upper(),
        "gimark_status": info.status.value,
    }
    if info.compromised_at is not None:
        jwk["gimark_compromised_at"] = info.compromised_at.isoformat()
    return jwk


def to_jwks(keys: list[PublicKeyInfo]) -> dict[str, Any]:
    """A JWKS document of ``keys``."""
    return {"keys": [jwk_of(info) for info in keys]}


def _parse_time(value: object) -> dt.datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise JwksError(detail="gimark_compromised_at must be a timestamp string")
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise JwksError(detail=f"bad timestamp {value[:40]!r}") from None
    if parsed.tzinfo is None:
        raise JwksError(detail="gimark_compromised_at needs a time zone")
    return parsed.astimezone(dt.UTC)


def parse_jwk(jwk: object, default_issuer: str) -> PublicKeyInfo:
    """One JWK to a key; the ``kid`` must be the key's thumbprint.

    Raises:
        JwksError: not an Ed25519 public JWK, or its kid does not match its key.
    """
    if not isinstance(jwk, dict):
        raise JwksError(detail="a key must be a JSON object")
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        raise JwksError(detail="only OKP/Ed25519 keys are supported")
    if "d" in jwk:
        raise JwksError(detail="the key set contains a private key; refusing it")
    try:
        public_key = public_key_from_x(str(jwk.get("x", "")))
    except ValueError:
        raise JwksError(detail="member x is not a 32-byte base64url public key") from None
    kid = kid_of(public_key)
    if jwk.get("kid", kid) != kid:
        raise JwksError(detail=f"kid {str(jwk.get('kid'))[:60]!r} is not the key's thumbprint")
    try:
        status = KeyStatus(jwk.get("gimark_status", KeyStatus.ACTIVE.value))
    except ValueError:
        raise JwksError(detail="unknown gimark_status") from None
    return PublicKeyInfo(
        kid=kid,
        key_id=key_id_for(public_key),
        public_key=public_key,
        issuer=str(jwk.get("gimark_issuer", default_issuer))[:200],
        status=status,
        compromised_at=_parse_time(jwk.get("gimark_compromised_at")),
    )


def from_jwks(document: object, default_issuer: str = "imported") -> list[PublicKeyInfo]:
    """Every key of a JWKS document.

    Raises:
        JwksError: the document is not a JWKS of Ed25519 public keys.
    """
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise JwksError(detail='expected a JSON object with a "keys" list')
    keys = document["keys"]
    if len(keys) > MAX_KEYS:
        raise JwksError(detail=f"more than {MAX_KEYS} keys")
    return [parse_jwk(jwk, default_issuer) for jwk in keys]
