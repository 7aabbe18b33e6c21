"""Key ids: the RFC 7638 thumbprint of a public key and the 4-byte id that codes carry."""

from __future__ import annotations

import base64
import hashlib

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

__all__ = ["jwk_thumbprint", "key_id_for"]


def key_id_for(public_key: Ed25519PublicKey) -> bytes:
    """The 4-byte key id of ``public_key``: the first 4 bytes of its RFC 7638 thumbprint."""
    return jwk_thumbprint(public_key)[:4]


def jwk_thumbprint(public_key: Ed25519PublicKey) -> bytes:
    """The RFC 7638 JWK thumbprint (SHA-256, 32 bytes) of an Ed25519 public key.

    The members are the required ones of an OKP key (RFC 8037), in lexicographic order,
    with no whitespace, as RFC 7638 section 3 prescribes.
    """
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    x = base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
    canonical = '{"crv":"Ed25519","kty":"OKP","x":"' + x + '"}'
    return hashlib.sha256(canonical.encode("ascii")).digest()
