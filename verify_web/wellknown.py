"""``/.well-known/gimark/jwks.json``: the published verification keys."""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, jsonify, request
from werkzeug.wrappers import Response

from gimark.keys.services import export_jwks
from gimark.verify_web.extensions import database

bp = Blueprint("wellknown", __name__)

JWKS_MAX_AGE = 300  # seconds: a compromised key must reach offline verifiers within minutes


@bp.get("/.well-known/gimark/jwks.json")
def jwks() -> Response:
    """The JWKS, cacheable and conditional (ETag)."""
    with database(current_app).session() as s:
        document = export_jwks(s)
    response = jsonify(document)
    response.cache_control.public = True
    response.cache_control.max_age = JWKS_MAX_AGE
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.add_etag()
    return response.make_conditional(request)


def init_app(app: Flask) -> None:
    """Register the blueprint."""
    app.register_blueprint(bp)
