"""A report's photo: huge images refused from their header, the rest reduced and stripped."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from PIL import ExifTags, Image, ImageCms, PngImagePlugin

from gimark.core.db import Database
from gimark.core.settings import Settings
from gimark.verify_web.reports.errors import PhotoPixelsError
from gimark.verify_web.reports.photos import clean_photo
from gimark.verify_web.reports.services import LIMITS

from .test_views import API, post_form, reports, uploads

MB = 1024 * 1024
# Run in a fresh interpreter: its peak resident size is the photo's alone.
_MEASURE = """
import resource, sys
from gimark.core.db import Database
from gimark.core.settings import Settings
from gimark.verify_web.reports.errors import PhotoPixelsError
from gimark.verify_web.reports.photos import clean_photo
data = open(sys.argv[1], "rb").read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    clean_photo(data, max_bytes=5 * 1024 * 1024, max_side=8000)
    refused = None
except PhotoPixelsError as exc:
    refused = exc.code
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(__import__("json").dumps({"refused": refused, "grew_kb": after - before}))
"""


def bomb(kind: str, side: int) -> bytes:
    """A one-colour image: a few KB of file, ``side``² pixels once decoded."""
    out = io.BytesIO()
    Image.new("L" if kind == "PNG" else "RGB", (side, side)).save(out, kind, lossless=True)
    return out.getvalue()


def srgb_profile() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


@pytest.mark.parametrize(
    ("kind", "side"),
    [("PNG", 8000), ("WEBP", 8000), ("PNG", 6000)],
    ids=["png-64MP", "webp-64MP", "png-36MP"],  # 64 MP: Pillow's guard too; 36 MP: ours only
)
def test_a_decompression_bomb_is_refused_without_being_decoded(
    tmp_path: Path, kind: str, side: int
) -> None:
    data = bomb(kind, side)
    assert len(data) < 200_000  # tiny on the wire
    path = tmp_path / "bomb"
    path.write_bytes(data)
    run = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(path)], capture_output=True, text=True, check=True
    )
    result = json.loads(run.stdout)
    assert result["refused"] == "photo_too_many_pixels"
    # Decoding would take side² bytes at least (36–64 MB); the header alone takes nothing.
    assert result["grew_kb"] < 16 * 1024, result


def test_the_api_refuses_a_bomb_with_413_in_both_languages(
    client: FlaskClient, db: Database, settings: Settings
) -> None:
    response = post_form(client, API, bomb("WEBP", 8000), text="看这张图")
    assert response.status_code == 413
    error = response.get_json()["error"]
    assert error["code"] == "photo_too_many_pixels"
    assert "24" in error["zh"] and "24 megapixels" in error["en"]
    assert reports(db) == [] and uploads(settings) == []


def test_a_photo_at_the_limit_is_kept() -> None:
    data = bomb("PNG", 4898)  # 23.99 MP
    photo = clean_photo(data, LIMITS.photo_bytes, LIMITS.photo_side)
    with Image.open(io.BytesIO(photo.data)) as image:
        assert max(image.size) == 2048


def test_a_jpeg_loses_its_comment_gps_and_xmp_and_keeps_its_colour_profile() -> None:
    exif = Image.Exif()
    exif[ExifTags.Base.Model] = "Phone Model X"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (39.0, 54.0, 27.0)
    out = io.BytesIO()
    icc = srgb_profile()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>'
    Image.new("RGB", (640, 480), (163, 40, 28)).save(
        out, "JPEG", comment=b"shot at home, 3 Elm St", exif=exif, icc_profile=icc, xmp=xmp
    )
    with Image.open(io.BytesIO(out.getvalue())) as sent:  # what a phone sends
        assert sent.info["comment"] and sent.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert "xmp" in sent.info

    photo = clean_photo(out.getvalue(), LIMITS.photo_bytes, LIMITS.photo_side)

    assert b"Elm St" not in photo.data and b"Phone Model" not in photo.data
    with Image.open(io.BytesIO(photo.data)) as kept:
        assert "comment" not in kept.info and "xmp" not in kept.info and "exif" not in kept.info
        assert not kept.getexif() and not kept.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert kept.info["icc_profile"] == icc
        assert {key for key, _ in kept.applist} <= {"APP0", "APP2"}  # JFIF and ICC only


def test_a_png_loses_its_text_chunks_and_keeps_its_colour_profile() -> None:
    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", "shot at home")
    text.add_itxt("Location", "北京市东城区", lang="zh")
    out = io.BytesIO()
    icc = srgb_profile()
    Image.new("RGBA", (64, 48), (163, 40, 28, 255)).save(out, "PNG", pnginfo=text, icc_profile=icc)

    photo = clean_photo(out.getvalue(), LIMITS.photo_bytes, LIMITS.photo_side)

    with Image.open(io.BytesIO(photo.data)) as kept:
        assert isinstance(kept, PngImagePlugin.PngImageFile)
        kept.load()
        assert not kept.text and set(kept.info) <= {"icc_profile", "dpi"}
        assert kept.info["icc_profile"] == icc


def test_a_big_photo_is_stored_at_most_2048_pixels_long_and_upright() -> None:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # the phone was held upright: turn 90° clockwise
    out = io.BytesIO()
    Image.new("RGB", (4000, 3000), (163, 40, 28)).save(out, "JPEG", exif=exif, quality=80)

    photo = clean_photo(out.getvalue(), LIMITS.photo_bytes, LIMITS.photo_side)

    with Image.open(io.BytesIO(photo.data)) as kept:
        assert kept.format == "JPEG" and kept.size == (1536, 2048)


def test_the_pixel_limit_is_an_error_of_its_own() -> None:
    with pytest.raises(PhotoPixelsError):
        clean_photo(bomb("PNG", 1000), 5 * MB, 8000, max_pixels=999_999)
