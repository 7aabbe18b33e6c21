"""Errors at the HTTP edge: a domain error becomes a status and a bilingual JSON body.

Pages meant for people (the portal, the verification page) register themselves with
:func:`serve_html_errors`: their failures answer a page in the reader's language, with the
other language beneath it. Everything else (the API, unknown URLs) stays JSON.

Nothing reaches a user as a stack trace: unexpected errors are logged and answered 500 with
a plain message.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app, jsonify, render_template, request
from flask_babel import force_locale, lazy_gettext
from flask_babel.speaklater import LazyString
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from gimark.core.errors import GimarkError
from gimark.verify_web.i18n import LOCALES, locale

HTML_ERRORS = "gimark_html_errors"  # app.extensions: (blueprint names, URL prefixes)

_HTTP_TEXT = {
    400: lazy_gettext("The request could not be understood."),
    403: lazy_gettext("You are not allowed to see this page."),
    404: lazy_gettext("This page does not exist."),
    405: lazy_gettext("This page cannot be used this way."),
    413: lazy_gettext("What you sent is too large."),
    500: lazy_gettext("Something went wrong on our side. Please try again later."),
}
_FAILED = lazy_gettext("The request failed.")
_CSRF_TEXT = lazy_gettext(
    "This form has expired or did not come from this site. Please reload the page and try again."
)


def error_body(code: str, zh: str, en: str) -> dict[str, object]:
    """The JSON shape of every API error."""
    return {"error": {"code": code, "zh": zh, "en": en}}


def serve_html_errors(app: Flask, blueprint: Blueprint) -> None:
    """Answer the failures of ``blueprint`` (and unknown URLs under its prefix) with pages."""
    names, prefixes = app.extensions.setdefault(HTML_ERRORS, (set(), set()))
    names.add(blueprint.name)
    if blueprint.url_prefix:
        prefixes.add(blueprint.url_prefix.rstrip("/") + "/")


def _wants_html() -> bool:
    names, prefixes = current_app.extensions.get(HTML_ERRORS, ((), ()))
    return request.blueprint in names or request.path.startswith(tuple(prefixes))


def _page(status: int, code: str, texts: dict[str, str]) -> tuple[str, int]:
    """``texts`` maps each locale to the message; the reader's comes first."""
    first = locale()
    others = [(loc, texts[loc]) for loc in LOCALES if loc != first and texts[loc] != texts[first]]
    page = render_template(
        "error.html", status=status, code=code, message=texts[first], others=others
    )
    return page, status


def _translated(text: LazyString) -> dict[str, str]:
    texts = {}
    for loc in LOCALES:
        with force_locale(loc):
            texts[loc] = str(text)
    return texts


def retry_after(exc: GimarkError) -> dict[str, str]:
    """The Retry-After header of an error that says when to retry (a rate limit's), else none."""
    seconds = exc.params.get("retry_after")
    return {"Retry-After": str(seconds)} if isinstance(seconds, int) else {}


def _domain_error(exc: GimarkError) -> tuple[Response | str, int, dict[str, str]]:
    if _wants_html():
        texts = {loc: exc.message("zh" if loc.startswith("zh") else "en") for loc in LOCALES}
        return (*_page(exc.http_status, exc.code, texts), retry_after(exc))
    body = jsonify(error_body(exc.code, exc.message("zh"), exc.message("en")))
    return body, exc.http_status, retry_after(exc)


def _http_error(exc: HTTPException) -> tuple[Response | str, int]:
    status = exc.code or 500
    name = (exc.name or "error").lower().replace(" ", "_")
    if _wants_html():
        text = _CSRF_TEXT if isinstance(exc, CSRFError) else _HTTP_TEXT.get(status, _FAILED)
        return _page(status, name, _translated(text))
    return jsonify(error_body(name, exc.name or "错误", exc.description or exc.name or "")), status


def _unexpected(exc: Exception) -> tuple[Response | str, int]:
    current_app.logger.exception("unhandled error")
    if _wants_html():
        return _page(500, "internal", _translated(_HTTP_TEXT[500]))
    body = error_body(
        "internal", "服务器内部错误，请稍后再试", "internal error; please try again later"
    )
    return jsonify(body), 500


def init_app(app: Flask) -> None:
    """Register the handlers."""
    app.register_error_handler(GimarkError, _domain_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
