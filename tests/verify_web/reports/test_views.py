"""``POST /api/v1/reports`` and the page's report form: stored whole, or refused with nothing."""

from __future__ import annotations

import io
import re
import stat
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from gimark.core.db import Database
from gimark.core.settings import Settings
from gimark.labels.scanning.models import ScanRecord
from gimark.verify_web.reports.models import Report

API = "/api/v1/reports"


def image_bytes(kind: str = "PNG", size: tuple[int, int] = (64, 48), **save: Any) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (163, 40, 28)).save(out, kind, **save)
    return out.getvalue()


def post_form(client: FlaskClient, url: str, photo: bytes | None = None, **fields: str) -> Any:
    """POST a multipart form, encoded in memory (the test client's own encoder spills large
    bodies to a temp file that it does not close when the app refuses them early)."""
    values: dict[str, Any] = dict(fields)
    if photo is not None:
        values["photo"] = FileStorage(io.BytesIO(photo), filename="IMG_0001.JPG")
    boundary, body = encode_multipart(values)
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def reports(db: Database) -> list[Report]:
    with db.session() as s:
        return list(s.scalars(select(Report).order_by(Report.id)))


def uploads(settings: Settings) -> list[Path]:
    folder = settings.home / "uploads"
    return sorted(folder.iterdir()) if folder.exists() else []


def count_scans(db: Database) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(ScanRecord)) or 0)


def test_a_json_report_judges_the_code_without_scanning_it(
    client: FlaskClient, db: Database, live_codes: list[str]
) -> None:
    body = {"code": live_codes[0], "text": "标签看起来是打印的", "contact": "138 0000 0000"}
    response = client.post(API, json=body)
    assert response.status_code == 201
    (report,) = reports(db)
    assert response.get_json() == {"id": report.id, "status": "received"}
    assert (report.verdict, report.text, report.contact) == (
        "genuine",
        body["text"],
        body["contact"],
    )
    assert report.serial is not None and report.code_text == live_codes[0] and report.photo is None
    assert count_scans(db) == 0  # a report is not a scan


def test_a_multipart_report_keeps_a_cleaned_photo(
    client: FlaskClient, db: Database, settings: Settings, live_codes: list[str]
) -> None:
    exif = Image.Exif()
    exif[0x0110] = "Phone Model X"  # EXIF: camera model (GPS would be personal too)
    photo = image_bytes("JPEG", exif=exif.tobytes())
    response = post_form(client, API, photo, code=live_codes[1], text="")
    assert response.status_code == 201, response.get_json()
    (report,) = reports(db)
    (stored,) = uploads(settings)
    assert report.photo == stored.name and re.fullmatch(r"[0-9a-f]{64}\.jpg", stored.name)
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert stat.S_IMODE(stored.parent.stat().st_mode) & 0o077 == 0
    with Image.open(stored) as image:
        assert image.format == "JPEG" and image.size == (64, 48)
        assert not image.getexif()  # metadata removed
    assert not list((settings.home / "uploads").glob(".upload-*"))  # no temp file left


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"text": "   "}, "report_empty"),
        ({"text": "x" * 2001}, "report_field_too_long"),
        ({"text": "ok", "contact": "y" * 201}, "report_field_too_long"),
        ({"text": 42}, "report_bad_field"),
    ],
)
def test_bad_json_reports_are_refused(
    client: FlaskClient, db: Database, fields: dict[str, Any], code: str
) -> None:
    response = client.post(API, json=fields)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == code and error["zh"] and error["en"]
    assert reports(db) == []


def test_a_body_that_is_not_an_object_is_refused(client: FlaskClient, db: Database) -> None:
    assert client.post(API, json=["text"]).get_json()["error"]["code"] == "report_bad_json"
    broken = client.post(API, data="{not json", content_type="application/json")
    assert broken.status_code == 400 and broken.get_json()["error"]["code"] == "report_bad_json"
    assert reports(db) == []


@pytest.mark.parametrize(
    ("photo", "status", "code"),
    [
        (b"GIF89a" + b"\0" * 64, 400, "photo_not_image"),
        (b"<html>not a photo</html>", 400, "photo_not_image"),
        (image_bytes("PNG")[:60], 400, "photo_not_image"),  # truncated
        (image_bytes("PNG", (8001, 1)), 400, "photo_dimensions"),
        (b"\xff\xd8" + b"\0" * (5 * 1024 * 1024), 413, "photo_too_large"),
    ],
    ids=["gif", "html", "truncated", "too-wide", "over-5MB"],
)
def test_bad_photos_are_refused_and_nothing_is_kept(
    client: FlaskClient, db: Database, settings: Settings, photo: bytes, status: int, code: str
) -> None:
    response = post_form(client, API, photo, text="看这张图")
    assert response.status_code == status and response.get_json()["error"]["code"] == code
    assert reports(db) == [] and uploads(settings) == []


def test_a_body_over_the_limit_is_413_json_and_nothing_is_kept(
    client: FlaskClient, db: Database, settings: Settings
) -> None:
    response = post_form(client, API, b"\0" * (6 * 1024 * 1024 + 1), text="太大了")
    assert response.status_code == 413
    assert response.get_json()["error"] == {
        "code": "request_too_large",
        "zh": "提交的内容过大，最多 6 MB",
        "en": "what you sent is too large; at most 6 MB",
    }
    big_json = client.post(API, json={"text": "x" * (6 * 1024 * 1024)})
    assert big_json.status_code == 413
    assert big_json.get_json()["error"]["code"] == "request_too_large"
    assert reports(db) == [] and uploads(settings) == []


# --- the page's form -------------------------------------------------------------------------


def page_path(qr_text: str) -> str:
    return urlsplit(qr_text).path


def test_the_page_form_reports_with_a_photo_and_thanks_in_english(
    client: FlaskClient, db: Database, settings: Settings, live_codes: list[str], csrf_token: Any
) -> None:
    page = page_path(live_codes[2]) + "?lang=en"
    response = post_form(
        client,
        "/report?lang=en",
        image_bytes("PNG"),
        csrf_token=csrf_token(page),
        code=live_codes[2],
        text="Bought at a market stall; the label peels off.",
        contact="",
    )
    assert response.status_code == 303
    (report,) = reports(db)
    assert response.headers["Location"] == f"/report/thanks?id={report.id}&lang=en"
    thanks = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your report has been received" in thanks and f"Report number: {report.id}" in thanks
    assert report.verdict == "genuine" and report.photo and len(uploads(settings)) == 1


def test_the_page_form_without_a_photo_thanks_in_chinese(
    client: FlaskClient, db: Database, live_codes: list[str], csrf_token: Any
) -> None:
    page = page_path(live_codes[3])
    data = {"csrf_token": csrf_token(page), "code": live_codes[3], "text": "价格太低"}
    response = client.post("/report", data=data, follow_redirects=True)
    assert response.status_code == 200 and "我们已收到您的举报" in response.get_data(as_text=True)
    assert [r.text for r in reports(db)] == ["价格太低"]


def test_a_refused_form_is_shown_again_with_the_reason(
    client: FlaskClient, db: Database, live_codes: list[str], csrf_token: Any
) -> None:
    page = page_path(live_codes[4])
    data = {
        "csrf_token": csrf_token(page),
        "code": live_codes[4],
        "text": "",
        "contact": "wechat: gi-fan",
    }
    response = client.post("/report", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and response.mimetype == "text/html"
    assert "请写下您发现的问题，或附上一张照片" in html and 'value="wechat: gi-fan"' in html
    assert reports(db) == []


def test_a_form_over_the_limits_answers_a_page_and_keeps_nothing(
    client: FlaskClient, db: Database, settings: Settings, live_codes: list[str], csrf_token: Any
) -> None:
    token = csrf_token(page_path(live_codes[5]))
    big_photo = post_form(client, "/report", b"\xff" * (5 * 1024 * 1024 + 10), csrf_token=token)
    assert big_photo.status_code == 413 and big_photo.mimetype == "text/html"
    assert "照片不能超过 5 MB" in big_photo.get_data(as_text=True)
    huge = post_form(client, "/report", b"\xff" * (6 * 1024 * 1024 + 10), csrf_token=token)
    assert huge.status_code == 413 and huge.mimetype == "text/html"
    assert reports(db) == [] and uploads(settings) == []


def test_a_report_on_a_flagged_code_keeps_the_verdict_the_reporter_saw(
    client: FlaskClient, db: Database, live_codes: list[str]
) -> None:
    for host in range(6):  # six people, each at their own address: many_scanners
        client.application.test_client().get(
            page_path(live_codes[6]), environ_base={"REMOTE_ADDR": f"192.0.2.{host + 1}"}
        )
    assert client.post(API, json={"code": live_codes[6], "text": "复制的"}).status_code == 201
    assert client.post(API, json={"code": "0000-0000-01Y", "text": "打错了"}).status_code == 201
    assert [(r.verdict, r.serial is None) for r in reports(db)] == [
        ("duplicate_suspected", False),
        ("unauthorized", True),  # a typo'd serial: malformed
    ]


@pytest.mark.parametrize(
    "body",
    [b"[" * 100_000 + b"]" * 100_000, b'{"text": ' * 100_000, b"[" * 100_000, b'{"text": "x"'],
    ids=["nested-100k", "nested-objects", "unclosed", "invalid"],
)
def test_deep_or_broken_json_is_a_400_in_both_languages(
    client: FlaskClient, db: Database, body: bytes
) -> None:
    response = client.post(API, data=body, content_type="application/json")
    assert response.status_code == 400 and response.is_json
    error = response.get_json()["error"]
    assert error["code"] == "report_bad_json" and error["zh"] and error["en"]
    assert reports(db) == []
