"""Languages of the web pages: Chinese (zh_CN) first, English on request.

Which language a request gets, in order: ``?lang=`` (also remembered in the ``gm_lang``
cookie), then that cookie, then the best match of Accept-Language, then zh_CN. Source strings
are English (``_("…")``); the Chinese catalog carries the rest, and English needs none. Babel
spells zh_CN as zh_Hans_CN and looks catalogs up by that name, so the catalog lives in
``translations/zh_Hans_CN/``. ``make translations`` extracts, updates and compiles it.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Flask, Response, request
from flask_babel import Babel, get_locale

from gimark.core.errors import GimarkError

LOCALES = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"
HTML_LANG = {"zh_CN": "zh-CN", "en": "en"}  # BCP 47 tags for <html lang>
LANG_COOKIE = "gm_lang"
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600  # seconds


def normalize(tag: str | None) -> str | None:
    """The supported locale a tag asks for ("zh", "zh-cn", "ZH_CN", "en-US" …), else None."""
    value = (tag or "").strip().lower().replace("-", "_")
    if value == "zh" or value.startswith("zh_"):
        return "zh_CN"
    if value == "en" or value.startswith("en_"):
        return "en"
    return None


def select_locale() -> str:
    """Flask-Babel's locale selector (see the module docstring for the order)."""
    for asked in (request.args.get("lang"), request.cookies.get(LANG_COOKIE)):
        found = normalize(asked)
        if found is not None:
            return found
    # In the reader's order of preference (Werkzeug sorts by quality), the first language we
    # have. Any Chinese (zh-TW, zh-HK, zh) counts as zh_CN: a Chinese reader is better served
    # by simplified Chinese than by an English listed after it.
    for tag, quality in request.accept_languages:
        found = normalize(tag) if quality > 0 else None
        if found is not None:
            return found
    return DEFAULT_LOCALE


def locale() -> str:
    """The request's locale: "zh_CN" or "en"."""
    # Babel spells zh_CN as zh_Hans_CN; only the language matters between our two.
    chosen = get_locale()
    return "en" if chosen is not None and chosen.language == "en" else DEFAULT_LOCALE


def lang() -> str:
    """The request's language as GimarkError.message takes it: "zh" or "en"."""
    return "zh" if locale().startswith("zh") else "en"


def error_message(exc: GimarkError) -> str:
    """A domain error's message in the request's language."""
    return exc.message(lang())


def pick(zh: str | None, en: str | None) -> str:
    """The text in the request's language, falling back to the other one."""
    first, second = (zh, en) if lang() == "zh" else (en, zh)
    return first or second or ""


def _remember_choice(response: Response) -> Response:
    chosen = normalize(request.args.get("lang"))
    if chosen is not None and request.cookies.get(LANG_COOKIE) != chosen:
        response.set_cookie(
            LANG_COOKIE, chosen, max_age=LANG_COOKIE_MAX_AGE, httponly=True, samesite="Lax"
        )
    if response.mimetype == "text/html":
        # The same URL answers in different languages: shared caches must keep them apart.
        response.vary.update(("Accept-Language", "Cookie"))
    return response


def lang_url(wanted: str) -> str:
    """This page in locale ``wanted``: the same path and query, with ``lang`` replaced."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    return "?" + urlencode([*args, ("lang", wanted)])


def _template_globals() -> dict[str, object]:
    return {
        "locale": locale,
        "html_lang": lambda: HTML_LANG[locale()],
        "lang_url": lang_url,
        "pick": pick,
    }


def init_app(app: Flask) -> None:
    """Install Flask-Babel with gimark's locale rules."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai")  # the users' clock
    Babel(app, locale_selector=select_locale)
    app.after_request(_remember_choice)
    app.context_processor(_template_globals)
