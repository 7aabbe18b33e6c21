"""Errors at the HTTP edge: a domain error becomes a status and a bilingual JSON body.

Nothing reaches a user as a stack trace: unexpected errors are logged and answered 500 with
a plain message.
"""

from __future__ import annotations

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from gimark.core.errors import GimarkError


def error_body(code: str, zh: str, en: str) -> dict[str, object]:
    """The JSON shape of every API error."""
    return {"error": {"code": code, "zh": zh, "en": en}}


def _domain_error(exc: GimarkError) -> tuple[Response, int]:
    return jsonify(error_body(exc.code, exc.message("zh"), exc.message("en"))), exc.http_status


def _http_error(exc: HTTPException) -> tuple[Response, int]:
    status = exc.code or 500
    name = (exc.name or "error").lower().replace(" ", "_")
    return jsonify(error_body(name, exc.name or "错误", exc.description or exc.name or "")), status


def _unexpected(exc: Exception) -> tuple[Response, int]:
    from flask import current_app

    current_app.logger.exception("unhandled error")
    body = error_body(
        "internal", "服务器内部错误，请稍后再试", "internal error; please try again later"
    )
    return jsonify(body), 500


def init_app(app: Flask) -> None:
    """Register the handlers."""
    app.register_error_handler(GimarkError, _domain_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
