"""``GET /api/v1/verify``: the contract's JSON, the scanner cookie, the scan log."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select

from gimark.core.db import Database
from gimark.labels.scanning.models import ScanRecord


def scans(db: Database) -> list[ScanRecord]:
    with db.session() as s:
        return list(s.scalars(select(ScanRecord).order_by(ScanRecord.id)))


def test_a_genuine_code_as_the_contract_says(
    client: FlaskClient, db: Database, live_codes: list[str]
) -> None:
    response = client.get("/api/v1/verify", query_string={"code": live_codes[0]})
    assert response.status_code == 200
    body = response.get_json()
    assert body["verdict"] == "genuine" and body["reasons"] == []
    assert body["serial"] and body["product"]["name_zh"] == "沅江芦笋"
    assert set(body["enterprise"]) == {"name", "uscc"}
    assert body["scans"]["count"] == 1 and body["scans"]["first_at"]
    assert body["batch"]["status"] == "delivered" and body["trace"] == []
    assert "gm_sid" in response.headers["Set-Cookie"]
    assert response.headers["Cache-Control"] == "no-store"


def test_the_scanner_cookie_makes_repeat_scans_count_once(
    client: FlaskClient, db: Database, live_codes: list[str]
) -> None:
    for _ in range(3):
        body = client.get("/api/v1/verify", query_string={"code": live_codes[1]}).get_json()
    assert body["scans"]["count"] == 1 and body["scans"]["total"] == 3
    assert len({r.scanner for r in scans(db)}) == 1


def test_place_from_geolocation_is_rounded_and_no_ip_is_stored(
    client: FlaskClient, db: Database, live_codes: list[str]
) -> None:
    client.get(
        "/api/v1/verify",
        query_string={"code": live_codes[2], "lat": "28.84512345", "lon": "112.3612"},
        headers={"User-Agent": "Mozilla/5.0 (iPhone) MicroMessenger/8.0.50"},
        environ_base={"REMOTE_ADDR": "203.0.113.7"},
    )
    (record,) = scans(db)
    assert (record.lat, record.lon, record.place_source) == (28.85, 112.36, "gps")
    assert record.ua_family == "wechat"
    assert record.ip_hash and "203.0.113" not in record.ip_hash


def test_unauthorized_and_not_ours_are_answers(
    client: FlaskClient, db: Database, world: Any
) -> None:
    import csv

    from gimark.core.settings import Settings

    settings: Settings = client.application.config["GIMARK_SETTINGS"]
    manifest = settings.home / "runs" / str(world.theirs) / "manifest.csv"
    with manifest.open(encoding="utf-8", newline="") as rows:
        undelivered = next(csv.DictReader(rows))["qr_text"]
    body = client.get("/api/v1/verify", query_string={"code": undelivered}).get_json()
    assert body["verdict"] == "unauthorized"
    assert [r["code"] for r in body["reasons"]] == ["batch_not_active"]
    assert body["reasons"][0]["zh"] and body["reasons"][0]["en"]
    other = client.get("/api/v1/verify", query_string={"code": "https://example.com/"})
    assert other.status_code == 200 and other.get_json()["verdict"] == "not_ours"
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(ScanRecord)) == 2


def _first_label(client: FlaskClient, batch_id: int) -> dict[str, str]:
    import csv

    from gimark.core.settings import Settings

    settings: Settings = client.application.config["GIMARK_SETTINGS"]
    manifest = settings.home / "runs" / str(batch_id) / "manifest.csv"
    with manifest.open(encoding="utf-8", newline="") as rows:
        return next(csv.DictReader(rows))


def test_a_typed_serial_of_an_unreleased_batch_says_only_not_active(
    client: FlaskClient, db: Database, world: Any
) -> None:
    from gimark.labels.issuing.ledger import void_serials

    label = _first_label(client, world.theirs)
    serial = int(label["serial"])
    # A spoiled label too, so that there is another reason for the answer to withhold.
    with db.session() as s:
        void_serials(s, world.theirs, [(serial, serial)], reason="smudged", actor="printer:test")
    scanned = client.get("/api/v1/verify", query_string={"code": label["qr_text"]}).get_json()
    assert {r["code"] for r in scanned["reasons"]} == {"batch_not_active", "serial_voided"}
    assert scanned["product"] and scanned["enterprise"]["uscc"] and scanned["batch"]
    typed = client.get("/api/v1/verify", query_string={"code": label["printed_serial"]})
    body = typed.get_json()
    assert typed.status_code == 200 and set(body) == set(scanned)  # every key of the contract
    assert body["verdict"] == "unauthorized" and body["typed"] is True
    assert [r["code"] for r in body["reasons"]] == ["batch_not_active"]
    assert body["reasons"][0]["zh"] and body["reasons"][0]["en"]
    assert (body["product"], body["enterprise"], body["batch"], body["scans"]) == (None,) * 4
    assert body["trace"] == [] and body["serial"] == label["printed_serial"]
    assert world.enterprise_id and scanned["enterprise"]["uscc"] not in typed.get_data(as_text=True)


def test_a_typed_serial_of_a_released_batch_keeps_its_full_answer(
    client: FlaskClient, live_codes: list[str], world: Any
) -> None:
    label = _first_label(client, world.mine)
    body = client.get("/api/v1/verify", query_string={"code": label["printed_serial"]}).get_json()
    assert body["verdict"] == "genuine" and body["typed"] is True
    assert body["product"]["name_zh"] == "沅江芦笋" and body["enterprise"]["uscc"]
    assert body["batch"]["status"] == "delivered"


def test_a_forged_code_shows_no_history_of_the_label_it_imitates(
    client: FlaskClient, live_codes: list[str]
) -> None:
    import dataclasses

    from gimark.core.settings import Settings
    from gimark.labels.issuing.codes import encode_url, parse

    settings: Settings = client.application.config["GIMARK_SETTINGS"]
    client.get("/api/v1/verify", query_string={"code": live_codes[3]})
    code = parse(live_codes[3], settings.bases)
    forged = encode_url(dataclasses.replace(code, signature=bytes(64)), settings.base_url)
    body = client.get("/api/v1/verify", query_string={"code": forged}).get_json()
    assert body["verdict"] == "unauthorized" and body["scans"] is None
