"""Scanners are what the service issued, not what a client claims: invented cookies, cleared
cookies and invented places cannot flag a genuine label (through the real JSON API)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from gimark.core.settings import Settings

ATTACKER = {"REMOTE_ADDR": "198.51.100.7"}
YIYANG = {"REMOTE_ADDR": "203.0.113.9"}  # resolves to 益阳市 (430900), in the sales region
HARBIN = {"lat": "45.75", "lon": "126.65"}
KUNMING = {"lat": "25.04", "lon": "102.71"}  # 2,600 km from Harbin
_COOKIE = re.compile(r"gm_sid=([^;]+)")


def verdict(response: Any) -> str:
    return str(response.get_json()["verdict"])


def issued_cookie(response: Any) -> str | None:
    found = _COOKIE.search(response.headers.get("Set-Cookie", ""))
    return found.group(1) if found else None


def api(client: FlaskClient, code: str, address: dict[str, str], **params: str) -> Any:
    return client.get("/api/v1/verify", query_string={"code": code, **params}, environ_base=address)


def scanner_at(app: Flask, number: int) -> FlaskClient:
    """A phone with a cookie the service issued, first seen at its own address."""
    phone = app.test_client()
    address = {"REMOTE_ADDR": f"192.0.2.{number}"}
    assert issued_cookie(phone.get("/api/v1/verify?code=x", environ_base=address))
    return phone


@pytest.fixture
def placed_app(settings: Settings, tmp_path: Path) -> Iterator[Flask]:
    """The app with an IP-region table: 203.0.113.0/24 is in Yiyang, Hunan."""
    from gimark.verify_web import create_app
    from gimark.verify_web.extensions import database

    table = tmp_path / "regions.csv"
    table.write_text("cidr,region\n203.0.113.0/24,430900\n", encoding="utf-8")
    app = create_app(
        {"TESTING": True, "GIMARK_SETTINGS": settings.with_overrides(ip_regions=table)}
    )
    yield app
    database(app).dispose()


def test_invented_and_cleared_cookies_from_one_address_are_one_scanner(
    app: Flask, live_codes: list[str]
) -> None:
    code = live_codes[0]
    attacker = app.test_client()
    for _ in range(10):  # cookies the service never issued, well-formed or not
        forged = f"{secrets.token_urlsafe(16)}.{secrets.token_urlsafe(16)}"
        for value in (forged, secrets.token_urlsafe(16)):
            attacker.set_cookie("gm_sid", value)
            assert verdict(api(attacker, code, ATTACKER)) == "genuine"
    forgetful = app.test_client(use_cookies=False)  # drops every cookie it is given
    for _ in range(30):
        response = api(forgetful, code, ATTACKER)
        assert verdict(response) == "genuine" and issued_cookie(response)
    assert verdict(api(app.test_client(), code, {"REMOTE_ADDR": "192.0.2.80"})) == "genuine"


def test_a_shopper_scanning_again_with_the_issued_cookie_counts_once(
    app: Flask, live_codes: list[str]
) -> None:
    shopper = app.test_client()
    first = api(shopper, live_codes[1], {"REMOTE_ADDR": "192.0.2.81"})
    again = api(shopper, live_codes[1], {"REMOTE_ADDR": "192.0.2.82"})  # home, another network
    assert issued_cookie(first) and issued_cookie(again) is None
    assert again.get_json()["scans"]["count"] == 1


def test_a_tampered_cookie_is_replaced_by_an_issued_one(app: Flask, live_codes: list[str]) -> None:
    phone = app.test_client()
    issued = issued_cookie(api(phone, live_codes[2], ATTACKER))
    assert issued is not None and re.fullmatch(r"[\w-]{22}\.[\w-]{22}", issued)
    assert issued_cookie(api(phone, live_codes[2], ATTACKER)) is None  # kept: it is ours
    scanner, mac = issued.split(".")
    tampered = f"{scanner}.{'A' if mac[0] != 'A' else 'B'}{mac[1:]}"
    phone.set_cookie("gm_sid", tampered)
    replaced = issued_cookie(api(phone, live_codes[2], ATTACKER))
    assert replaced is not None and replaced != tampered
    assert issued_cookie(api(phone, live_codes[2], ATTACKER)) is None


def test_places_claimed_far_from_the_address_make_no_impossible_travel(
    placed_app: Flask, live_codes: list[str]
) -> None:
    code = live_codes[3]
    first, second = scanner_at(placed_app, 1), scanner_at(placed_app, 2)
    assert verdict(api(first, code, YIYANG, **HARBIN)) == "genuine"
    assert verdict(api(second, code, YIYANG, **KUNMING)) == "genuine"


def test_places_with_no_region_to_check_still_count(
    placed_app: Flask, live_codes: list[str]
) -> None:
    code = live_codes[4]
    first, second = scanner_at(placed_app, 3), scanner_at(placed_app, 4)
    assert verdict(api(first, code, {"REMOTE_ADDR": "192.0.2.3"}, **HARBIN)) == "genuine"
    flagged = api(second, code, {"REMOTE_ADDR": "192.0.2.4"}, **KUNMING)
    assert verdict(flagged) == "duplicate_suspected"
    assert "impossible_travel" in [r["code"] for r in flagged.get_json()["reasons"]]
