"""Sessions end for good: signing out and a password change end every session of the account."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from gimark.core.db import Database
from gimark.verify_web.accounts import services as accounts
from gimark.verify_web.accounts.models import Role

PASSWORD = "correct horse 42"  # the make_account fixture's
Factory = Callable[..., Any]
Token = Callable[[str], str]


def copy_of_the_cookie(app: Flask, client: FlaskClient) -> FlaskClient:
    """A second browser holding a copy of ``client``'s session cookie (a stolen cookie)."""
    name = app.config["SESSION_COOKIE_NAME"]
    cookie = client.get_cookie(name)
    assert cookie is not None, "not signed in"
    other = app.test_client()
    other.set_cookie(name, cookie.value)
    return other


def signed_out(response: Any) -> bool:
    return response.status_code == 302 and response.headers["Location"].startswith("/portal/login")


def test_a_cookie_copied_before_sign_out_does_not_open_the_portal_after_it(
    app: Flask, client: FlaskClient, login: Factory, make_account: Factory, csrf_token: Token
) -> None:
    make_account("admin1", Role.ADMIN)
    login("admin1")
    thief = copy_of_the_cookie(app, client)
    assert thief.get("/portal/").status_code == 200  # the copy works while the session lives
    client.post("/portal/logout", data={"csrf_token": csrf_token("/portal/")})
    assert signed_out(client.get("/portal/"))
    assert signed_out(thief.get("/portal/"))
    # The stale cookie gets the sign-in page, not an error.
    page = thief.get("/portal/", follow_redirects=True)
    assert page.status_code == 200 and 'name="password"' in page.get_data(as_text=True)


def test_signing_in_again_after_sign_out_works(
    client: FlaskClient, login: Factory, make_account: Factory, csrf_token: Token
) -> None:
    make_account("admin1", Role.ADMIN)
    login("admin1")
    client.post("/portal/logout", data={"csrf_token": csrf_token("/portal/")})
    assert login("admin1").status_code == 302
    assert client.get("/portal/").status_code == 200


def test_a_password_change_ends_the_other_sessions(
    app: Flask,
    client: FlaskClient,
    db: Database,
    login: Factory,
    make_account: Factory,
    run: Callable[..., Any],
) -> None:
    make_account("admin1", Role.ADMIN)
    login("admin1")
    other = copy_of_the_cookie(app, client)
    new_password = "a brand new one 7"
    changed = run(
        "account", "password", "Admin1", "--json", env={"GIMARK_ACCOUNT_PASSWORD": new_password}
    ).json()
    assert changed["username"] == "admin1" and "password_hash" not in changed
    assert signed_out(client.get("/portal/")) and signed_out(other.get("/portal/"))
    assert login("admin1", PASSWORD).status_code == 401  # the old password is gone
    assert login("admin1", new_password).status_code == 302
    with db.session() as s:
        assert accounts.authenticate(s, username="admin1", password=new_password).id


def test_a_session_from_before_session_versions_gets_the_sign_in_page(
    app: Flask, client: FlaskClient, make_account: Factory
) -> None:
    account_id = make_account("admin1", Role.ADMIN)
    # What Flask-Login stored before the version rode along: the bare account id.
    with client.session_transaction() as session:
        session["_user_id"] = str(account_id)
        session["_fresh"] = True
    assert signed_out(client.get("/portal/"))
    for forged in (f"{account_id}:x", f"{account_id}:", ":1", "999999:1"):
        with client.session_transaction() as session:
            session["_user_id"] = forged
        assert signed_out(client.get("/portal/")), forged


def test_password_change_refusals(db: Database, run: Callable[..., Any]) -> None:
    with db.session() as s:
        accounts.create_account(s, username="admin1", password=PASSWORD, role=Role.ADMIN)
    short = run("account", "password", "admin1", env={"GIMARK_ACCOUNT_PASSWORD": "short"}, ok=False)
    assert short.exit_code != 0 and "Traceback" not in short.stderr
    assert "8" in short.stderr and len(short.stderr.strip().splitlines()) == 1
    nobody = run(
        "account", "password", "nobody", env={"GIMARK_ACCOUNT_PASSWORD": PASSWORD}, ok=False
    )
    assert nobody.exit_code != 0 and "nobody" in nobody.stderr
    with db.session() as s:
        assert accounts.get_account(s, "admin1").session_version == 1  # nothing changed
