"""Errors of the registry and traceability domain (products, enterprises, regions)."""

from __future__ import annotations

from gimark.core.errors import GimarkError


class RegistryError(GimarkError):
    """Base of registry errors."""

    code = "registry_error"
    zh = "登记信息有误"
    en = "the registry data is not valid"


class InvalidCreditCodeError(RegistryError):
    """A 统一社会信用代码 does not follow GB 32100-2015.

    Constructed with ``uscc`` (the code as checked: normalized, cut short if very long),
    ``reason`` and ``reason_zh`` (what exactly is wrong), so that the person typing it can fix
    the one character at fault.
    """

    code = "invalid_credit_code"
    zh = "统一社会信用代码“{uscc}”无效：{reason_zh}"
    en = "the unified social credit code '{uscc}' is not valid: {reason}"


class InvalidRegionError(RegistryError):
    """A GB/T 2260 administrative region code is malformed or names no known province."""

    code = "invalid_region"
    zh = "行政区划代码“{region}”无效：{reason_zh}"
    en = "the administrative region code '{region}' is not valid: {reason}"


# --- registry operations (trace.services, trace.authorizations) ------------------------------


class MissingValueError(RegistryError):
    """A required text field is empty (or only spaces)."""

    code = "missing_value"
    zh = "{field_zh}不能为空"
    en = "{field} must not be empty"


class ValueTooLongError(RegistryError):
    """A text field is longer than its column holds."""

    code = "value_too_long"
    zh = "{field_zh}不能超过 {limit} 个字符"
    en = "{field} must not be longer than {limit} characters"


class DuplicateRegistrationNumberError(RegistryError):
    """Another GI product already has this registration number."""

    code = "duplicate_reg_no"
    zh = "登记号“{reg_no}”已被产品 {existing_id} 使用"
    en = "registration number '{reg_no}' is already used by product {existing_id}"
    http_status = 409


class DuplicateCreditCodeError(RegistryError):
    """An enterprise (or printer) with this credit code is already registered."""

    code = "duplicate_credit_code"
    zh = "统一社会信用代码 {uscc} 已登记为{what} {existing_id}"
    en = "credit code {uscc} is already registered as {what_en} {existing_id}"
    http_status = 409


class IllegalTransitionError(RegistryError):
    """A status change that the current status does not allow (e.g. reinstating an active one)."""

    code = "illegal_transition"
    zh = "{what} {id} 当前状态为“{status_zh}”（自 {since} 起），不能{action_zh}"
    en = "{what_en} {id} is {status} (since {since}) and cannot be {action_en}"
    http_status = 409


class RevocationFinalError(IllegalTransitionError):
    """Anything after a revocation: revocation is final (一票否决)."""

    code = "revocation_final"
    zh = "{what} {id} 已于 {since} 撤销；撤销为最终决定（一票否决），不能{action_zh}"
    en = "{what_en} {id} was revoked at {since}; revocation is final, it cannot be {action_en}"


class ChangeOutOfOrderError(RegistryError):
    """A status change dated before the latest recorded one: the history only grows forward."""

    code = "change_out_of_order"
    zh = (
        "生效时间 {effective_at} 早于{what} {id} 最近一次状态变更"
        "（{last_action_zh}，{last_at} 生效）；状态变更只能按生效时间顺序追加"
    )
    en = (
        "effective time {effective_at} is before the latest status change of {what_en} {id} "
        "({last_action}, effective {last_at}); changes can only be added in order"
    )
    http_status = 409


class EnterpriseNotActiveError(RegistryError):
    """A suspended or revoked enterprise cannot be given a new authorization."""

    code = "enterprise_not_active"
    zh = "企业 {id} 当前状态为“{status_zh}”，不能授权"
    en = "enterprise {id} is {status} and cannot be authorized"
    http_status = 409


class InvalidValidityError(RegistryError):
    """An authorization period that ends before (or when) it starts."""

    code = "invalid_validity"
    zh = "授权有效期为空：截止时间 {valid_until}（不含）不晚于起始时间 {valid_from}"
    en = (
        "the validity period is empty: its end {valid_until} (exclusive) "
        "is not after its start {valid_from}"
    )


class OverlappingAuthorizationError(RegistryError):
    """The enterprise already holds a live authorization for the product over that period."""

    code = "overlapping_authorization"
    zh = "企业 {enterprise_id} 已有产品 {product_id} 的授权 {existing_id}，有效期与之重叠"
    en = (
        "enterprise {enterprise_id} already holds authorization {existing_id} "
        "for product {product_id} over an overlapping period"
    )
    http_status = 409


class NotAuthorizedError(RegistryError):
    """The enterprise was not allowed to use the mark on the product at that moment.

    ``code`` is the reason (see :func:`gimark.trace.authorizations.require_authorized`);
    the subclasses below carry the other reasons.
    """

    code = "not_authorized"
    zh = "企业 {enterprise_id} 在 {at} 未获授权在产品 {product_id} 上使用专用标志"
    en = (
        "enterprise {enterprise_id} was not authorized to use the special mark "
        "on product {product_id} at {at}"
    )
    http_status = 403


class AuthorizationSuspendedError(NotAuthorizedError):
    """The authorization (or the enterprise) was suspended at that moment."""

    code = "authorization_suspended"
    zh = "企业 {enterprise_id} 在产品 {product_id} 上的用标授权在 {at} 处于暂停状态"
    en = (
        "the authorization of enterprise {enterprise_id} for product {product_id} "
        "was suspended at {at}"
    )


class AuthorizationRevokedError(NotAuthorizedError):
    """The authorization (or the enterprise) was revoked at that moment."""

    code = "authorization_revoked"
    zh = "企业 {enterprise_id} 在产品 {product_id} 上的用标授权在 {at} 已被撤销"
    en = (
        "the authorization of enterprise {enterprise_id} for product {product_id} "
        "was revoked at {at}"
    )


class AuthorizationExpiredError(NotAuthorizedError):
    """The authorization's validity period had ended at that moment."""

    code = "authorization_expired"
    zh = "企业 {enterprise_id} 在产品 {product_id} 上的用标授权在 {at} 已过期"
    en = (
        "the authorization of enterprise {enterprise_id} for product {product_id} "
        "had expired at {at}"
    )


# --- places: the operator's IP-to-region data (trace.ip_regions, trace.ip2region) ------------


class PlaceDataError(GimarkError):
    """The IP-to-region file the operator configured cannot be used.

    Constructed with ``path`` and ``detail`` / ``detail_zh``: for a CIDR table, every refused
    line with its number (the first 20), so that the file can be fixed in one pass.
    """

    code = "place_data"
    zh = "IP 地址库 {path} 无法使用：{detail_zh}"
    en = "the IP region data {path} cannot be used: {detail}"
    exit_status = 78  # EX_CONFIG, as ConfigurationError: the operator's file is at fault
