"""The verification page: the QR URL, every verdict as a 200 page, both languages, escaping."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from gimark.core.db import Database
from gimark.core.settings import Settings
from gimark.labels.scanning.models import ScanRecord
from gimark.labels.scanning.reasons import REASONS
from gimark.trace.models import Enterprise, Product

ZH_GENUINE, EN_GENUINE = "正品标签", "Genuine label"
XSS = "<script>alert(1)</script>"


def text(response: Any) -> str:
    return str(response.get_data(as_text=True))


def path_of(qr_text: str) -> str:
    """The path a phone opens for a QR text (the demo's host and port are not ours here)."""
    return urlsplit(qr_text).path


def undelivered_code(settings: Settings, batch_id: int) -> str:
    manifest = settings.home / "runs" / str(batch_id) / "manifest.csv"
    with manifest.open(encoding="utf-8", newline="") as rows:
        return next(csv.DictReader(rows))["qr_text"]


def reasons_on(page: str) -> list[str]:
    return re.findall(r'data-reason="([a-z_]+)"', page)


def test_a_genuine_label_in_chinese_by_default(client: FlaskClient, live_codes: list[str]) -> None:
    response = client.get(path_of(live_codes[0]))
    page = text(response)
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert '<html lang="zh-CN">' in page and ZH_GENUINE in page and "verdict-ok" in page
    assert "沅江芦笋" in page and "沅江市绿源芦笋专业合作社" in page
    assert "湖南省益阳市沅江市" in page and "地理标志保护产品" in page
    assert "此码已被查验 1 次" in page and reasons_on(page) == []
    assert response.headers["Cache-Control"] == "no-store"
    assert "gm_sid=" in response.headers["Set-Cookie"]
    assert 'src="/static/verify.js"' in page  # the location button, for browsers with JS
    assert 'id="gm-locate-box" class="card locate" hidden' in page  # ... hidden without it


def test_english_by_accept_language_and_by_lang(client: FlaskClient, live_codes: list[str]) -> None:
    english = text(client.get(path_of(live_codes[0]), headers={"Accept-Language": "en-US"}))
    assert '<html lang="en">' in english and EN_GENUINE in english
    assert "Yuanjiang Asparagus" in english and "Yuanjiang City, Yiyang, Hunan" in english
    assert "This code has been checked once" in english and ZH_GENUINE not in english
    chosen = text(client.get(path_of(live_codes[1]) + "?lang=en"))
    assert EN_GENUINE in chosen


def test_a_lower_cased_url_is_the_same_label(client: FlaskClient, live_codes: list[str]) -> None:
    response = client.get(path_of(live_codes[0]).lower())
    assert response.status_code == 200 and ZH_GENUINE in text(response)


def test_the_history_counts_people_and_names_the_first_place(
    settings: Settings, live_codes: list[str], tmp_path: Path
) -> None:
    from gimark.verify_web import create_app
    from gimark.verify_web.extensions import database

    table = tmp_path / "regions.csv"
    table.write_text("cidr,region\n203.0.113.0/24,430900\n", encoding="utf-8")
    app = create_app(
        {"TESTING": True, "GIMARK_SETTINGS": settings.with_overrides(ip_regions=table)}
    )
    try:
        shopper = app.test_client()
        address = {"REMOTE_ADDR": "203.0.113.9"}
        for _ in range(2):  # the same person twice counts once
            shopper.get(path_of(live_codes[3]), environ_base=address)
        for host in (10, 11):  # two more people (each at their own address: see test_scanners)
            last = app.test_client().get(
                path_of(live_codes[3]), environ_base={"REMOTE_ADDR": f"203.0.113.{host}"}
            )
        assert re.search(
            r"此码已被查验 3 次，首次于 \d{4}年\d{1,2}月\d{1,2}日 在 湖南省益阳市", text(last)
        )
        english = app.test_client().get(
            path_of(live_codes[3]),
            environ_base={"REMOTE_ADDR": "203.0.113.12"},
            headers={"Accept-Language": "en"},
        )
        assert re.search(
            r"checked 4 times; first on \d{1,2} \w{3} \d{4} in Yiyang, Hunan", text(english)
        )
    finally:
        database(app).dispose()


def test_an_unreleased_batch_is_unauthorized(
    client: FlaskClient, settings: Settings, world: Any
) -> None:
    response = client.get(path_of(undelivered_code(settings, world.theirs)))
    page = text(response)
    assert response.status_code == 200 and "未经授权的标签" in page and "verdict-bad" in page
    assert reasons_on(page) == ["batch_not_active"]
    assert REASONS["batch_not_active"].zh in page
    assert '<details class="card report" open>' in page  # a refused label: report it


def test_a_typed_serial_of_an_unreleased_batch_shows_only_not_released(
    client: FlaskClient, db: Database, settings: Settings, world: Any
) -> None:
    manifest = settings.home / "runs" / str(world.theirs) / "manifest.csv"
    with manifest.open(encoding="utf-8", newline="") as rows:
        label = next(csv.DictReader(rows))
    scanned = text(client.get(path_of(label["qr_text"])))
    with db.session() as s:
        enterprise = s.get(Enterprise, world.enterprise_id)
        product = s.get(Product, world.product_id)
        assert enterprise is not None and product is not None
        names = (enterprise.uscc, enterprise.name, product.name_zh)
    assert all(name in scanned for name in names)  # a signed code: today's full answer
    assert '<dl class="facts' in scanned
    for lang in ("zh", "en"):
        response = client.get(
            "/check", query_string={"code": label["printed_serial"], "lang": lang}
        )
        page = text(response)
        assert response.status_code == 200 and "verdict-bad" in page
        assert reasons_on(page) == ["batch_not_active"]
        assert getattr(REASONS["batch_not_active"], lang) in page
        assert label["printed_serial"] in page
        assert not any(name in page for name in names), lang
        assert '<dl class="facts' not in page and 'class="history"' not in page  # no card


@pytest.mark.parametrize(
    ("path", "verdict_class", "reason"),
    [
        ("/V/AE4HNOTACODE", "verdict-bad", "malformed"),
        ("/V/", "verdict-bad", "malformed"),
        ("/v/" + "A" * 119 + "!", "verdict-bad", "malformed"),
        ("/check?code=https%3A%2F%2Fexample.com%2Fitem%2F42", "verdict-none", "not_ours"),
        ("/check?code=0000-0000-01Y", "verdict-bad", "malformed"),  # a typo caught by the check
    ],
)
def test_anything_else_is_a_clear_answer(
    client: FlaskClient, world: Any, path: str, verdict_class: str, reason: str
) -> None:
    response = client.get(path)
    page = text(response)
    assert response.status_code == 200 and verdict_class in page
    assert reasons_on(page) == [reason] and REASONS[reason].zh in page
    assert 'id="gm-locate-box"' not in page  # nothing to locate


def test_a_typed_serial(client: FlaskClient, live_codes: list[str], db: Database) -> None:
    client.get(path_of(live_codes[0]))
    serial = re.search(r"<code>([0-9A-Z-]{13})</code>", text(client.get(path_of(live_codes[0]))))
    assert serial is not None
    typed = client.get("/check", query_string={"code": serial.group(1).lower().replace("-", " ")})
    page = text(typed)
    assert typed.status_code == 200 and ZH_GENUINE in page and serial.group(1) in page
    assert 'id="gm-locate-box"' not in page  # a typed serial is not where the label is
    form = text(client.get("/check"))
    assert 'action="/check"' in form and 'name="code"' in form
    assert 'action="/check"' in text(client.get("/"))  # the landing page has the field too
    with db.session() as s:
        typed_scans = s.scalar(select(func.count()).where(ScanRecord.typed.is_(True)))
    assert typed_scans == 1


def test_every_value_is_escaped(
    client: FlaskClient, db: Database, world: Any, live_codes: list[str]
) -> None:
    with db.session() as s:
        s.execute(
            update(Product)
            .where(Product.id == world.product_id)
            .values(name_zh=XSS, name_en=XSS, holder='"><img src=x onerror=alert(2)>')
        )
        s.execute(
            update(Enterprise)
            .where(Enterprise.id == world.enterprise_id)
            .values(name="<svg onload=alert(3)>")
        )
    for language in ("zh-CN", "en"):
        page = text(client.get(path_of(live_codes[0]), headers={"Accept-Language": language}))
        assert XSS not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "<img src=x" not in page and "<svg onload" not in page
        assert "&lt;svg onload=alert(3)&gt;" in page


def test_failures_of_the_page_are_pages(client: FlaskClient, world: Any) -> None:
    response = client.post("/report", data={"text": "fake"})  # no CSRF token
    assert response.status_code == 400 and response.mimetype == "text/html"
    assert "表单已过期或并非来自本站" in text(response)


def test_many_people_on_one_code_is_a_suspected_copy(
    client: FlaskClient, live_codes: list[str]
) -> None:
    app = client.application
    for host in range(6):  # one more than a household, its shop and a gift (max_scanners = 5)
        # Each at their own address: cookie-less scans from one address are one scanner.
        last = app.test_client().get(
            path_of(live_codes[5]), environ_base={"REMOTE_ADDR": f"192.0.2.{host + 1}"}
        )
    page = text(last)
    assert last.status_code == 200 and "疑似复制的标签" in page and "verdict-warn" in page
    assert reasons_on(page) == ["many_scanners"] and "此码已被查验 6 次" in page


def test_cannot_verify_is_said_plainly(settings: Settings, live_codes: list[str]) -> None:
    from gimark.verify_web import create_app
    from gimark.verify_web.extensions import database

    away = settings.with_overrides(database_url="postgresql+psycopg://gimark@127.0.0.1:9/none")
    app = create_app({"TESTING": True, "GIMARK_SETTINGS": away})
    try:
        response = app.test_client().get(path_of(live_codes[0]), headers={"Accept-Language": "en"})
    finally:
        database(app).dispose()
    page = text(response)
    assert response.status_code == 200 and "Cannot be verified right now" in page
    assert "verdict-warn" in page and reasons_on(page) == ["state_unavailable"]
    assert EN_GENUINE not in page


def test_codes_under_other_bases_open_the_page_too(
    settings: Settings, live_codes: list[str]
) -> None:
    from gimark.verify_web import create_app
    from gimark.verify_web.extensions import database

    moved = settings.with_overrides(extra_bases=("HTTPS://OLD.EXAMPLE.CN/GI", "HTTPS://GI.CN"))
    app = create_app({"TESTING": True, "GIMARK_SETTINGS": moved})
    payload = live_codes[0].rpartition("/")[2]
    try:
        client = app.test_client()
        for path in (f"/GI/{payload}", f"/gi/{payload.lower()}", f"/{payload}"):
            assert ZH_GENUINE in text(client.get(path)), path
        assert client.get("/healthz").get_json() == {"status": "ok"}  # the root still works
        assert client.get("/no/such/page").status_code == 404
    finally:
        database(app).dispose()
