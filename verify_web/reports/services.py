"""Consumers' reports of suspect products: checked, then stored with their photo.

Everything is checked before anything is written (the photo by
:mod:`gimark.verify_web.reports.photos`), so a refused report leaves no row and no file.
Nothing here knows HTTP or how codes are judged: the caller passes a ``judge``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from sqlalchemy.orm import Session

from gimark.core.db import Database
from gimark.verify_web.reports.errors import EmptyReportError, ReportFieldTooLongError
from gimark.verify_web.reports.models import Report
from gimark.verify_web.reports.photos import (
    MAX_PHOTO_PIXELS,
    STORED_SIDE,
    Photo,
    clean_photo,
    store_photo,
)


@dataclass(frozen=True)
class ReportLimits:
    """What one report may hold."""

    text_chars: int = 2_000  # characters
    contact_chars: int = 200  # characters: the column's size
    code_chars: int = 2_048  # characters: the column's size (codes are 120 + the base URL)
    photo_bytes: int = 5 * 1024 * 1024  # bytes, as uploaded
    photo_side: int = 8_000  # pixels, width and height each
    photo_pixels: int = MAX_PHOTO_PIXELS  # pixels, width × height, read from the header
    stored_side: int = STORED_SIDE  # pixels, the stored photo's long side at most


LIMITS: Final = ReportLimits()
# (serial, verdict) of a code at the moment of the report, as the caller judges it.
Judge = Callable[[Session, str], tuple[int | None, str]]


@dataclass(frozen=True)
class ReportDraft:
    """A report's words, checked and cleaned."""

    code: str
    text: str
    contact: str


def _clean_text(value: str, field: str, field_zh: str, limit: int) -> str:
    # PostgreSQL refuses NUL in text and UTF-8 has no lone surrogates (JSON may carry both).
    value = value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8").strip()
    if len(value) > limit:
        raise ReportFieldTooLongError(
            field=field, field_zh=field_zh, limit=limit, length=len(value)
        )
    return value


def check_draft(
    code: str, text: str, contact: str, has_photo: bool, limits: ReportLimits = LIMITS
) -> ReportDraft:
    """The cleaned fields of a report (the code may be empty: a package may have none).

    Raises:
        ReportFieldTooLongError: a field is over its limit.
        EmptyReportError: no text and no photo.
    """
    draft = ReportDraft(
        code=_clean_text(code, "code", "码", limits.code_chars),
        text=_clean_text(text, "text", "问题描述", limits.text_chars),
        contact=_clean_text(contact, "contact", "联系方式", limits.contact_chars),
    )
    if not draft.text and not has_photo:
        raise EmptyReportError()
    return draft


def check_photo(data: bytes, limits: ReportLimits = LIMITS) -> Photo:
    """The uploaded photo, proved an image and cleaned (see :mod:`report_photos`).

    Raises:
        PhotoTooLargeError, NotAnImageError, PhotoPixelsError, PhotoDimensionsError: it is
            refused.
    """
    return clean_photo(
        data, limits.photo_bytes, limits.photo_side, limits.photo_pixels, limits.stored_side
    )


@dataclass(frozen=True)
class Reporter:
    """Who reports and from where, as far as the edge knows (never an IP address)."""

    scanner: str = ""  # the gm_sid cookie, if the reporter has one
    region: str | None = None  # GB/T 2260, from the IP


def submit_report(
    db: Database,
    draft: ReportDraft,
    photo: Photo | None,
    judge: Judge,
    *,
    uploads: Path,
    reporter: Reporter,
    now: dt.datetime,
) -> int:
    """Store a checked report (and its photo); the new report's id.

    The code is judged, not scanned: a report must not change a code's scan pattern.

    Raises:
        DatabaseUnavailableError: the database is away (then no photo is left behind).
    """
    created = False
    try:
        with db.session() as session:
            serial, verdict = judge(session, draft.code) if draft.code else (None, "")
            report = Report(
                at=now,
                code_text=draft.code,
                serial=serial,
                verdict=verdict,
                text=draft.text,
                contact=draft.contact,
                photo=photo.name if photo else None,
                scanner=reporter.scanner[:40],
                region=reporter.region,
            )
            session.add(report)
            session.flush()
            if photo is not None:
                created = store_photo(photo, uploads)
            report_id = report.id
    except BaseException:
        if created and photo is not None:  # the row was not committed: neither is the file
            (uploads / photo.name).unlink(missing_ok=True)
        raise
    return report_id
