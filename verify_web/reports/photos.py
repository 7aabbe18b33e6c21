"""A report's photo: proved to be an image, cleaned, stored under its own hash.

The photo is decoded and encoded again: that proves it is an image, and drops its metadata
(EXIF carries the phone's GPS position and model, which inspectors do not need and the
reporter did not mean to send).
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from PIL import Image, ImageOps

from gimark.verify_web.reports.errors import (
    NotAnImageError,
    PhotoDimensionsError,
    PhotoTooLargeError,
)

PHOTO_FORMATS: Final = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}  # Pillow name: extension
PHOTO_MODE: Final = 0o640  # inspectors' tools read it through the service's group


@dataclass(frozen=True)
class Photo:
    """A photo as it will be stored: re-encoded, named by its SHA-256."""

    name: str  # <sha256>.<ext>
    data: bytes


def clean_photo(data: bytes, max_bytes: int, max_side: int) -> Photo:
    """The uploaded bytes as a stored photo: a JPEG, PNG or WebP image, re-encoded upright.

    Raises:
        PhotoTooLargeError: more than ``max_bytes``.
        NotAnImageError: not an image of those formats, or one that does not decode.
        PhotoDimensionsError: a side longer than ``max_side`` pixels.
    """
    if len(data) > max_bytes:
        raise PhotoTooLargeError(limit_mb=max_bytes // (1024 * 1024))
    try:
        # Only the header is read here: the size is checked before any pixel is decoded.
        with Image.open(io.BytesIO(data), formats=tuple(PHOTO_FORMATS)) as probe:
            kind, (width, height) = str(probe.format), probe.size
            probe.verify()
    except Exception as exc:  # Pillow's decoders raise many types on bad input
        raise NotAnImageError() from exc
    if max(width, height) > max_side:
        raise PhotoDimensionsError(width=width, height=height, limit=max_side)
    try:
        with Image.open(io.BytesIO(data), formats=(kind,)) as image:
            upright = ImageOps.exif_transpose(image)  # rotated as the phone showed it
            out = io.BytesIO()
            icc = image.info.get("icc_profile")  # colours, not personal: kept
            upright.save(out, kind, quality=90, **({"icc_profile": icc} if icc else {}))
    except Exception as exc:  # as above: truncated pixel data fails only here
        raise NotAnImageError() from exc
    cleaned = out.getvalue()
    return Photo(f"{hashlib.sha256(cleaned).hexdigest()}.{PHOTO_FORMATS[kind]}", cleaned)


def store_photo(photo: Photo, folder: Path) -> bool:
    """Write ``photo`` into ``folder`` (temp name, then rename); False if it was there already."""
    folder.mkdir(mode=0o750, parents=True, exist_ok=True)
    final = folder / photo.name
    if final.exists():  # the same photo reported twice: its name is its content
        return False
    fd, draft = tempfile.mkstemp(dir=folder, prefix=".upload-")
    try:
        os.fchmod(fd, PHOTO_MODE)  # mkstemp makes 0600
        with os.fdopen(fd, "wb") as out:
            out.write(photo.data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(draft, final)  # readers never see half a photo
    except BaseException:
        Path(draft).unlink(missing_ok=True)
        raise
    return True
