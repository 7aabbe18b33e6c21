"""The public key set as JWKS (RFC 7517, with RFC 8037 OKP/Ed25519 keys).

Besides the standard members each key carries ``gimark_issuer``, ``gimark_key_id``,
``gimark_status`` and, for a compromised key, ``gimark_compromised_at``: an offline verifier
needs the state to judge codes signed by it. ``docs/code-format.md``, section 3.3, is their
contract. Reading follows section 3.2: entries a verifier cannot use are left out and
reported, not the whole document refused.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any, Final

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


# Why an entry is left out: a stable code, then the words (formatted with the entry's values).
_REASONS: Final = {
    "not_an_object": ("the entry is not a JSON object", "该项不是 JSON 对象"),
    "not_ed25519": (
        "kty {kty} / crv {crv} is not an OKP/Ed25519 key",
        "kty {kty} / crv {crv} 不是 OKP/Ed25519 密钥",
    ),
    "bad_x": (
        "member x is not 32 bytes in unpadded base64url",
        "成员 x 不是无填充 base64url 编码的 32 字节公钥",
    ),
    "kid_mismatch": (
        "kid {given} is not the key's RFC 7638 thumbprint {thumbprint}",
        "kid {given} 与密钥的 RFC 7638 指纹 {thumbprint} 不符",
    ),
    "bad_status": (
        "gimark_status {status} is not active, retired or compromised",
        "gimark_status {status} 不是 active、retired 或 compromised",
    ),
    "bad_compromised_at": (
        "gimark_compromised_at {value} is not an ISO 8601 time with a time zone",
        "gimark_compromised_at {value} 不是带时区的 ISO 8601 时间",
    ),
    "key_id_taken": (
        "its key id {key_id} already names another key ({other}); one key per id is stored",
        "其密钥编号 {key_id} 已属于另一把密钥（{other}）；每个编号只保存一把密钥",
    ),
}


@dataclass(frozen=True)
class SkippedKey:
    """A JWKS entry that was left out, and why (``docs/code-format.md``, section 3.2)."""

    index: int  # its place in the document's "keys" list, from 0
    kid: str | None  # its kid as given (at most 64 characters), if it had a string kid
    reason: str  # a stable code, one of _REASONS
    en: str
    zh: str

    def line(self) -> str:
        """One line for stderr, Chinese first."""
        entry = f"keys[{self.index}]" + (f" (kid {self.kid})" if self.kid else "")
        return f"已跳过 {entry}：{self.zh} (skipped {entry}: {self.en})"

    def as_json(self) -> dict[str, object]:
        """The entry as ``--json`` documents report it."""
        return {
            "index": self.index,
            "kid": self.kid,
            "reason": self.reason,
            "en": self.en,
            "zh": self.zh,
        }


def skipped_key(index: int, reason: str, *, kid: object = None, **values: object) -> SkippedKey:
    """A :class:`SkippedKey` for entry ``index`` (whose kid is ``kid``), ``values`` in its words."""
    shown = {name: _shown(value) for name, value in values.items()}
    en, zh = _REASONS[reason]
    return SkippedKey(
        index=index,
        kid=kid[:64] if isinstance(kid, str) else None,
        reason=reason,
        en=en.format(**shown),
        zh=zh.format(**shown),
    )


def _shown(value: object) -> str:
    # Values come from a document anyone may write: strings quoted, everything cut short.
    if isinstance(value, str):
        return repr(value[:60])
    return json.dumps(value, default=str)[:60]


@dataclass(frozen=True)
class JwksKeys:
    """What a JWKS document holds for a verifier: the usable keys and the entries left out."""

    keys: list[PublicKeyInfo]
    positions: list[int]  # positions[i]: the index of keys[i] in the document's "keys" list
    skipped: list[SkippedKey] = field(default_factory=list)


def read_jwks(document: object, default_issuer: str = "imported") -> JwksKeys:
    """Every usable Ed25519 key of a JWKS document, and every entry left out with the reason.

    An entry is left out, not the document refused, when it is not an OKP/Ed25519 key (a
    key set may hold other kinds), when its ``x`` is not a 32-byte key, when its ``kid`` is
    present and not the key's thumbprint, or when a ``gimark_*`` member cannot be read.

    Raises:
        JwksError: the document is not a JWKS (no "keys" list), has more than
            :data:`MAX_KEYS` entries, or carries a private key (member ``d``) in any entry:
            a publisher that leaks private keys publishes nothing to trust.
    """
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise JwksError(detail='expected a JSON object with a "keys" list')
    entries = document["keys"]
    if len(entries) > MAX_KEYS:
        raise JwksError(detail=f"more than {MAX_KEYS} keys")
    if any(isinstance(jwk, dict) and "d" in jwk for jwk in entries):
        raise JwksError(detail="the key set contains a private key; refusing it")
    read = JwksKeys(keys=[], positions=[])
    for index, jwk in enumerate(entries):
        entry = _read_entry(index, jwk, default_issuer)
        if isinstance(entry, SkippedKey):
            read.skipped.append(entry)
        else:
            read.keys.append(entry)
            read.positions.append(index)
    return read


def from_jwks(document: object, default_issuer: str = "imported") -> list[PublicKeyInfo]:
    """Every usable key of a JWKS document; entries that are not are left out silently
    (:func:`read_jwks` says which and why).

    Raises:
        JwksError: as :func:`read_jwks`.
    """
    return read_jwks(document, default_issuer).keys


def parse_jwk(jwk: object, default_issuer: str) -> PublicKeyInfo:
    """One JWK to a key; the ``kid``, if present, must be the key's thumbprint.

    Raises:
        JwksError: not an Ed25519 public JWK, or a member of it cannot be read.
    """
    if isinstance(jwk, dict) and "d" in jwk:
        raise JwksError(detail="the key set contains a private key; refusing it")
    entry = _read_entry(0, jwk, default_issuer)
    if isinstance(entry, SkippedKey):
        raise JwksError(detail=entry.en)
    return entry


def _read_entry(index: int, jwk: object, default_issuer: str) -> PublicKeyInfo | SkippedKey:
    if not isinstance(jwk, dict):
        return skipped_key(index, "not_an_object")
    given = jwk.get("kid")
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        return skipped_key(index, "not_ed25519", kid=given, kty=jwk.get("kty"), crv=jwk.get("crv"))
    x = jwk.get("x")
    try:
        public_key = public_key_from_x(x if isinstance(x, str) else "")
    except ValueError:
        return skipped_key(index, "bad_x", kid=given)
    # Only the canonical spelling: a verifier that hashes the x it was given (3.1) must get
    # the same thumbprint as one that hashes the decoded key.
    if b64url(raw_public(public_key)) != x:
        return skipped_key(index, "bad_x", kid=given)
    kid = kid_of(public_key)
    if "kid" in jwk and given != kid:
        return skipped_key(index, "kid_mismatch", kid=given, given=given, thumbprint=kid)
    status = jwk.get("gimark_status", KeyStatus.ACTIVE.value)
    if status not in _STATUSES:
        return skipped_key(index, "bad_status", kid=given, status=status)
    compromised = jwk.get("gimark_compromised_at")
    compromised_at = _parse_time(compromised)
    if compromised is not None and compromised_at is None:
        return skipped_key(index, "bad_compromised_at", kid=given, value=compromised)
    return PublicKeyInfo(
        kid=kid,
        key_id=key_id_for(public_key),
        public_key=public_key,
        issuer=str(jwk.get("gimark_issuer", default_issuer))[:200],
        status=KeyStatus(status),
        compromised_at=compromised_at,
    )


_STATUSES: Final = frozenset(status.value for status in KeyStatus)


def _parse_time(value: object) -> dt.datetime | None:
    """An aware ISO 8601 time in UTC; None when ``value`` is not one."""
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return None if parsed.tzinfo is None else parsed.astimezone(dt.UTC)
