"""The issue's must-show case: a competitor throws everything a client can forge at one genuine
label, from one address, and the label stays genuine for the next real shopper.

Every part of the recipe is something the client writes: whether it keeps cookies, which
cookie it sends, its method, its User-Agent and the place it claims. None of it may make the
duplicate rules see many scanners, many places or impossible travel (through the real app,
on both databases).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from simulation import traffic

from gimark.core.db import Database
from gimark.core.settings import Settings
from gimark.labels.scanning.service import read_summary

ATTACKER = {"REMOTE_ADDR": "203.0.113.7"}  # resolves to Changsha (430100), see attacked_app
SHOPPER = {"REMOTE_ADDR": "198.51.100.20"}  # another network, unknown to the table
# 1,900 km apart, claimed a minute apart. The recipe's numbers are the simulator's, which
# mixes this attack into a whole market (tests/simulation/traffic.py).
BEIJING = {"lat": str(traffic.BEIJING[0]), "lon": str(traffic.BEIJING[1])}
GUANGZHOU = {"lat": str(traffic.GUANGZHOU[0]), "lon": str(traffic.GUANGZHOU[1])}
RECIPE = traffic.ATTACK_RECIPE
_COOKIE = re.compile(r"gm_sid=([^;]+)")


@pytest.fixture
def attacked_app(settings: Settings, tmp_path: Path) -> Iterator[Flask]:
    """The app with an IP-region table that knows the attacker's network (Changsha)."""
    from gimark.verify_web import create_app
    from gimark.verify_web.extensions import database

    table = tmp_path / "regions.csv"
    table.write_text("cidr,region\n203.0.113.0/24,430100\n", encoding="utf-8")
    # The per-address scan limit would stop the flood early; the test is about what the
    # scans that get through can do, so it is off here.
    overrides = settings.with_overrides(ip_regions=table, limit_scans_per_address=0)
    app = create_app({"TESTING": True, "GIMARK_SETTINGS": overrides})
    yield app
    database(app).dispose()


def issued_cookie(response: Any) -> str | None:
    found = _COOKIE.search(response.headers.get("Set-Cookie", ""))
    return found.group(1) if found else None


def api(client: FlaskClient, code: str, method: str = "GET", **params: str) -> Any:
    query = {"code": code, **params}
    return client.open("/api/v1/verify", method=method, query_string=query, environ_base=ATTACKER)


def page(client: FlaskClient, code: str, method: str = "GET", **headers: str) -> Any:
    return client.open(urlsplit(code).path, method=method, headers=headers, environ_base=ATTACKER)


def phone_with_cookie(app: Flask, address: str) -> FlaskClient:
    """A phone holding a cookie the service issued, picked up earlier on another network."""
    phone = app.test_client()
    response = phone.get("/api/v1/verify?code=x", environ_base={"REMOTE_ADDR": address})
    assert issued_cookie(response)
    return phone


# --- the recipe: each step sends requests at the label and returns their answers ----------------

Step = Callable[[Flask, str], list[Any]]


def cookieless_gets(app: Flask, code: str) -> list[Any]:
    forgetful = app.test_client(use_cookies=False)  # drops every cookie it is given
    return [send(forgetful, code) for _ in range(RECIPE["cookieless"]) for send in (api, page)]


def heads(app: Flask, code: str) -> list[Any]:
    client = app.test_client()
    return [ask(client, code, "HEAD") for ask in (api, page) for _ in range(RECIPE["heads"] // 2)]


def never_issued_cookies(app: Flask, code: str) -> list[Any]:
    answers, client = [], app.test_client()
    for n in range(RECIPE["forged_cookies"]):
        scanner = secrets.token_urlsafe(16)
        # Half well formed (id.MAC, the MAC wrong), half garbage.
        value = f"{scanner}.{secrets.token_urlsafe(16)}" if n % 2 else secrets.token_hex(n + 1)
        client.set_cookie("gm_sid", value)
        answers.append(api(client, code))
    return answers


def previews_and_crawls(app: Flask, code: str) -> list[Any]:
    client = app.test_client()
    return [page(client, code, **{"User-Agent": agent}) for agent in traffic.PREVIEWERS] + [
        client.get(
            "/api/v1/verify",
            query_string={"code": code},
            headers={"User-Agent": agent},
            environ_base=ATTACKER,
        )
        for agent in traffic.PREVIEWERS
    ]


def issued_cookies_far_apart(app: Flask, code: str) -> list[Any]:
    north, south = phone_with_cookie(app, "192.0.2.1"), phone_with_cookie(app, "192.0.2.2")
    return [api(north, code, **BEIJING), api(south, code, **GUANGZHOU)]


ATTACK: tuple[tuple[str, Step], ...] = (
    ("30 cookie-less GETs of the API and of the page", cookieless_gets),
    ("30 HEADs", heads),
    ("20 cookies the service never issued", never_issued_cookies),
    ("link previews and crawlers", previews_and_crawls),
    ("two issued cookies claiming Beijing and Guangzhou", issued_cookies_far_apart),
)


def answered_genuine(response: Any) -> bool:
    if response.status_code != 200:
        return False
    if response.request.method == "HEAD":
        return True  # no body to read: what a HEAD may not do is count, asserted at the end
    if response.mimetype == "application/json":
        return bool(response.get_json()["verdict"] == "genuine")
    return "verdict-ok" in response.get_data(as_text=True)  # the page's genuine verdict


def test_an_attack_from_one_address_leaves_a_genuine_label_genuine(
    attacked_app: Flask, db: Database, live_codes: list[str]
) -> None:
    code = live_codes[0]
    for name, step in ATTACK:
        answers = step(attacked_app, code)
        assert answers and all(answered_genuine(a) for a in answers), name

    shopper = attacked_app.test_client().get(
        "/api/v1/verify", query_string={"code": code}, environ_base=SHOPPER
    )
    body = shopper.get_json()
    assert body["verdict"] == "genuine" and body["reasons"] == []
    with db.session() as s:
        summary = read_summary(s, body["serial_number"])
    assert summary is not None and summary.reasons == ()
