"""A report's photo: proved to be an image, cleaned, stored under its own hash.

The photo is decoded and encoded again: that proves it is an image, and drops its metadata
(EXIF carries the phone's GPS position and model, XMP and IPTC the same and more, JPEG
comments and PNG text whatever the sender wrote: inspectors need none of it and the reporter
did not mean to send it). Only the ICC profile is kept: it is colour, not personal.

A small file can decode to a huge image (a 135 KB WebP of 8000×8000 took 1.4 GB and seconds
of a web worker), so the pixel count is read from the header and refused before any pixel is
decoded, and what is decoded is decoded reduced: a JPEG at a fraction of its scale.
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
    PhotoPixelsError,
    PhotoTooLargeError,
)

PHOTO_FORMATS: Final = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}  # Pillow name: extension
PHOTO_MODE: Final = 0o600  # reporters' photos are the service user's alone, as all of GIMARK_HOME
MAX_PHOTO_PIXELS: Final = 24_000_000  # pixels: above any phone's default photo (12–24 MP)
STORED_SIDE: Final = 2_048  # pixels, the long side: enough to read a label's print
# Pillow's own guard, for every image this process opens: it warns above the limit and
# raises above twice it, before decoding. Our check below refuses from the limit itself.
Image.MAX_IMAGE_PIXELS = MAX_PHOTO_PIXELS
# Modes every one of the formats writes; anything else (CMYK, 16-bit, palettes) is converted.
_KEPT_MODES: Final = frozenset({"RGB", "RGBA", "L"})


@dataclass(frozen=True)
class Photo:
    """A photo as it will be stored: re-encoded, named by its SHA-256."""

    name: str  # <sha256>.<ext>
    data: bytes


def clean_photo(
    data: bytes,
    max_bytes: int,
    max_side: int,
    max_pixels: int = MAX_PHOTO_PIXELS,
    stored_side: int = STORED_SIDE,
) -> Photo:
    """The uploaded bytes as a stored photo: a JPEG, PNG or WebP image, re-encoded upright,
    at most ``stored_side`` pixels on its long side, with no metadata but its ICC profile.

    Raises:
        PhotoTooLargeError: more than ``max_bytes``.
        NotAnImageError: not an image of those formats, or one that does not decode.
        PhotoPixelsError: more than ``max_pixels`` pixels (refused before decoding).
        PhotoDimensionsError: a side longer than ``max_side`` pixels.
    """
    if len(data) > max_bytes:
        raise PhotoTooLargeError(limit_mb=max_bytes // (1024 * 1024))
    kind, (width, height) = _probe(data, max_pixels)
    if width * height > max_pixels:
        raise PhotoPixelsError(limit_mp=max_pixels // 1_000_000)
    if max(width, height) > max_side:
        raise PhotoDimensionsError(width=width, height=height, limit=max_side)
    try:
        with Image.open(io.BytesIO(data), formats=(kind,)) as image:
            # A CMYK profile would misdescribe the RGB the photo is converted to.
            icc = image.info.get("icc_profile") if image.mode != "CMYK" else None
            # Reduced while decoding: a JPEG is read at 1/2, 1/4 or 1/8 scale (draft: still
            # at least the stored size; the other formats ignore it), then shrunk by whole
            # factors (reducing_gap), and only then resampled to the stored size.
            image.draft(None, _fitted(image.size, stored_side))
            image.thumbnail((stored_side, stored_side), reducing_gap=2.0)
            upright = ImageOps.exif_transpose(image)  # rotated as the phone showed it
            clean = _plain(upright)
            out = io.BytesIO()
            clean.save(out, kind, quality=90, **({"icc_profile": icc} if icc else {}))
    except Exception as exc:  # as above: truncated pixel data fails only here
        raise NotAnImageError() from exc
    cleaned = out.getvalue()
    return Photo(f"{hashlib.sha256(cleaned).hexdigest()}.{PHOTO_FORMATS[kind]}", cleaned)


def _probe(data: bytes, max_pixels: int) -> tuple[str, tuple[int, int]]:
    """The format and size from the header alone (``Image.open`` decodes no pixel).

    Raises:
        PhotoPixelsError: Pillow's own guard refused it (over twice its limit).
        NotAnImageError: not a JPEG, PNG or WebP image, or a damaged one.
    """
    try:
        with Image.open(io.BytesIO(data), formats=tuple(PHOTO_FORMATS)) as probe:
            kind, size = str(probe.format), probe.size
            if size[0] * size[1] <= max_pixels:
                probe.verify()  # chunk checksums (PNG): still no pixel decoded
            return kind, size
    except Image.DecompressionBombError as exc:
        raise PhotoPixelsError(limit_mp=max_pixels // 1_000_000) from exc
    except Exception as exc:  # Pillow's decoders raise many types on bad input
        raise NotAnImageError() from exc


def _fitted(size: tuple[int, int], side: int) -> tuple[int, int]:
    """``size`` scaled to at most ``side`` on its long side, keeping its aspect."""
    width, height = size
    scale = min(1.0, side / max(width, height))
    return max(1, int(width * scale)), max(1, int(height * scale))


def _plain(image: Image.Image) -> Image.Image:
    """``image`` in a mode every format writes, with no metadata left for a plugin to copy
    (the JPEG writer, for one, copies a COM comment from ``info`` unless told otherwise)."""
    if image.mode not in _KEPT_MODES:
        alpha = "A" in image.getbands() or "transparency" in image.info
        image = image.convert("RGBA" if alpha else "RGB")
    image.info = {}
    return image


def store_photo(photo: Photo, folder: Path) -> bool:
    """Write ``photo`` into ``folder`` (temp name, then rename); False if it was there already."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    final = folder / photo.name
    if final.exists():  # the same photo reported twice: its name is its content
        return False
    fd, draft = tempfile.mkstemp(dir=folder, prefix=".upload-")
    try:
        os.fchmod(fd, PHOTO_MODE)  # mkstemp's own, said outright: nothing of HOME is shared
        with os.fdopen(fd, "wb") as out:
            out.write(photo.data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(draft, final)  # readers never see half a photo
    except BaseException:
        Path(draft).unlink(missing_ok=True)
        raise
    return True
