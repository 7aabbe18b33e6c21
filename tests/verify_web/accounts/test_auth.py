"""Signing in and out of the portal, role checks, CSRF and the session's secret key."""

from __future__ import annotations

import stat
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from flask.testing import FlaskClient

from gimark.core.db import Database
from gimark.core.settings import Settings, load_settings
from gimark.verify_web import create_app
from gimark.verify_web.accounts.models import Role
from gimark.verify_web.accounts.services import deactivate
from gimark.verify_web.extensions import database

Factory = Callable[..., Any]


def text(response: Any) -> str:
    return str(response.get_data(as_text=True))


def test_signing_in_leads_each_role_to_its_page(
    client: FlaskClient, login: Factory, make_account: Factory, make_printer: Factory
) -> None:
    make_account("printer1", Role.PRINTER, printer_id=make_printer().id)
    signed = login("Printer1")
    assert signed.status_code == 302 and signed.headers["Location"] == "/portal/"
    assert client.get("/portal/").headers["Location"] == "/portal/printer/"
    assert client.get("/portal/printer/").status_code == 200


@pytest.mark.parametrize(
    ("query", "headers", "message"),
    [
        ("", {}, "用户名或密码错误"),
        ("?lang=en", {}, "wrong username or password"),
        ("", {"Accept-Language": "en-US,en;q=0.8"}, "wrong username or password"),
    ],
)
def test_a_failed_sign_in_says_why_in_the_readers_language(
    login: Factory, make_account: Factory, query: str, headers: dict[str, str], message: str
) -> None:
    make_account("admin1", Role.ADMIN)
    failed = login("admin1", "not the password", query, **headers)
    assert failed.status_code == 401 and message in text(failed)


def test_wrong_password_and_unknown_user_get_the_same_answer(
    client: FlaskClient, login: Factory, make_account: Factory
) -> None:
    make_account("admin1", Role.ADMIN)
    wrong = login("admin1", "not the password")
    unknown = login("nobody", "not the password")
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert "用户名或密码错误" in text(response)
    assert client.get("/portal/").status_code == 302  # still signed out


def test_a_deactivated_account_is_refused_and_signed_out(
    client: FlaskClient, db: Database, login: Factory, make_account: Factory
) -> None:
    make_account("admin1", Role.ADMIN)
    assert login("admin1").status_code == 302
    assert client.get("/portal/").status_code == 200
    with db.session() as s:
        deactivate(s, "admin1")
    # The open session ends at its next request ...
    assert client.get("/portal/").headers["Location"].startswith("/portal/login")
    # ... and signing in again is refused with a reason.
    again = login("admin1", query="?lang=en")
    assert again.status_code == 401 and "deactivated" in text(again)


def test_anonymous_visitors_are_sent_to_sign_in_and_back(
    client: FlaskClient, login: Factory, make_account: Factory, make_printer: Factory
) -> None:
    make_account("printer1", Role.PRINTER, printer_id=make_printer().id)
    sent = client.get("/portal/printer/")
    assert sent.status_code == 302
    assert sent.headers["Location"] == "/portal/login?next=%2Fportal%2Fprinter%2F"
    back = login("printer1", query="?next=%2Fportal%2Fprinter%2F")
    assert back.headers["Location"] == "/portal/printer/"


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"]
)
def test_sign_in_never_redirects_off_site(
    login: Factory, make_account: Factory, target: str
) -> None:
    make_account("admin1", Role.ADMIN)
    response = login("admin1", query=f"?next={quote(target, safe='')}")
    assert response.headers["Location"] == "/portal/"


def test_a_page_of_another_role_is_refused(
    client: FlaskClient, login: Factory, make_account: Factory, make_enterprise: Factory
) -> None:
    make_account("ent1", Role.ENTERPRISE, enterprise_id=make_enterprise().id)
    login("ent1")
    refused = client.get("/portal/printer/")
    assert refused.status_code == 403 and refused.mimetype == "text/html"
    assert "此页面仅限印制企业账户访问" in text(refused)
    assert "this page is only for printer accounts" in text(refused)  # the other language too


def test_signing_out_takes_a_post_with_its_token(
    client: FlaskClient, login: Factory, make_account: Factory, csrf_token: Callable[[str], str]
) -> None:
    make_account("admin1", Role.ADMIN)
    login("admin1")
    assert client.get("/portal/logout").status_code == 405
    assert client.post("/portal/logout").status_code == 400  # no token: a forged sign-out
    assert client.get("/portal/").status_code == 200
    out = client.post("/portal/logout", data={"csrf_token": csrf_token("/portal/")})
    assert out.headers["Location"] == "/portal/login"
    assert "您已退出登录" in text(client.get("/portal/login"))
    assert client.get("/portal/").status_code == 302


# --- CSRF and the secret key -------------------------------------------------------------------


def test_a_form_posted_without_its_token_is_refused(
    client: FlaskClient, make_account: Factory
) -> None:
    make_account("admin1", Role.ADMIN)
    posted = client.post(
        "/portal/login?lang=en", data={"username": "admin1", "password": "correct horse 42"}
    )
    assert posted.status_code == 400 and posted.mimetype == "text/html"
    assert "did not come from this site" in text(posted)
    assert client.get("/portal/").status_code == 302  # not signed in


def test_the_secret_key_is_made_once_and_kept_private(settings: Settings) -> None:
    assert settings.secret_key is None
    apps = [create_app({"GIMARK_SETTINGS": settings}) for _ in range(2)]
    path = settings.home / "secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert apps[0].secret_key == apps[1].secret_key == path.read_text().strip()
    assert len(path.read_text().strip()) == 64
    configured = load_settings({"GIMARK_HOME": str(settings.home), "GIMARK_SECRET_KEY": " set "})
    apps.append(create_app({"GIMARK_SETTINGS": configured}))
    assert apps[-1].secret_key == "set"
    for app in apps:
        database(app).dispose()
