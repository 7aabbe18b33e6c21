"""A scan as the web layer runs it, for the page and the JSON API alike: who is scanning,
the scan service that judges and records, and how the answer to a scan is marked.

Only a person's GET is a scan. A HEAD (link checkers, some previewers) and a GET from a link
previewer or a crawler (:mod:`gimark.verify_web.previewers`) get the same verdict but are
judged without recording: no scan row, no change to the serial's pattern, no cookie."""

from __future__ import annotations

import json
from typing import Final

from flask import Flask, Request, current_app, request
from werkzeug.wrappers import Response

from gimark.core.db import utcnow
from gimark.core.settings import Settings
from gimark.labels.scanning.duplicates import DetectionConfig
from gimark.labels.scanning.service import Outcome, ScanService
from gimark.verify_web.extensions import database
from gimark.verify_web.previewers import is_previewer
from gimark.verify_web.scanners import cookieless, remember_scanner, scanner_id, scanning_of
from gimark.verify_web.throttle import limit_scans

__all__ = ["is_scan", "scan_answered", "scan_request", "scan_service"]

SCANS_EXTENSION: Final = "gimark_scans"
# app.config key: a function giving "now" for scans (default: the wall clock). A replay of a
# market that spans months sets its own; nothing else should.
CLOCK_CONFIG: Final = "GIMARK_CLOCK"


def scan_service() -> ScanService:
    """The app's scan service (one per process: its verifier caches)."""
    service: ScanService = current_app.extensions[SCANS_EXTENSION]
    return service


def scan_request(text: str) -> tuple[Outcome, str, bool]:
    """Judge ``text`` for this request, and record it if a person scanned: (outcome, scanner,
    scanner is new). A request that records nothing sets no cookie: its "new" is False.

    Without a valid cookie the scan is judged as its address in a time window (see
    :func:`~gimark.verify_web.scanners.cookieless`), and the answer issues that scanner's
    cookie for next time: clearing cookies makes no new scanners.

    Raises:
        RateLimitedError: too many scans from this address (429, Retry-After).
    """
    scanner, new = scanner_id(request)
    service, now = scan_service(), current_app.config.get(CLOCK_CONFIG, utcnow)()
    if not is_scan(request):
        return service.look(text, now), scanner, False
    limit_scans()
    who = scanning_of(request, scanner)
    if new:
        who = cookieless(who, now, service.config.cookieless_window_s)
    return service.scan(text, who, now), who.scanner, new


def is_scan(req: Request) -> bool:
    """Whether ``req`` is a person scanning: a GET (or POST) from a browser, not a HEAD and
    not a link previewer or crawler."""
    return req.method != "HEAD" and not is_previewer(req.headers.get("User-Agent"))


def scan_answered(response: Response, scanner: str, new: bool) -> Response:
    """``response`` as the answer to a scan (from :func:`scan_request`): never cached, and
    setting the scanner's cookie if it is new."""
    response.headers["Cache-Control"] = "no-store"  # every scan is a new observation
    if new:
        remember_scanner(response, scanner, current_app.config["GIMARK_SETTINGS"])
    return response


def _detection(settings: Settings) -> DetectionConfig:
    if settings.detection is None:
        return DetectionConfig()
    return DetectionConfig.from_mapping(json.loads(settings.detection.read_text("utf-8")))


def init_app(app: Flask) -> None:
    """Give the app its scan service."""
    settings: Settings = app.config["GIMARK_SETTINGS"]
    app.extensions[SCANS_EXTENSION] = ScanService(
        database(app), settings.bases, _detection(settings)
    )
