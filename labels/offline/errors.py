"""Errors of offline checking: a status list that must not be used."""

from __future__ import annotations

from gimark.core.errors import GimarkError


class StatusListError(GimarkError):
    """Base of the errors raised while reading a status list: it must not be used."""

    code = "status_list"
    zh = "状态清单无法使用"
    en = "the status list cannot be used"
    exit_status = 65  # EX_DATAERR: the input file is wrong


class StatusListFormatError(StatusListError):
    """The document is not a status list this version reads. Params: ``detail``,
    ``detail_zh``."""

    code = "status_list_malformed"
    zh = "状态清单格式无效：{detail_zh}"
    en = "the status list is not valid: {detail}"


class StatusListSignatureError(StatusListError):
    """The signature does not match the list: it was altered after signing, or forged."""

    code = "status_list_bad_signature"
    zh = "状态清单的签名校验失败：清单在签发后被改动过，或是伪造的"
    en = "the status list's signature does not check out: it was altered after signing, or forged"


class StatusListUnknownKeyError(StatusListError):
    """The list is signed by a key the key set does not hold. Param: ``kid``."""

    code = "status_list_unknown_key"
    zh = "状态清单由未知密钥 {kid} 签名：请使用签发方公布的公钥集，或重新下载状态清单"
    en = (
        "the status list is signed by key {kid}, which is not in the key set: "
        "use the issuer's published key set, or download the status list again"
    )


class StatusListKeyNotTrustedError(StatusListUnknownKeyError):
    """The signing key is known but may not vouch for this list (it is compromised, or it
    belongs to another issuer). Params: ``kid``, ``why``, ``why_zh``."""

    code = "status_list_key_not_trusted"
    zh = "状态清单的签名密钥 {kid} 不可信：{why_zh}"
    en = "the status list's signing key {kid} cannot be trusted: {why}"


class StaleStatusListError(StatusListError):
    """The list is older than the verifier accepts. Params: ``generated_at``, ``age_hours``,
    ``max_age_hours``."""

    code = "status_list_stale"
    zh = "状态清单生成于 {generated_at}，已过去 {age_hours} 小时，超过允许的 {max_age_hours} 小时"
    en = (
        "the status list was generated at {generated_at}, {age_hours} hours ago, "
        "more than the {max_age_hours} hours allowed"
    )


class StatusListFromFutureError(StatusListError):
    """The list claims to be generated later than now: the verifier's clock is wrong (or the
    list is). Params: ``generated_at``, ``now``."""

    code = "status_list_from_future"
    zh = "状态清单的生成时间 {generated_at} 晚于本机当前时间 {now}：请检查本机时钟"
    en = (
        "the status list says it was generated at {generated_at}, after this computer's "
        "time {now}: check this computer's clock"
    )


class StatusListUnavailableError(StatusListError):
    """The service cannot sign a status list right now (no key or no passphrase)."""

    code = "status_list_unavailable"
    zh = "暂时无法提供状态清单，请稍后再试"
    en = "the status list is not available right now; please try again later"
    http_status = 503
    exit_status = 75  # EX_TEMPFAIL
