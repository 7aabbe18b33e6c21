"""Every response carries the security headers; cookies are Secure when served over HTTPS."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from gimark.core.settings import Settings
from gimark.verify_web.accounts.models import Role

Factory = Callable[..., Any]
HTTPS_BASE = "HTTPS://GI.EXAMPLE.CN/V"
PASSWORD = "correct horse 43"
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

# (what, URL, status): the public page, a verdict page, the API, the portal, an error page.
RESPONSES = [
    ("home page", "/", 200),
    ("verification page", "/V/NOT-A-GIMARK-CODE", 200),
    ("check form", "/check?serial=1234", 200),
    ("API", "/api/v1/verify?code=HTTP://EXAMPLE.COM/X", 200),
    ("keys", "/.well-known/gimark/jwks.json", 200),
    ("portal login", "/portal/login", 200),
    ("portal, signed out", "/portal/", 302),
    ("missing page", "/no/such/page", 404),
    ("API error", "/api/v1/no-such-thing", 404),
    ("style sheet", "/static/gimark.css", 200),
]
PORTAL = ["/portal/login", "/portal/"]
# What a CSP without 'unsafe-inline' blocks in a page.
INLINE = re.compile(r"<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=", re.IGNORECASE)


def directives(response: Any) -> dict[str, str]:
    """The Content-Security-Policy as {directive: sources}."""
    policy = response.headers["Content-Security-Policy"]
    pairs = (part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    return {pair[0]: pair[1] if len(pair) > 1 else "" for pair in pairs}


@pytest.mark.parametrize(("what", "url", "status"), RESPONSES, ids=[r[0] for r in RESPONSES])
def test_every_response_carries_the_security_headers(
    client: FlaskClient, what: str, url: str, status: int
) -> None:
    with client.get(url) as response:  # closed, as a server closes a sent file
        assert response.status_code == status, what
        body = response.get_data(as_text=True)
    assert directives(response) == {
        "default-src": "'self'",
        "base-uri": "'none'",
        "object-src": "'none'",
        "frame-ancestors": "'none'",
        "form-action": "'self'",
    }
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    if response.mimetype == "text/html":
        assert not INLINE.search(body), f"{what}: inline script or style the CSP blocks"


@pytest.mark.parametrize("url", PORTAL)
def test_portal_pages_are_never_cached(client: FlaskClient, url: str) -> None:
    assert client.get(url).headers["Cache-Control"] == "private, no-store"


def test_a_signed_in_portal_page_is_never_cached(
    client: FlaskClient, login: Factory, make_account: Factory
) -> None:
    make_account("admin1", Role.ADMIN)
    assert login("admin1").status_code == 302
    page = client.get("/portal/")
    assert page.status_code in (200, 302)
    assert page.headers["Cache-Control"] == "private, no-store"


def test_public_pages_stay_cacheable_as_they_were(client: FlaskClient) -> None:
    with client.get("/static/gimark.css") as sheet:
        assert "no-store" not in sheet.headers.get("Cache-Control", "")


# --- cookies -----------------------------------------------------------------------------------


@pytest.fixture
def app_at(settings: Settings) -> Iterator[Callable[[str], Flask]]:
    """``app_at(base)``: the app with GIMARK_BASE_URL ``base``."""
    from gimark.verify_web import create_app
    from gimark.verify_web.extensions import database

    made: list[Flask] = []

    def make(base: str) -> Flask:
        app = create_app(
            {"TESTING": True, "GIMARK_SETTINGS": settings.with_overrides(base_url=base)}
        )
        made.append(app)
        return app

    yield make
    for app in made:
        database(app).dispose()


def cookies_set(app: Flask, make_account: Factory) -> dict[str, str]:
    """Every cookie the app sets on a first visit, a language choice and a sign-in:
    {name: its Set-Cookie header}."""
    make_account("admin1", Role.ADMIN, password=PASSWORD)
    client = app.test_client()
    headers: list[str] = []
    headers += client.get("/V/NOT-A-GIMARK-CODE?lang=en").headers.getlist("Set-Cookie")
    token = TOKEN.search(client.get("/portal/login").get_data(as_text=True))
    assert token is not None
    data = {"username": "admin1", "password": PASSWORD, "csrf_token": token.group(1)}
    # An HTTPS form post carries its page as Referer (Flask-WTF checks it over HTTPS).
    signed_in = client.post(
        "/portal/login",
        data=data,
        base_url="https://localhost",
        headers={"Referer": "https://localhost/portal/login"},
    )
    assert signed_in.status_code == 302, signed_in.get_data(as_text=True)[:300]
    headers += signed_in.headers.getlist("Set-Cookie")
    return {header.split("=", 1)[0]: header for header in headers}


def attributes(header: str) -> set[str]:
    return {part.strip().split("=", 1)[0].lower() for part in header.split(";")[1:]}


def test_every_cookie_is_secure_when_served_over_https(
    app_at: Callable[[str], Flask], make_account: Factory
) -> None:
    cookies = cookies_set(app_at(HTTPS_BASE), make_account)
    assert {"gm_sid", "gm_lang", "session"} <= set(cookies), cookies
    for name, header in cookies.items():
        assert "secure" in attributes(header), name
        assert "samesite=lax" in header.lower().replace(" ", ""), name
        assert "httponly" in attributes(header), name


def test_no_cookie_claims_secure_over_plain_http(
    app_at: Callable[[str], Flask], make_account: Factory
) -> None:
    cookies = cookies_set(app_at("HTTP://127.0.0.1:8000/V"), make_account)
    assert {"gm_sid", "gm_lang", "session"} <= set(cookies), cookies
    for name, header in cookies.items():
        assert "secure" not in attributes(header), name
        assert "samesite=lax" in header.lower().replace(" ", ""), name
