"""Abuse limits at the HTTP edge: sign-ins and reports answer 429 with Retry-After once over,
on every app instance sharing the database, and one address's count is not another's."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from gimark.core.db import Database
from gimark.core.limits import RateLimit
from gimark.core.settings import Settings
from gimark.verify_web.accounts.models import Role

PASSWORD = "correct horse 42"
API = "/api/v1/reports"
HOME = "203.0.113.7"
ELSEWHERE = "198.51.100.9"
_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
Client = Callable[..., FlaskClient]


@pytest.fixture
def make_client(settings: Settings) -> Iterator[Client]:
    """``make_client(address, **limits)``: a client of a new app instance on the test's database,
    with those limits, whose requests come from ``address``."""
    from gimark.verify_web import create_app
    from gimark.verify_web.extensions import database

    apps: list[Flask] = []

    def make(address: str = HOME, **limits: int) -> FlaskClient:
        config = {"TESTING": True, "GIMARK_SETTINGS": settings.with_overrides(**limits)}
        # One secret for every instance, as servers behind one name share theirs: the keys
        # of the counts are hashed with it.
        config["SECRET_KEY"] = "one secret for every instance"
        apps.append(create_app(config))
        client = apps[-1].test_client()
        client.environ_base["REMOTE_ADDR"] = address
        return client

    yield make
    for app in apps:
        database(app).dispose()


def sign_in(client: FlaskClient, username: str, password: str) -> Any:
    page = client.get("/portal/login").get_data(as_text=True)
    token = _TOKEN.search(page)
    assert token is not None
    data = {"username": username, "password": password, "csrf_token": token.group(1)}
    return client.post("/portal/login", data=data)


def photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (163, 40, 28)).save(out, "PNG")
    return out.getvalue()


def report(client: FlaskClient, with_photo: bool = False) -> Any:
    if not with_photo:
        return client.post(API, json={"text": "价格太低"})
    fields = {"text": "看这张图", "photo": FileStorage(io.BytesIO(photo()), filename="a.png")}
    boundary, body = encode_multipart(fields)
    return client.post(API, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def assert_limited(response: Any, code: str) -> None:
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1
    error = response.get_json()["error"]
    assert error["code"] == code and "秒后再试" in error["zh"] and "try again" in error["en"]


# --- sign-in ---------------------------------------------------------------------------------


@pytest.fixture
def account(make_account: Callable[..., int]) -> str:
    make_account("inspector1", Role.INSPECTOR, PASSWORD)
    return "inspector1"


def test_the_right_password_is_refused_while_the_username_is_locked_out(
    make_client: Client, account: str
) -> None:
    client = make_client(limit_login_failures=3, limit_login_lockout=60)
    assert [sign_in(client, account, "wrong").status_code for _ in range(3)] == [401] * 3
    refused = sign_in(client, account, PASSWORD)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "60"
    assert "秒后再试" in refused.get_data(as_text=True)
    assert sign_in(client, account.upper(), PASSWORD).status_code == 429  # the same username


def test_the_lockout_follows_the_username_to_another_address_and_server(
    make_client: Client, account: str
) -> None:
    first = make_client(HOME, limit_login_failures=2)
    for _ in range(2):
        sign_in(first, account, "wrong")
    second = make_client(ELSEWHERE, limit_login_failures=2)
    assert sign_in(second, account, PASSWORD).status_code == 429


def test_signing_in_clears_the_usernames_count(make_client: Client, account: str) -> None:
    client = make_client(limit_login_failures=3)
    for _ in range(2):
        sign_in(client, account, "wrong")
    assert sign_in(client, account, PASSWORD).status_code == 302
    after = [sign_in(make_client(), account, "wrong").status_code for _ in range(3)]
    assert after == [401] * 3


def test_one_address_trying_many_usernames_is_limited_and_no_other(make_client: Client) -> None:
    client = make_client(HOME, limit_login_per_address=3)
    assert [sign_in(client, f"user{i}", "x").status_code for i in range(3)] == [401] * 3
    assert sign_in(client, "user9", "x").status_code == 429
    assert (
        sign_in(make_client(ELSEWHERE, limit_login_per_address=3), "user9", "x").status_code == 401
    )


# --- reports ---------------------------------------------------------------------------------

CASES = [  # (limits, how many pass, with a photo)
    ({"limit_reports_per_address": 2}, 2, False),
    ({"limit_photos_per_address": 1}, 1, True),
]


@pytest.mark.parametrize(("limits", "passing", "with_photo"), CASES)
def test_reports_from_one_address_are_limited_on_every_instance(
    make_client: Client, limits: dict[str, int], passing: int, with_photo: bool
) -> None:
    # Alternating between two instances: the count is the database's, not a worker's.
    clients = [make_client(HOME, **limits), make_client(HOME, **limits)]
    statuses = [report(clients[i % 2], with_photo).status_code for i in range(passing)]
    assert statuses == [201] * passing
    assert_limited(report(clients[passing % 2], with_photo), "report_rate_limited")
    assert report(make_client(ELSEWHERE, **limits), with_photo).status_code == 201


def test_photos_are_limited_more_tightly_than_words(make_client: Client) -> None:
    client = make_client(limit_photos_per_address=1, limit_reports_per_address=5)
    assert report(client, with_photo=True).status_code == 201
    assert_limited(report(client, with_photo=True), "report_rate_limited")
    assert report(client).status_code == 201


def test_one_scanner_is_limited_whatever_its_address(make_client: Client) -> None:
    limits = {"limit_reports_per_scanner": 2}
    clients = [make_client(HOME, **limits), make_client(ELSEWHERE, **limits)]
    # The cookie the service issued to the first (only such a cookie names a scanner),
    # carried to another address by the second.
    issued = clients[0].get("/api/v1/verify?code=x").headers["Set-Cookie"]
    cookie = issued.split(";", 1)[0].split("=", 1)[1]
    for client in clients:
        client.set_cookie("gm_sid", cookie)
    assert [report(clients[i]).status_code for i in range(2)] == [201, 201]
    assert_limited(report(clients[0]), "report_rate_limited")


def test_the_page_form_is_limited_too(make_client: Client) -> None:
    client = make_client(limit_reports_per_address=1)
    assert report(client).status_code == 201
    page = client.get("/report?lang=en").get_data(as_text=True)
    token = _TOKEN.search(page)
    assert token is not None
    data = {"csrf_token": token.group(1), "text": "again"}
    refused = client.post("/report?lang=en", data=data)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert "too many reports" in refused.get_data(as_text=True)


def test_no_address_is_stored_in_the_clear(make_client: Client, db: Database) -> None:
    report(make_client(HOME))
    with db.session() as s:
        keys = list(s.scalars(select(RateLimit.key)))
    assert keys and not any(HOME in key for key in keys)


# --- typed serials ---------------------------------------------------------------------------

TYPED = "7K3M-9QX2-4P"  # looks like a serial: the lookup is counted, whatever the verdict
SCANNED = "HTTP://127.0.0.1:8000/V/1ABCDEFGHJKMNPQRSTVWXYZ"


@pytest.mark.parametrize("url", ["/api/v1/verify?code={}", "/check?code={}"])
def test_typed_serials_from_one_address_are_limited(make_client: Client, url: str) -> None:
    client = make_client(limit_typed_lookups_per_address=2)
    assert [client.get(url.format(TYPED)).status_code for _ in range(2)] == [200, 200]
    refused = client.get(url.format(TYPED))
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert "秒后再试" in refused.get_data(as_text=True)
    assert client.get(url.format(SCANNED)).status_code == 200  # scanned codes are not limited
    other = make_client(ELSEWHERE, limit_typed_lookups_per_address=2)
    assert other.get(url.format(TYPED)).status_code == 200


# --- the photos' disk quota ------------------------------------------------------------------


def test_photos_past_the_upload_quota_are_refused_and_words_still_taken(
    make_client: Client, settings: Settings
) -> None:
    client = make_client(limit_upload_bytes=len(photo()) + 10)
    assert report(client, with_photo=True).status_code == 201
    (settings.home / "uploads" / "other.png").write_bytes(b"x" * 20)  # another photo, kept
    refused = report(client, with_photo=True)
    assert refused.status_code == 507 and refused.get_json()["error"]["code"] == "uploads_full"
    assert report(client).status_code == 201


# --- scans -----------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/api/v1/verify?code={}", "/{}"])
def test_scans_from_one_address_are_limited_on_every_instance(
    make_client: Client, url: str
) -> None:
    scanned = SCANNED.split("/", 3)[3]
    code = SCANNED if url.startswith("/api") else scanned
    clients = [make_client(HOME, limit_scans_per_address=3, limit_scan_sample=1) for _ in range(2)]
    statuses = [clients[i % 2].get(url.format(code)).status_code for i in range(3)]
    assert statuses == [200] * 3
    assert clients[0].head(url.format(code)).status_code == 200  # a HEAD is no scan
    refused = clients[1].get(url.format(code))
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert "秒后再试" in refused.get_data(as_text=True)
    other = make_client(ELSEWHERE, limit_scans_per_address=3, limit_scan_sample=1)
    assert other.get(url.format(code)).status_code == 200


def test_sampled_scans_are_refused_once_over_and_every_instance_learns_it(
    make_client: Client,
) -> None:
    # One scan in 4 counts 4: over a limit of 8 after 3 counted scans (12 scans on average).
    # The chance that 200 scans count fewer than 3 is under 1e-20, so this does not flake.
    limits = {"limit_scans_per_address": 8, "limit_scan_sample": 4}
    first, second = make_client(HOME, **limits), make_client(HOME, **limits)
    statuses = [first.get(f"/api/v1/verify?code={SCANNED}").status_code for _ in range(200)]
    refused_from = statuses.index(429)
    assert set(statuses[:refused_from]) == {200} and set(statuses[refused_from:]) == {429}
    # The other instance counts its own sampled scans, and its first one finds the count over.
    later = [second.get(f"/api/v1/verify?code={SCANNED}").status_code for _ in range(200)]
    assert 429 in later and set(later[later.index(429) :]) == {429}
    assert make_client(ELSEWHERE, **limits).get(f"/api/v1/verify?code={SCANNED}").status_code == 200
