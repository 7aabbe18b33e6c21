"""Fixtures for the portal: accounts, signing in through the real form (CSRF token included),
and a small world of enterprises, printers, batches and run files."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask.testing import FlaskClient

from gimark.core.db import Database
from gimark.core.settings import Settings
from gimark.verify_web.accounts.models import Role

PASSWORD = "correct horse 42"
Factory = Callable[..., Any]
_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def form_token(client: FlaskClient, url: str) -> str:
    """The CSRF token of the form on the page at ``url``, as a browser would submit it."""
    page = client.get(url)
    found = _TOKEN.search(page.get_data(as_text=True))
    assert found, f"no CSRF token on {url} ({page.status_code})"
    return found.group(1)


@pytest.fixture
def make_account(db: Database) -> Factory:
    """Create an account; returns its id."""
    from gimark.verify_web.accounts.services import create_account

    def make(username: str, role: Role, password: str = PASSWORD, **party: int | None) -> int:
        with db.session() as s:
            return create_account(s, username=username, password=password, role=role, **party).id

    return make


@pytest.fixture
def csrf_token(client: FlaskClient) -> Callable[[str], str]:
    """``csrf_token(url)``: the token of the form on that page, for the test's client."""
    return lambda url: form_token(client, url)


@pytest.fixture
def login(client: FlaskClient) -> Callable[..., Any]:
    """Sign in through the login form; returns the response to the POST."""

    def sign_in(username: str, password: str = PASSWORD, query: str = "", **headers: str) -> Any:
        token = form_token(client, "/portal/login" + query)
        data = {"username": username, "password": password, "csrf_token": token}
        return client.post("/portal/login" + query, data=data, headers=headers)

    return sign_in


@dataclass(frozen=True)
class World:
    """Two printers, an enterprise authorized for one product, batches and their label runs."""

    enterprise_id: int
    product_id: int  # authorized
    other_product_id: int  # not authorized
    printer_id: int
    other_printer_id: int
    mine: int  # batch approved for printer_id, with a completed run
    theirs: int  # batch approved for other_printer_id, with a completed run
    requested: int  # batch not yet approved


@pytest.fixture
def world(
    db: Database,
    settings: Settings,
    make_enterprise: Factory,
    make_product: Factory,
    make_printer: Factory,
    make_account: Factory,
    run: Factory,
) -> World:
    from gimark.keys.services import create_key
    from gimark.labels.issuing.batches import approve_batch, request_batch
    from gimark.trace.authorizations import authorize

    enterprise = make_enterprise(name="沅江市绿源芦笋专业合作社")
    product = make_product(name_zh="沅江芦笋", name_en="Yuanjiang Asparagus")
    other_product = make_product(name_zh="君山银针", name_en="Junshan Yinzhen Tea")
    printer, other_printer = make_printer(name="湖南华印"), make_printer(name="长沙彩印")
    assert settings.key_passphrase is not None
    with db.session() as s:
        create_key(s, settings, settings.key_passphrase)
        authorize(
            s,
            enterprise_id=enterprise.id,
            product_id=product.id,
            valid_from=None,
            valid_until=None,
            actor="admin:test",
        )
    ids = []
    for quantity in (100, 50, 20):
        with db.session() as s:
            batch = request_batch(
                s,
                enterprise_id=enterprise.id,
                product_id=product.id,
                quantity=quantity,
                actor="account:test",
                max_quantity=1000,
            )
            ids.append(batch.id)
    mine, theirs, requested = ids
    with db.session() as s:
        approve_batch(s, mine, printer_id=printer.id, actor="admin:test")
        approve_batch(s, theirs, printer_id=other_printer.id, actor="admin:test")
    for batch_id in (mine, theirs):  # real runs, into <home>/runs/<id>/ as printers make them
        run("run", "generate", str(batch_id), "--format", "csv,pdf", "--json")
    make_account("printer1", Role.PRINTER, printer_id=printer.id)
    make_account("printer2", Role.PRINTER, printer_id=other_printer.id)
    make_account("ent1", Role.ENTERPRISE, enterprise_id=enterprise.id)
    make_account("admin1", Role.ADMIN)
    return World(
        enterprise.id,
        product.id,
        other_product.id,
        printer.id,
        other_printer.id,
        mine,
        theirs,
        requested,
    )


@pytest.fixture
def live_codes(db: Database, settings: Settings, world: World) -> list[str]:
    """The QR texts of the printer's batch, read from its run's manifest, after delivery."""
    import csv

    from gimark.labels.issuing.ledger import deliver_batch

    with db.session() as s:
        deliver_batch(s, world.mine, actor="printer:test")
    manifest = settings.home / "runs" / str(world.mine) / "manifest.csv"
    with manifest.open(encoding="utf-8", newline="") as rows:
        return [row["qr_text"] for row in csv.DictReader(rows)]
