"""The JSON API: ``GET /api/v1/verify``."""

from __future__ import annotations

from typing import Final

import orjson
from flask import Blueprint, Flask, current_app, jsonify, request
from werkzeug.wrappers import Response

from gimark.core.db import utcnow
from gimark.core.settings import Settings
from gimark.labels.duplicates import DetectionConfig
from gimark.labels.scanning import Outcome, ScanService
from gimark.verify_web.extensions import database
from gimark.verify_web.scanners import remember_scanner, scanner_id, scanning_of
from gimark.verify_web.verdict_json import outcome_json

bp = Blueprint("api", __name__, url_prefix="/api/v1")
_JSON_OPTIONS: Final = orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE
SCANS_EXTENSION: Final = "gimark_scans"


def scan_request(text: str) -> tuple[Outcome, str, bool]:
    """Judge and record ``text`` for this request: (outcome, scanner, scanner is new)."""
    scanner, new = scanner_id(request)
    service: ScanService = current_app.extensions[SCANS_EXTENSION]
    return service.scan(text, scanning_of(request, scanner), utcnow()), scanner, new


def scan_answered(response: Response, scanner: str, new: bool) -> Response:
    """``response`` as the answer to a scan (from :func:`scan_request`): never cached, and
    setting the scanner's cookie if it is new."""
    response.headers["Cache-Control"] = "no-store"  # every scan is a new observation
    if new:
        remember_scanner(response, scanner, current_app.config["GIMARK_SETTINGS"])
    return response


@bp.get("/verify")
def verify() -> Response:
    """The verdict of ``?code=`` (a scanned QR text or a typed serial) as JSON."""
    outcome, scanner, new = scan_request(request.args.get("code", ""))
    # orjson, not the app's JSON provider: the same bytes (sorted keys, compact, UTF-8, a
    # final newline) from a fifth of the work, on the endpoint every scan calls.
    body = orjson.dumps(outcome_json(outcome), option=_JSON_OPTIONS)
    response = current_app.response_class(body, mimetype="application/json")
    if outcome.verdict == "cannot_verify":
        response.headers["Retry-After"] = "30"
    return scan_answered(response, scanner, new)


@bp.get("/ping")
def ping() -> Response:
    """The trivial endpoint the benchmark compares against (touches nothing)."""
    return jsonify({"ok": True})


def _detection(settings: Settings) -> DetectionConfig:
    if settings.detection is None:
        return DetectionConfig()
    import json

    return DetectionConfig.from_mapping(json.loads(settings.detection.read_text("utf-8")))


def init_app(app: Flask) -> None:
    """Register the API and its scan service."""
    settings: Settings = app.config["GIMARK_SETTINGS"]
    app.extensions[SCANS_EXTENSION] = ScanService(
        database(app), settings.bases, _detection(settings)
    )
    app.register_blueprint(bp)
