"""Errors of accounts and of the portal's access rules.

Sign-in failures say as little as they can: an unknown username and a wrong password give
the same :class:`InvalidCredentialsError`, so the message cannot be used to find usernames.
"""

from __future__ import annotations

from gimark.core.errors import GimarkError


class AccountError(GimarkError):
    """Base of the account and portal access errors."""

    code = "account"
    zh = "账户操作失败"
    en = "the account operation failed"


class InvalidUsernameError(AccountError):
    """A username that is empty, too long or uses other characters. Param: ``username``."""

    code = "invalid_username"
    zh = "用户名「{username}」无效：应为 3–64 个小写字母、数字或 . _ - @，并以字母或数字开头"
    en = (
        "username {username!r} is invalid: use 3–64 lower-case letters, digits or . _ - @, "
        "starting with a letter or digit"
    )


class UsernameTakenError(AccountError):
    """Another account has this username. Param: ``username``."""

    code = "username_taken"
    zh = "用户名「{username}」已被使用"
    en = "username {username!r} is already taken"
    http_status = 409


class WeakPasswordError(AccountError):
    """The password is too short or too long. Params: ``minimum``, ``maximum``."""

    code = "weak_password"
    zh = "密码长度应为 {minimum}–{maximum} 个字符"
    en = "a password must have {minimum} to {maximum} characters"


class MissingPasswordError(AccountError):
    """No password in GIMARK_ACCOUNT_PASSWORD and no terminal to ask on (or two differed)."""

    code = "missing_password"
    zh = "未提供密码：请设置 GIMARK_ACCOUNT_PASSWORD 或在终端中输入（两次须一致）"
    en = "no password: set GIMARK_ACCOUNT_PASSWORD or type it twice on a terminal"


class RolePartyError(AccountError):
    """The role and the party an account acts for do not fit together.

    Params: ``role``, ``detail`` (English) and ``detail_zh``.
    """

    code = "role_party_mismatch"
    zh = "角色 {role} 的账户{detail_zh}"
    en = "an account with role {role} {detail}"


class InvalidCredentialsError(AccountError):
    """Unknown username or wrong password: deliberately not told apart."""

    code = "invalid_credentials"
    zh = "用户名或密码错误"
    en = "wrong username or password"
    http_status = 401


class AccountInactiveError(AccountError):
    """The password was right but the account is deactivated. Param: ``username``."""

    code = "account_inactive"
    zh = "账户「{username}」已停用，请联系管理员"
    en = "account {username!r} is deactivated; please contact the administrator"
    http_status = 403


class RoleRequiredError(AccountError):
    """The signed-in account lacks the role a page needs. Param: ``role``."""

    code = "forbidden"
    zh = "此页面仅限{role_zh}账户访问"
    en = "this page is only for {role} accounts"
    http_status = 403


class BatchNotAssignedError(AccountError):
    """A printer asked for a batch assigned to another printer (or to none). Param: ``id``."""

    code = "batch_not_assigned"
    zh = "批次 {id} 未分配给您的印制企业，无法下载其文件"
    en = "batch {id} is not assigned to your printing company; its files are not available to you"
    http_status = 403
