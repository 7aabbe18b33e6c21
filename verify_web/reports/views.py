"""``POST /api/v1/reports``: a consumer's report of a suspect product, from an app or a page.

JSON (``{"code", "text", "contact"}``) or a multipart form (the same fields and a ``photo``
file). No CSRF token: the API is not authenticated by a cookie, so a forged cross-site POST
gains nothing a direct one would not. The verification page's form posts to its own
CSRF-protected route, which calls :func:`receive` too.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Blueprint, Flask, Request, current_app, jsonify, request
from sqlalchemy.orm import Session
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.wrappers import Response

from gimark.core.db import utcnow
from gimark.core.settings import Settings
from gimark.labels.scanning.service import read_summary
from gimark.labels.scanning.verification import DUPLICATE, GENUINE
from gimark.verify_web import throttle
from gimark.verify_web.extensions import database
from gimark.verify_web.reports.errors import (
    BadJsonError,
    BadReportFieldError,
    ReportRateLimitedError,
    RequestTooLargeError,
    UploadsFullError,
)
from gimark.verify_web.reports.photos import Photo
from gimark.verify_web.reports.services import (
    LIMITS,
    ReportDraft,
    Reporter,
    check_draft,
    check_photo,
    submit_report,
)
from gimark.verify_web.scan import scan_service
from gimark.verify_web.scanners import scanner_id, scanning_of
from gimark.verify_web.throttle import address_key, value_key

bp = Blueprint("reports", __name__, url_prefix="/api/v1")
FIELDS = ("code", "text", "contact")
UPLOADS = "uploads"  # under GIMARK_HOME


def read_report(req: Request) -> tuple[ReportDraft, Photo | None]:
    """The checked fields and photo of a JSON or multipart request.

    Raises:
        ReportError: a field is missing, too long or of the wrong type; the photo is refused.
        BadJsonError: a JSON body that does not parse (or nests too deep), or not an object.
        RequestTooLargeError: the body is over MAX_CONTENT_LENGTH (nothing of it was kept).
        ReportRateLimitedError: too many reports (or photos) from this address or scanner.
        UploadsFullError: the photos kept already fill their quota.
    """
    # Counted before anything is read: a flood must cost as little as possible.
    _count_against_limits("report", photos=False)
    try:
        values, data = _fields(req)
    except RequestEntityTooLarge as exc:  # werkzeug's, with an English-only text
        limit = int(current_app.config["MAX_CONTENT_LENGTH"]) // (1024 * 1024)
        raise RequestTooLargeError(limit_mb=limit) from exc
    if data:
        _count_against_limits("photo", photos=True)
        _check_quota(len(data))
    # Words first: they are cheap to check, the photo is not.
    draft = check_draft(values["code"], values["text"], values["contact"], has_photo=bool(data))
    return draft, check_photo(data) if data else None


def _count_against_limits(kind: str, *, photos: bool) -> None:
    settings: Settings = current_app.config["GIMARK_SETTINGS"]
    by_address, by_scanner = (
        (settings.limit_photos_per_address, settings.limit_photos_per_scanner)
        if photos
        else (settings.limit_reports_per_address, settings.limit_reports_per_scanner)
    )
    window = settings.limit_report_window
    throttle.check(address_key(kind), by_address, window, error=ReportRateLimitedError)
    scanner, new = scanner_id(request)
    # A browser without the cookie yet has no scanner to count by; its address still counts.
    if not new:
        key = value_key(kind, scanner)
        throttle.check(key, by_scanner, window, error=ReportRateLimitedError)


def _check_quota(size: int) -> None:
    settings: Settings = current_app.config["GIMARK_SETTINGS"]
    if not settings.limit_upload_bytes:
        return
    # Summed from the folder, not kept as a count: the folder is the truth (an inspector may
    # delete photos), and one listing per photo report costs milliseconds at many thousands.
    folder = settings.home / UPLOADS
    used = 0
    if folder.is_dir():
        with os.scandir(folder) as entries:
            used = sum(entry.stat().st_size for entry in entries if entry.is_file())
    if used + size > settings.limit_upload_bytes:
        raise UploadsFullError()


def _fields(req: Request) -> tuple[dict[str, Any], bytes]:
    if not req.is_json:
        return {name: req.form.get(name, "") for name in FIELDS}, _upload_bytes(req)
    try:
        body = req.get_json()
    # BadRequest: not JSON. RecursionError: nested deeper than the parser recurses (a body of
    # 100,000 "[" is 100 KB); the parser stops at the interpreter's limit, no harm done, but
    # uncaught it would be a 500.
    except (BadRequest, RecursionError) as exc:
        raise BadJsonError() from exc
    if not isinstance(body, dict):
        raise BadJsonError()
    values = {name: "" if body.get(name) is None else body[name] for name in FIELDS}
    for name, value in values.items():
        if not isinstance(value, str):
            raise BadReportFieldError(field=name)
    return values, b""


def _upload_bytes(req: Request) -> bytes:
    # A form with no file chosen still sends an empty part; read one byte past the limit so
    # that an oversized photo is recognized without holding more of it.
    upload = req.files.get("photo")
    return upload.stream.read(LIMITS.photo_bytes + 1) if upload is not None else b""


def receive(draft: ReportDraft, photo: Photo | None) -> int:
    """Judge the report's code (without recording a scan) and store the report; its id.

    Raises:
        DatabaseUnavailableError: the database is away.
    """
    settings: Settings = current_app.config["GIMARK_SETTINGS"]
    service = scan_service()
    now = utcnow()
    scanner, new = scanner_id(request)
    reporter = Reporter(
        scanner="" if new else scanner,  # a report alone does not make a scanner
        region=scanning_of(request, scanner).region,
    )

    def judge(session: Session, code: str) -> tuple[int | None, str]:
        finding = service.verifier.check(session, code, now)
        if finding.outcome == GENUINE and finding.serial is not None:
            # What the reporter's page said: a flagged code reads as a suspected copy.
            summary = read_summary(session, finding.serial)
            if summary is not None and summary.reasons:
                return finding.serial, DUPLICATE
        return finding.serial, finding.outcome

    return submit_report(
        database(current_app),
        draft,
        photo,
        judge,
        uploads=settings.home / UPLOADS,
        reporter=reporter,
        now=now,
    )


@bp.post("/reports")
def create() -> tuple[Response, int]:
    """Store a report; 201 ``{"id", "status": "received"}``."""
    draft, photo = read_report(request)
    report_id = receive(draft, photo)
    response = jsonify({"id": report_id, "status": "received"})
    response.headers["Cache-Control"] = "no-store"
    return response, 201


def init_app(app: Flask) -> None:
    """Register the reports API."""
    app.register_blueprint(bp)
