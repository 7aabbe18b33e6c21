"""``/.well-known/gimark/``: the published verification keys and the signed status list.

The status list is signed by ``gimark status publish`` on a timer, away from the web workers,
and served here as the file it wrote: a web worker holds no key passphrase, so code execution
on a web server cannot sign a list (or anything else) in the issuer's name.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, Flask, current_app, jsonify, request
from werkzeug.wrappers import Response

from gimark.core.settings import Settings
from gimark.keys.services import export_jwks
from gimark.labels.offline.errors import StatusListUnavailableError
from gimark.verify_web.errors import error_body
from gimark.verify_web.extensions import database

bp = Blueprint("wellknown", __name__)

JWKS_MAX_AGE = 300  # seconds: a compromised key must reach offline verifiers within minutes
STATUS_MAX_AGE = 300  # seconds: as the keys, a revocation must reach them within minutes
STATUS_EXTENSION = "gimark_status_list"
# seconds: the timer publishes every few minutes; a first deployment needs one manual publish
STATUS_RETRY_AFTER = 60


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
    """The signed status list as ``gimark status publish`` wrote it, conditional (ETag,
    Last-Modified = the list's own ``generated_at``); 503 while none was published."""
    settings: Settings = current_app.config["GIMARK_SETTINGS"]
    served: _ServedFile = current_app.extensions[STATUS_EXTENSION]
    try:
        published = served.read(settings.published_status_list)
    except StatusListUnavailableError as exc:
        # JSON whatever the client accepts: this is a machine's URL, not a page.
        answer = jsonify(error_body(exc.code, exc.message("zh"), exc.message("en")))
        answer.status_code = exc.http_status
        answer.headers["Retry-After"] = str(STATUS_RETRY_AFTER)
        answer.cache_control.no_store = True
        return answer
    response = current_app.response_class(published.body, mimetype="application/json")
    response.cache_control.public = True
    response.cache_control.max_age = STATUS_MAX_AGE
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.set_etag(published.etag)
    response.last_modified = published.generated_at
    return response.make_conditional(request)


@dataclass(frozen=True)
class _Published:
    stamp: tuple[int, int, int]  # inode, mtime (ns), size: a rename gives a new inode
    body: bytes
    etag: str
    generated_at: dt.datetime


class _ServedFile:
    """The published file, re-read only when a new one was renamed into place."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: _Published | None = None

    def read(self, path: Path) -> _Published:
        """The file's bytes with their ETag and the list's generation time.

        Raises:
            StatusListUnavailableError: nothing was published yet, or the file is unreadable.
        """
        try:
            info = path.stat()
            stamp = (info.st_ino, info.st_mtime_ns, info.st_size)
            with self._lock:
                last = self._last
            if last is not None and last.stamp == stamp:
                return last
            body = path.read_bytes()
        except FileNotFoundError:
            raise StatusListUnavailableError() from None
        except OSError as exc:
            current_app.logger.error("cannot read the published status list: %s", exc)
            raise StatusListUnavailableError() from exc
        published = _Published(stamp, body, hashlib.sha256(body).hexdigest(), _generated_at(body))
        with self._lock:
            self._last = published
        return published


def _generated_at(body: bytes) -> dt.datetime:
    # Only to date the response; the signature is the verifier's business, not the server's.
    try:
        return dt.datetime.fromisoformat(json.loads(body)["payload"]["generated_at"])
    except (ValueError, KeyError, TypeError) as exc:
        current_app.logger.error("the published status list is not a list: %s", exc)
        raise StatusListUnavailableError() from exc


def init_app(app: Flask) -> None:
    """Register the blueprint and the published file's reader (one per process)."""
    app.register_blueprint(bp)
    app.extensions[STATUS_EXTENSION] = _ServedFile()
