"""The published key set at the well-known URL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient


def test_jwks_is_published_and_cacheable(run: Callable[..., Any], client: FlaskClient) -> None:
    key = run("init", "--json").json()["key"]
    response = client.get("/.well-known/gimark/jwks.json")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=300"
    (jwk,) = response.get_json()["keys"]
    assert jwk["kid"] == key["kid"] and jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519"
    again = client.get(
        "/.well-known/gimark/jwks.json", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304


def test_unknown_urls_answer_json_not_a_trace(client: FlaskClient) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
