"""``/.well-known/gimark/``: the published verification keys and the signed status list."""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, jsonify, request
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from gimark.core.db import utcnow
from gimark.core.settings import Settings
from gimark.keys.errors import KeyringError
from gimark.keys.keyring import Signer
from gimark.keys.services import export_jwks, load_signer
from gimark.labels.offline.errors import StatusListUnavailableError
from gimark.labels.offline.statuslist import PublishedList
from gimark.verify_web.extensions import database

bp = Blueprint("wellknown", __name__)

JWKS_MAX_AGE = 300  # seconds: a compromised key must reach offline verifiers within minutes
STATUS_MAX_AGE = 300  # seconds: as the keys, a revocation must reach them within minutes
STATUS_EXTENSION = "gimark_status_list"


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


@bp.get("/.well-known/gimark/status.json")
def status_list() -> Response:
    """The signed status list (docs/status-list.md), cacheable and conditional (ETag)."""
    settings: Settings = current_app.config["GIMARK_SETTINGS"]
    published: PublishedList = current_app.extensions[STATUS_EXTENSION]
    with database(current_app).session() as s:
        document = published.current(
            s, utcnow(), lambda: _signer(s, settings), bases=settings.bases
        )
    response = jsonify(document)
    response.cache_control.public = True
    response.cache_control.max_age = STATUS_MAX_AGE
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.add_etag()
    return response.make_conditional(request)


def _signer(session: Session, settings: Settings) -> Signer:
    # A service without its key passphrase still verifies; it just cannot sign lists.
    if settings.key_passphrase is None:
        raise StatusListUnavailableError()
    try:
        return load_signer(session, settings, settings.key_passphrase)
    except KeyringError as exc:
        current_app.logger.error("cannot sign the status list: %s", exc)
        raise StatusListUnavailableError() from exc


def init_app(app: Flask) -> None:
    """Register the blueprint and the published status list (one per process)."""
    app.register_blueprint(bp)
    app.extensions[STATUS_EXTENSION] = PublishedList()
