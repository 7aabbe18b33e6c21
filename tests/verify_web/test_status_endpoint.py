"""``/.well-known/gimark/status.json``: the signed status list, next to the key set."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
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


def test_the_list_is_signed_by_a_published_key_and_cacheable(
    client: FlaskClient, live_batch: int
) -> None:
    response = client.get(STATUS_URL)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    published = PublicKeySet(from_jwks(client.get("/.well-known/gimark/jwks.json").get_json()))
    status = verify_status_list(response.get_json(), published, utcnow())
    (entry,) = status.batches
    assert (entry.id, entry.state) == (live_batch, BatchState.ACTIVE)
    again = client.get(STATUS_URL, headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_a_revocation_shows_in_the_next_list(
    db: Database, client: FlaskClient, live_batch: int
) -> None:
    before = client.get(STATUS_URL)
    assert client.get(STATUS_URL).headers["ETag"] == before.headers["ETag"]  # not re-signed
    with db.session() as s:
        batches.revoke_batch(s, live_batch, reason="假冒投诉核实", actor="admin:test")
    after = client.get(STATUS_URL, headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    assert after.get_json()["payload"]["batches"][0]["state"] == "revoked"


@pytest.fixture
def app_without_passphrase(settings: Settings) -> Iterator[Any]:
    from gimark.verify_web import create_app
    from gimark.verify_web.extensions import database

    locked = settings.with_overrides(key_passphrase=None)
    flask_app = create_app({"TESTING": True, "GIMARK_SETTINGS": locked})
    yield flask_app
    database(flask_app).dispose()


def test_a_service_that_cannot_sign_says_so(app_without_passphrase: Any, live_batch: int) -> None:
    response = app_without_passphrase.test_client().get(STATUS_URL)
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "status_list_unavailable"
