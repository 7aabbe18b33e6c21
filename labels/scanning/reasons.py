"""What verdicts and reason codes say to the person holding the package, in Chinese and English.

One table for every place that shows a verdict: the verification page, the JSON API and the
offline ``gimark verify``. Consumers read these words, often in a shop and on a phone: each
says what was found and, where it matters, what it means for the product in their hand, and
none of them claims more than the check established (a code that cannot be checked now is
not called fake).
"""

from __future__ import annotations

from typing import Final, NamedTuple

__all__ = [
    "DUPLICATE_REASONS",
    "REASONS",
    "UNAUTHORIZED_REASONS",
    "VERDICTS",
    "Words",
    "reason_json",
    "verdict_json",
]

# The reason codes by the verdict they lead to; every one has its words in REASONS, as do
# "not_ours" and "state_unavailable", the reasons of not_ours and cannot_verify.
DUPLICATE_REASONS: Final = ("many_scanners", "impossible_travel", "outside_sales_region")
UNAUTHORIZED_REASONS: Final = frozenset(
    {
        "bad_signature",
        "unknown_key",
        "key_compromised",
        "serial_not_issued",
        "batch_not_active",
        "batch_revoked",
        "serial_voided",
        "authorization_suspended",
        "authorization_revoked",
        "authorization_expired",
        "not_authorized",
        "malformed",
    }
)


class Words(NamedTuple):
    """One message in both languages."""

    zh: str
    en: str


VERDICTS: Final[dict[str, Words]] = {
    "genuine": Words("正品标签", "Genuine label"),
    "duplicate_suspected": Words("疑似复制的标签", "Suspected copied label"),
    "unauthorized": Words("未经授权的标签", "Unauthorized label"),
    "not_ours": Words("不是地理标志专用标志码", "Not a geographical-indication label code"),
    "cannot_verify": Words("暂时无法核验", "Cannot be verified right now"),
}

REASONS: Final[dict[str, Words]] = {
    # What was scanned or typed.
    "malformed": Words(
        "无法读取此码：它可能已损坏、不完整，或序列号输入有误，请与标签核对",
        "This code cannot be read: it may be damaged or incomplete, or the serial number was "
        "mistyped; please compare it with the label",
    ),
    "not_ours": Words(
        "这不是地理标志专用标志的防伪码，本平台无法查验",
        "This is not a geographical-indication special-mark label code, so this service "
        "cannot check it",
    ),
    # The signature and its key.
    "bad_signature": Words(
        "此码的防伪签名不正确，标签可能是伪造的或被篡改过",
        "This code's security signature is wrong: the label may be forged or altered",
    ),
    "unknown_key": Words(
        "此码不是用已知发码机构的密钥签发的，标签可能是伪造的",
        "This code was not signed with any known issuer's key: the label may be forged",
    ),
    "key_compromised": Words(
        "签发此码的密钥已泄露，此码签发于泄露之后，不能证明标签为真",
        "The key that signed this code was compromised, and this code was issued after "
        "that, so it cannot prove the label is genuine",
    ),
    # The serial and its batch.
    "serial_not_issued": Words(
        "此序列号从未签发过，正规标签不会使用它",
        "This serial number was never issued; no genuine label carries it",
    ),
    "batch_not_active": Words(
        "此标签所在的批次尚未交付启用，不应出现在出售的商品上",
        "The batch this label belongs to has not been delivered and released yet, so it "
        "should not be on a product for sale",
    ),
    "batch_revoked": Words(
        "此标签所在的批次已被撤销，标签不再有效",
        "The batch this label belongs to has been revoked; the label is no longer valid",
    ),
    "serial_voided": Words(
        "此标签在印制时已作废，不应出现在商品上",
        "This label was voided as spoiled during printing and should not be on a product",
    ),
    # The enterprise's right to use the mark.
    "authorization_suspended": Words(
        "使用此标签的企业已被暂停使用地理标志专用标志",
        "The enterprise using this label has been suspended from using the "
        "geographical-indication special mark",
    ),
    "authorization_revoked": Words(
        "使用此标签的企业已被撤销地理标志专用标志使用资格",
        "The enterprise using this label has had its right to use the "
        "geographical-indication special mark revoked",
    ),
    "authorization_expired": Words(
        "签发此标签时，该企业在此产品上使用专用标志的授权已经到期",
        "When this label was issued, the enterprise's authorization to use the special mark "
        "on this product had expired",
    ),
    "not_authorized": Words(
        "签发此标签时，该企业未获授权在此产品上使用专用标志",
        "When this label was issued, the enterprise was not authorized to use the special "
        "mark on this product",
    ),
    # Signs of copying in the scans of a genuine code.
    "many_scanners": Words(
        "此码被很多不同的人扫描过，远多于一件商品的正常情况，标签可能被复制",
        "This code has been scanned by many different people, far more than one package "
        "would see: the label may have been copied",
    ),
    "impossible_travel": Words(
        "此码在短时间内于相距很远的地方被扫描，同一件商品不可能这样移动，标签可能被复制",
        "This code was scanned in places too far apart for the time between the scans; one "
        "package cannot travel like that, so the label may have been copied",
    ),
    "outside_sales_region": Words(
        "此码在远离该产品销售区域的地方被扫描，标签可能被复制",
        "This code was scanned far outside the product's sales area: the label may have been "
        "copied",
    ),
    # Nothing can be said now.
    "state_unavailable": Words(
        "暂时无法查询此标签的当前状态，现在不能确认真伪；这并不表示标签是假的，请稍后再试",
        "This label's current state cannot be looked up right now, so it cannot be confirmed "
        "as genuine; this does not mean it is fake. Please try again later",
    ),
}


def reason_json(code: str) -> dict[str, str]:
    """``{"code", "zh", "en"}`` of a reason code, as the verify JSON carries it.

    Raises:
        KeyError: ``code`` is not a reason code (a program error: every code has words).
    """
    words = REASONS[code]
    return {"code": code, "zh": words.zh, "en": words.en}


def verdict_json(verdict: str) -> dict[str, str]:
    """``{"code", "zh", "en"}`` of a verdict name.

    Raises:
        KeyError: ``verdict`` is not a verdict name.
    """
    words = VERDICTS[verdict]
    return {"code": verdict, "zh": words.zh, "en": words.en}
