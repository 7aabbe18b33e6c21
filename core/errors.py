"""The one error tree of gimark.

Every domain error derives from :class:`GimarkError`. An error carries a stable machine
``code`` (what apps and scripts match on) and a message in Chinese and English (what people
read). Services raise; only the edges (CLI, HTTP) turn an error into an exit status or an
HTTP status and print the message.
"""

from __future__ import annotations

from typing import Any, ClassVar


class GimarkError(Exception):
    """Base of all gimark errors.

    Subclasses set ``code``, ``zh`` and ``en``; the two templates are formatted with the
    keyword arguments given to the constructor, so the wording lives in one place.
    """

    code: ClassVar[str] = "error"
    zh: ClassVar[str] = "操作失败"
    en: ClassVar[str] = "the operation failed"
    http_status: ClassVar[int] = 400
    exit_status: ClassVar[int] = 1

    def __init__(self, **params: Any) -> None:
        self.params = params
        super().__init__(self.message("en"))

    def message(self, lang: str = "zh") -> str:
        """The user-facing message in ``lang`` ("zh" or "en"; anything else reads English)."""
        template = self.zh if lang.startswith("zh") else self.en
        return template.format(**self.params)

    def bilingual(self) -> str:
        """Chinese first, then English, on one line: for places that cannot ask the reader."""
        return f"{self.message('zh')} ({self.message('en')})"


class NotFoundError(GimarkError):
    """A row asked for by id does not exist."""

    code = "not_found"
    zh = "未找到{what} {id}"
    en = "{what_en} {id} not found"
    http_status = 404
    exit_status = 3


class ConfigurationError(GimarkError):
    """A setting is missing or invalid."""

    code = "configuration"
    zh = "配置错误：{detail_zh}"
    en = "configuration error: {detail}"
    exit_status = 78  # EX_CONFIG from sysexits.h


class DatabaseUnavailableError(GimarkError):
    """The database could not be reached or answered with an operational error."""

    code = "state_unavailable"
    zh = "数据库暂时无法访问，请稍后再试"
    en = "the database is not reachable right now; please try again later"
    http_status = 503
    exit_status = 75  # EX_TEMPFAIL


def not_found(what_zh: str, what_en: str, ident: object) -> NotFoundError:
    """Build a :class:`NotFoundError` naming the kind of row in both languages."""
    return NotFoundError(what=what_zh, what_en=what_en, id=ident)
