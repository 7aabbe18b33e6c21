"""``GET /api/v1/openapi.json``: the public API described as OpenAPI 3.1.

Written by hand (three operations do not need a framework); the bodies' schemas live in
:mod:`gimark.verify_web.openapi_schemas`. ``docs/`` and apps' clients read this document.
"""

from __future__ import annotations

from typing import Any, Final

from flask import Blueprint, Flask, jsonify
from werkzeug.wrappers import Response

from gimark.verify_web.openapi_schemas import INTEGER, SCHEMAS, STRING, Schema, ref
from gimark.verify_web.reports import errors as report_errors
from gimark.verify_web.reports.errors import ReportError
from gimark.verify_web.reports.services import LIMITS

bp = Blueprint("openapi", __name__, url_prefix="/api/v1")
API_VERSION: Final = "1.0.0"  # of the contract, not of the package
MAX_AGE: Final = 3600  # seconds: it changes only with a release


def _json(schema: Schema, description: str, **extra: Any) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}} | extra


def _query(name: str, schema: Schema, description: str, required: bool = False) -> Schema:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "schema": schema,
        "description": description,
    }


def _codes(status: int) -> str:
    """The error codes a report can be refused with at ``status`` (from the error classes)."""
    classes = [c for c in vars(report_errors).values() if isinstance(c, type)]
    found = [c for c in classes if issubclass(c, ReportError) and c.http_status == status]
    return ", ".join(sorted(c.code for c in found if c is not ReportError))


_ERROR: Final = ref("Error")
_VERIFY: Final = {
    "summary": "The verdict of a scanned QR text or a typed serial",
    "description": (
        "Records the scan (a typed serial is only looked up). Every verdict is an answer: "
        "200 for all, including not_ours. The scanner is the first-party gm_sid cookie, set "
        "when absent."
    ),
    "operationId": "verify",
    "parameters": [
        _query("code", {"type": "string", "maxLength": 2048}, "QR text or printed serial", True),
        _query("lat", {"type": "number", "minimum": -90, "maximum": 90}, "latitude, degrees"),
        _query("lon", {"type": "number", "minimum": -180, "maximum": 180}, "longitude, degrees"),
        _query(
            "lang",
            {"type": "string", "enum": ["zh_CN", "en"]},
            "language of the HTML page; the JSON always carries zh and en",
        ),
    ],
    "responses": {
        "200": _json(
            ref("Verify"),
            "the verdict, its reasons and what is known of the label",
            headers={
                "Retry-After": {"description": "with cannot_verify: seconds", "schema": INTEGER},
                "Set-Cookie": {
                    "description": "gm_sid, when the request had none",
                    "schema": STRING,
                },
            },
        )
    },
}
_REPORT: Final = {
    "summary": "Report a suspect product",
    "description": (
        f"Text up to {LIMITS.text_chars} characters, contact up to {LIMITS.contact_chars}; "
        f"a JPEG, PNG or WebP photo up to {LIMITS.photo_bytes // 2**20} MB and "
        f"{LIMITS.photo_side} px a side (its metadata is removed). The code is judged, not "
        "recorded as a scan."
    ),
    "operationId": "createReport",
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": ref("ReportJson")},
            "multipart/form-data": {
                "schema": ref("ReportForm"),
                "encoding": {"photo": {"contentType": "image/jpeg, image/png, image/webp"}},
            },
        },
    },
    "responses": {
        "201": _json(ref("ReportReceived"), "stored"),
        "400": _json(_ERROR, "refused, nothing stored: " + _codes(400)),
        "413": _json(_ERROR, "too large, nothing stored: " + _codes(413)),
        "503": _json(_ERROR, "the database is away (nothing stored)"),
    },
}
_JWKS: Final = {
    "summary": "The public keys that verify codes (JWKS, OKP/Ed25519)",
    "operationId": "jwks",
    "responses": {"200": _json(ref("Jwks"), "every key that signed codes, with its status")},
}

DOCUMENT: Final[dict[str, Any]] = {
    "openapi": "3.1.0",
    "info": {
        "title": "gimark: geographical-indication special-mark label verification",
        "version": API_VERSION,
        "description": "地理标志专用标志标签查验 — verdicts, reports and the verification keys.",
        "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
    },
    "servers": [{"url": "/"}],
    "paths": {
        "/api/v1/verify": {"get": _VERIFY},
        "/api/v1/reports": {"post": _REPORT},
        "/.well-known/gimark/jwks.json": {"get": _JWKS},
    },
    "components": {"schemas": SCHEMAS},
}


@bp.get("/openapi.json")
def document() -> Response:
    """The OpenAPI document."""
    response = jsonify(DOCUMENT)
    response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE
    response.headers["Access-Control-Allow-Origin"] = "*"  # for API explorers on other sites
    return response


def init_app(app: Flask) -> None:
    """Register the document's route."""
    app.register_blueprint(bp)
