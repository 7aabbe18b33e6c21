"""The JSON API: ``GET /api/v1/verify``."""

from __future__ import annotations

from typing import Final

import orjson
from flask import Blueprint, Flask, current_app, request
from werkzeug.wrappers import Response

from gimark.verify_web.scan import scan_answered, scan_request
from gimark.verify_web.throttle import limit_typed_lookup
from gimark.verify_web.verdict_json import outcome_json

bp = Blueprint("api", __name__, url_prefix="/api/v1")
_JSON_OPTIONS: Final = orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE


@bp.get("/verify")
def verify() -> Response:
    """The verdict of ``?code=`` (a scanned QR text or a typed serial) as JSON.

    Raises:
        RateLimitedError: too many typed serials from this address (429, Retry-After).
    """
    code = request.args.get("code", "")
    limit_typed_lookup(code)
    outcome, scanner, new = scan_request(code)
    # orjson, not the app's JSON provider: the same bytes (sorted keys, compact, UTF-8, a
    # final newline) from a fifth of the work, on the endpoint every scan calls.
    body = orjson.dumps(outcome_json(outcome), option=_JSON_OPTIONS)
    response = current_app.response_class(body, mimetype="application/json")
    if outcome.verdict == "cannot_verify":
        response.headers["Retry-After"] = "30"
    return scan_answered(response, scanner, new)


def init_app(app: Flask) -> None:
    """Register the API."""
    app.register_blueprint(bp)
