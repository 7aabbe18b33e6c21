"""The status list: the signed state of every issued batch, for verifiers without a network.

An inspector holding the published key set (JWKS) and a status list can judge a code as the
online service would: the list says, per batch, whether it is live, revoked or not yet
released, which of its serials were voided, which key signed it, and whether its enterprise
was authorized when it was issued and is still in good standing. A batch is one entry however
many labels it has. The list is signed by the issuer's active key (a detached JWS, RFC 7515)
and carries its generation time, so that a verifier can prove where its answer came from and
refuse to answer "genuine" from old news.

``docs/status-list.md`` is the written format; the numbered steps in :func:`read_status_list`
follow its section 3.
"""

from __future__ import annotations

import binascii
import datetime as dt
import json
from collections.abc import Sequence
from typing import Any, Final, Protocol

from cryptography.exceptions import InvalidSignature
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from gimark.keys.keyring import PublicKeyInfo, PublicKeySet, b64url, b64url_decode
from gimark.keys.models import KeyStatus
from gimark.keys.services import OWN_ISSUER, export_jwks
from gimark.labels.issuing.models import Batch, VoidedRange
from gimark.labels.offline.errors import (
    StaleStatusListError,
    StatusListFromFutureError,
    StatusListKeyNotTrustedError,
    StatusListSignatureError,
    StatusListUnknownKeyError,
)
from gimark.labels.offline.payload import (
    FORMAT,
    VERSION,
    BatchEntry,
    BatchState,
    EnterpriseInfo,
    ProductInfo,
    StatusList,
    format_error,
    parse_payload,
)
from gimark.labels.scanning.judge import issued_at, standing_of
from gimark.trace.authorizations import Reason, judge
from gimark.trace.models import Authorization, Enterprise, Product

__all__ = [
    "DEFAULT_MAX_AGE",
    "FORMAT",
    "JWS_TYPE",
    "VERSION",
    "BatchEntry",
    "BatchState",
    "EnterpriseInfo",
    "ListSigner",
    "ProductInfo",
    "StatusList",
    "build_status_list",
    "canonical_json",
    "check_fresh",
    "read_status_list",
    "sign_status_list",
    "verify_status_list",
]

# Lists are signed "EdDSA" (RFC 8037), as the JWKS names its keys; "Ed25519" is the same
# algorithm under its fully specified name (RFC 9864), which later signers may write.
_ALGORITHMS: Final = frozenset({"EdDSA", "Ed25519"})
JWS_TYPE: Final = "gimark-status-list+json"  # the JWS "typ": a key's other JWSs are not lists
_MAX_HEADER: Final = 1000  # characters; ours is about 150
DEFAULT_MAX_AGE: Final = dt.timedelta(days=7)
CLOCK_SKEW: Final = dt.timedelta(minutes=5)  # an inspector's laptop clock may run a little fast


class ListSigner(Protocol):
    """What signs a list: :class:`gimark.keys.keyring.Signer` is one."""

    @property
    def kid(self) -> str: ...

    def sign(self, message: bytes) -> bytes: ...


# --- building and signing --------------------------------------------------------------------


def build_status_list(
    session: Session,
    now: dt.datetime,
    *,
    issuer: str = OWN_ISSUER,
    bases: Sequence[str] = (),
) -> dict[str, Any]:
    """The unsigned list (a JSON-able dict) of every batch that was issued serials, at ``now``."""
    batches = session.scalars(
        select(Batch).where(Batch.serial_first.is_not(None)).order_by(Batch.serial_first)
    ).all()
    # Only batches with serials are listed: those with a standing (requested and rejected
    # batches have none), as the online judge reads them.
    listed = [b for b in batches if standing_of(b.status) is not None]
    registry = _Registry(session)
    voided = _voided_by_batch(session)
    return {
        "format": FORMAT,
        "version": VERSION,
        "issuer": issuer,
        "generated_at": _instant(now),
        "bases": list(bases),
        "compromised_keys": _compromised_keys(session),
        "enterprises": {str(e.id): registry.enterprise_json(e.id) for e in registry.enterprises},
        "products": {str(p.id): registry.product_json(p.id) for p in registry.products},
        "batches": [_batch_json(b, voided.get(b.id, []), registry, now) for b in listed],
    }


class _Registry:
    """The enterprises, products and authorizations behind the issued batches, loaded at once."""

    def __init__(self, session: Session) -> None:
        issued = select(Batch.enterprise_id).where(Batch.serial_first.is_not(None))
        products = select(Batch.product_id).where(Batch.serial_first.is_not(None))
        self.enterprises = session.scalars(
            select(Enterprise)
            .where(Enterprise.id.in_(issued))
            .options(selectinload(Enterprise.changes))
            .order_by(Enterprise.id)
        ).all()
        self.products = session.scalars(
            select(Product).where(Product.id.in_(products)).order_by(Product.id)
        ).all()
        self._enterprise = {e.id: e for e in self.enterprises}
        self._product = {p.id: p for p in self.products}
        self._pairs: dict[tuple[int, int], list[Authorization]] = {}
        for grant in session.scalars(
            select(Authorization)
            .where(Authorization.enterprise_id.in_(issued))
            .options(selectinload(Authorization.changes))
            .order_by(Authorization.id)
        ):
            self._pairs.setdefault((grant.enterprise_id, grant.product_id), []).append(grant)

    def reason(self, batch: Batch, at: dt.datetime) -> Reason:
        """Whether the batch's enterprise was allowed to use the mark on its product at ``at``."""
        grants = self._pairs.get((batch.enterprise_id, batch.product_id), [])
        return judge(grants, self._enterprise.get(batch.enterprise_id), at).reason

    def enterprise_json(self, enterprise_id: int) -> dict[str, Any]:
        enterprise = self._enterprise[enterprise_id]
        return {"name": enterprise.name, "uscc": enterprise.uscc}

    def product_json(self, product_id: int) -> dict[str, Any]:
        product = self._product[product_id]
        return {
            "name_zh": product.name_zh,
            "name_en": product.name_en,
            "kind": product.kind.value,
            "region": product.region,
            "reg_no": product.reg_no,
        }


def _voided_by_batch(session: Session) -> dict[int, list[list[int]]]:
    voided: dict[int, list[list[int]]] = {}
    rows = session.execute(
        select(VoidedRange.batch_id, VoidedRange.first, VoidedRange.last).order_by(
            VoidedRange.batch_id, VoidedRange.first
        )
    )
    for batch_id, first, last in rows:
        voided.setdefault(batch_id, []).append([first, last])
    return voided


def _compromised_keys(session: Session) -> list[dict[str, Any]]:
    # From the published JWKS itself, so the list and the key set can never tell two stories.
    jwks: Any = export_jwks(session)
    return [
        {"kid": jwk["kid"], "compromised_at": jwk.get("gimark_compromised_at")}
        for jwk in jwks["keys"]
        if jwk.get("gimark_status") == KeyStatus.COMPROMISED.value
    ]


def _batch_json(
    batch: Batch, voided: list[list[int]], registry: _Registry, now: dt.datetime
) -> dict[str, Any]:
    issued = issued_at(batch.approved_at, batch.requested_at)  # as the online judge has it
    standing = standing_of(batch.status)
    assert standing is not None  # only such batches are listed
    return {
        "id": batch.id,
        "first": batch.serial_first,
        "last": batch.serial_last,
        "state": standing.value,
        "voided": voided,
        "key_kid": batch.key_kid,
        "approved_at": None if batch.approved_at is None else _instant(batch.approved_at),
        "enterprise": batch.enterprise_id,
        "product": batch.product_id,
        "authorization_at_issue": registry.reason(batch, issued).value,
        "authorization_now": registry.reason(batch, now).value,
    }


def _instant(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).isoformat()


def canonical_json(value: object) -> bytes:
    """The bytes that are signed: UTF-8 JSON, keys sorted, no whitespace.

    For the values a list holds (strings, integers below 2**53, booleans, null, ASCII keys)
    this is the JSON Canonicalization Scheme of RFC 8785.
    """
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return text.encode("utf-8")


def _signing_input(protected: str, payload: object) -> bytes:
    # RFC 7515 section 5.1: ASCII(BASE64URL(header)) "." BASE64URL(payload).
    return f"{protected}.{b64url(canonical_json(payload))}".encode("ascii")


def sign_status_list(payload: dict[str, Any], signer: ListSigner) -> dict[str, Any]:
    """``{"payload": payload, "signature": "<header>..<signature>"}``: a detached JWS."""
    header = {"alg": "EdDSA", "kid": signer.kid, "typ": JWS_TYPE}
    protected = b64url(canonical_json(header))
    signature = signer.sign(_signing_input(protected, payload))
    return {"payload": payload, "signature": f"{protected}..{b64url(signature)}"}


# --- reading and verifying -------------------------------------------------------------------


def verify_status_list(
    document: object,
    keys: PublicKeySet,
    now: dt.datetime,
    max_age: dt.timedelta = DEFAULT_MAX_AGE,
) -> StatusList:
    """:func:`read_status_list`, then :func:`check_fresh`: a list fit to answer from.

    Raises:
        StatusListFormatError, StatusListUnknownKeyError, StatusListKeyNotTrustedError,
            StatusListSignatureError: as :func:`read_status_list`.
        StaleStatusListError, StatusListFromFutureError: as :func:`check_fresh`.
    """
    status = read_status_list(document, keys)
    check_fresh(status, now, max_age)
    return status


def check_fresh(status: StatusList, now: dt.datetime, max_age: dt.timedelta) -> None:
    """Refuse a list older than ``max_age`` at ``now``, or one from the future.

    Raises:
        StaleStatusListError: the list is older than ``max_age``.
        StatusListFromFutureError: it claims a generation time after now (beyond clock skew).
    """
    if status.generated_at > now + CLOCK_SKEW:
        raise StatusListFromFutureError(
            generated_at=_instant(status.generated_at), now=_instant(now)
        )
    age = status.age(now)
    if age > max_age:
        raise StaleStatusListError(
            generated_at=_instant(status.generated_at),
            age_hours=_hours(age),
            max_age_hours=_hours(max_age),
        )


def _hours(span: dt.timedelta) -> float:
    return round(span.total_seconds() / 3600, 1)


def read_status_list(document: object, keys: PublicKeySet) -> StatusList:
    """Check a signed list's signature against ``keys`` and read it. Freshness is not checked.

    Raises:
        StatusListFormatError: the document is not a status list (of this version).
        StatusListUnknownKeyError: ``keys`` has no key of the list's ``kid``.
        StatusListKeyNotTrustedError: the key is compromised, or another issuer's.
        StatusListSignatureError: the signature does not match: altered or forged.
    """
    # 1. The document: a payload and a detached signature.
    if not isinstance(document, dict) or set(document) != {"payload", "signature"}:
        raise format_error(
            'expected an object with exactly "payload" and "signature"', "应只含签名与内容"
        )
    payload, signature = document["payload"], document["signature"]
    if not isinstance(payload, dict) or not isinstance(signature, str):
        raise format_error("payload must be an object and signature a string", "内容或签名类型错误")
    # 2. The compact JWS with its payload part empty (RFC 7515 appendix F).
    protected, encoded_signature = _split_jws(signature)
    # 3. The protected header: EdDSA, our typ, a kid, nothing critical we do not know.
    kid = _read_header(protected)
    # 4. The key: in the key set and not compromised.
    key = _signing_key(keys, kid)
    # 5. Ed25519 over the header and the canonical payload.
    try:
        key.public_key.verify(
            _decode(encoded_signature, "signature"), _signing_input(protected, payload)
        )
    except InvalidSignature:
        raise StatusListSignatureError() from None
    # 6. The content, and that the key may speak for its issuer.
    status = parse_payload(payload, kid)
    _require_trusted(key, status)
    return status


def _split_jws(signature: str) -> tuple[str, str]:
    parts = signature.split(".")
    if len(parts) != 3 or parts[1] != "" or not parts[0] or not parts[2]:
        raise format_error(
            "signature must be a detached compact JWS: header..signature", "签名格式错误"
        )
    return parts[0], parts[2]


def _read_header(protected: str) -> str:
    if len(protected) > _MAX_HEADER:
        raise format_error("the JWS header is too long", "签名头过长")
    try:
        header = json.loads(_decode(protected, "header"))
    except ValueError:
        raise format_error("the JWS header is not JSON", "签名头不是 JSON") from None
    if not isinstance(header, dict):
        raise format_error("the JWS header is not an object", "签名头格式错误")
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in _ALGORITHMS or header.get("typ") != JWS_TYPE:
        raise format_error(
            f'the JWS header must have alg "EdDSA" and typ "{JWS_TYPE}"', "签名算法或类型错误"
        )
    # RFC 7515 section 4.1.11: a header naming extensions we do not implement must be refused.
    if "crit" in header or "b64" in header:
        raise format_error(
            "the JWS header uses extensions this reader does not know", "签名头含未知扩展"
        )
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise format_error("the JWS header has no kid", "签名头缺少 kid")
    return kid


def _decode(text: str, what: str) -> bytes:
    try:
        return b64url_decode(text)
    except (binascii.Error, ValueError):
        raise format_error(f"the JWS {what} is not base64url", "签名编码错误") from None


def _signing_key(keys: PublicKeySet, kid: str) -> PublicKeyInfo:
    key = next((k for k in keys if k.kid == kid), None)
    if key is None:
        raise StatusListUnknownKeyError(kid=kid[:64])
    if key.status is KeyStatus.COMPROMISED:
        # Whoever holds a compromised key could write any list, and date it as they like.
        raise StatusListKeyNotTrustedError(
            kid=kid, why="the key set marks it compromised", why_zh="公钥集已将其标记为泄露"
        )
    return key


def _require_trusted(key: PublicKeyInfo, status: StatusList) -> None:
    if key.issuer != status.issuer:
        raise StatusListKeyNotTrustedError(
            kid=key.kid,
            why=f"it is a key of {key.issuer!r}, not of the list's issuer {status.issuer!r}",
            why_zh=f"它属于签发方 {key.issuer!r}，而非清单的签发方 {status.issuer!r}",
        )
    if key.kid in status.compromised:
        raise StatusListKeyNotTrustedError(
            kid=key.kid, why="the list itself marks it compromised", why_zh="清单自身将其标记为泄露"
        )
