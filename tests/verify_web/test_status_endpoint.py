"""``/.well-known/gimark/status.json``: the list ``gimark status publish`` signed, served as it is
by a web tier that holds no key passphrase.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from gimark.core.db import Database, utcnow
from gimark.core.settings import Settings
from gimark.keys.jwks import from_jwks
from gimark.keys.keyring import PublicKeySet
from gimark.labels.issuing import batches, ledger
from gimark.labels.offline.statuslist import BatchState, verify_status_list
from gimark.trace.authorizations import authorize

STATUS_URL = "/.well-known/gimark/status.json"
Factory = Callable[..., Any]


@pytest.fixture
def live_batch(
    db: Database,
    run: Factory,
    make_enterprise: Factory,
    make_product: Factory,
    make_printer: Factory,
) -> int:
    """A delivered batch (``gimark init`` made the key)."""
    run("init", "--json")
    enterprise, product, printer = make_enterprise(), make_product(), make_printer()
    with db.session() as s:
        authorize(
            s,
            enterprise_id=enterprise.id,
            product_id=product.id,
            valid_from=None,
            valid_until=None,
            actor="admin:test",
        )
        batch = batches.request_batch(
            s,
            enterprise_id=enterprise.id,
            product_id=product.id,
            quantity=10,
            actor="enterprise:test",
            max_quantity=100,
        )
        batches.approve_batch(s, batch.id, printer_id=printer.id, actor="admin:test")
        batches.mark_printed(s, batch.id, actor="printer:test", detail={"files": []})
        ledger.deliver_batch(s, batch.id, actor="printer:test")
        return batch.id


@pytest.fixture
def web(settings: Settings) -> Iterator[FlaskClient]:
    """A client of the web tier as deployed: without GIMARK_KEY_PASSPHRASE."""
    from gimark.verify_web import create_app
    from gimark.verify_web.extensions import database

    locked = settings.with_overrides(key_passphrase=None)
    flask_app: Flask = create_app({"TESTING": True, "GIMARK_SETTINGS": locked})
    yield flask_app.test_client()
    database(flask_app).dispose()


def verified(web: FlaskClient, body: bytes) -> Any:
    published = PublicKeySet(from_jwks(web.get("/.well-known/gimark/jwks.json").get_json()))
    return verify_status_list(json.loads(body), published, utcnow())


def test_the_web_tier_serves_the_published_list_as_written_and_it_verifies(
    web: FlaskClient, settings: Settings, run: Factory, live_batch: int
) -> None:
    summary = run("status", "publish", "--json").json()
    written = settings.published_status_list.read_bytes()
    response = web.get(STATUS_URL)
    assert response.status_code == 200
    assert response.data == written
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    status = verified(web, response.data)
    (entry,) = status.batches
    assert (entry.id, entry.state) == (live_batch, BatchState.ACTIVE)
    # Last-Modified is the list's own generation time, to the second HTTP dates carry.
    generated = dt.datetime.fromisoformat(summary["generated_at"])
    assert response.last_modified == generated.replace(microsecond=0)
    again = web.get(STATUS_URL, headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_before_any_publish_the_service_says_when_to_come_back(
    web: FlaskClient, live_batch: int
) -> None:
    response = web.get(STATUS_URL, headers={"Accept": "text/html"})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "60"
    error = response.get_json()["error"]
    assert error["code"] == "status_list_unavailable"
    assert "状态清单" in error["zh"] and "status list" in error["en"]


def test_a_revocation_shows_once_republished_under_a_new_etag(
    db: Database, web: FlaskClient, run: Factory, live_batch: int
) -> None:
    run("status", "publish")
    before = web.get(STATUS_URL)
    with db.session() as s:
        batches.revoke_batch(s, live_batch, reason="假冒投诉核实", actor="admin:test")
    # The web tier never signs: until the timer publishes, it serves what was published.
    unchanged = web.get(STATUS_URL, headers={"If-None-Match": before.headers["ETag"]})
    assert unchanged.status_code == 304
    run("status", "publish")
    after = web.get(STATUS_URL, headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    assert after.headers["ETag"] != before.headers["ETag"]
    (entry,) = verified(web, after.data).batches
    assert entry.state is BatchState.REVOKED
