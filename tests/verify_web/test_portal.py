"""The portal pages: a printer's batches and run files, an enterprise's batches and requests."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from gimark.core.db import Database
from gimark.core.settings import Settings
from gimark.labels.issuing.batches import get_batch, list_batches
from gimark.labels.issuing.serials import format_serial
from gimark.verify_web.accounts.models import Role

Factory = Callable[..., Any]
Token = Callable[[str], str]


def text(response: Any) -> str:
    return str(response.get_data(as_text=True))


def batch_count(db: Database) -> int:
    with db.session() as s:
        return len(list_batches(s))


# --- printers ----------------------------------------------------------------------------------


def test_a_printer_sees_only_its_batches(
    client: FlaskClient, db: Database, login: Factory, world: Any
) -> None:
    login("printer1")
    page = text(client.get("/portal/printer/"))
    assert f"批次 {world.mine}" in page
    assert f"批次 {world.theirs}" not in page and f"批次 {world.requested}" not in page
    with db.session() as s:
        batch = get_batch(s, world.mine)
        first, last = format_serial(batch.serial_first), format_serial(batch.serial_last)
    assert first in page and last in page
    assert "沅江芦笋" in page and "沅江市绿源芦笋专业合作社" in page and "印制台账" in page
    assert f"/portal/printer/batches/{world.mine}/files/sheets.pdf" in page
    assert f"/portal/printer/batches/{world.theirs}/files/" not in page


def test_a_printer_downloads_its_run_files(
    client: FlaskClient, login: Factory, world: Any, settings: Settings
) -> None:
    login("printer1")
    url = f"/portal/printer/batches/{world.mine}/files/sheets.pdf"
    on_disk = (settings.home / "runs" / str(world.mine) / "sheets.pdf").read_bytes()
    # Closed, as a server closes them: send_file answers with an open file.
    with client.get(url) as got:
        assert got.status_code == 200 and got.data == on_disk and on_disk.startswith(b"%PDF")
        assert got.headers["Content-Disposition"] == "attachment; filename=sheets.pdf"
        assert "private" in got.headers["Cache-Control"]
    with client.get(url, headers={"If-None-Match": got.headers["ETag"]}) as again:
        assert again.status_code == 304


def test_another_printers_batch_is_refused_and_nothing_served(
    client: FlaskClient, login: Factory, world: Any, settings: Settings
) -> None:
    their_codes = (settings.home / "runs" / str(world.theirs) / "manifest.csv").read_text()
    first_code = their_codes.splitlines()[1].split(",")[2]
    login("printer1")
    for name in ("manifest.csv", "sheets.pdf", "no-such-file.pdf"):
        refused = client.get(f"/portal/printer/batches/{world.theirs}/files/{name}")
        assert refused.status_code == 403 and refused.mimetype == "text/html"
        assert "Content-Disposition" not in refused.headers
        assert first_code not in text(refused) and b"%PDF" not in refused.data
        assert f"批次 {world.theirs} 未分配给您的印制企业" in text(refused)
        assert "not assigned to your printing company" in text(refused)
    in_english = client.get(f"/portal/printer/batches/{world.theirs}/files/sheets.pdf?lang=en")
    page = text(in_english)
    assert page.index("not assigned to your printing company") < page.index("未分配给您的印制企业")


@pytest.mark.parametrize(
    "name",
    [
        "run.json",
        "no-such-file.pdf",
        "../../secret_key",
        "..%2F..%2Fsecret_key",
        "%2E%2E/%2E%2E/secret_key",
        "sheets.pdf/../../../secret_key",
        "%2Fetc%2Fpasswd",
        "manifest.csv%00.pdf",
    ],
)
def test_names_outside_the_run_are_not_found(
    client: FlaskClient, login: Factory, world: Any, settings: Settings, name: str
) -> None:
    assert (settings.home / "secret_key").exists()  # what a traversal would be after
    login("printer1")
    # Followed: Werkzeug first merges a doubled slash ("files//etc") with a redirect.
    url = f"/portal/printer/batches/{world.mine}/files/{name}"
    response = client.get(url, follow_redirects=True)
    assert response.status_code == 404
    assert "Content-Disposition" not in response.headers
    assert (settings.home / "secret_key").read_bytes() not in response.data


def test_a_run_index_cannot_point_outside_its_folder(
    client: FlaskClient, login: Factory, world: Any, settings: Settings
) -> None:
    folder = settings.home / "runs" / str(world.mine)
    (folder / "link.pdf").symlink_to(settings.home / "secret_key")
    listed = ["../../secret_key", "/etc/passwd", "link.pdf", "sheets.pdf", "sheets.pdf"]
    (folder / "run.json").write_text(json.dumps({"files": [{"name": n} for n in listed]}))
    login("printer1")
    page = text(client.get("/portal/printer/"))
    assert "sheets.pdf" in page and "secret_key" not in page and "link.pdf" not in page
    for name in ("link.pdf", "..%2F..%2Fsecret_key"):
        url = f"/portal/printer/batches/{world.mine}/files/{name}"
        assert client.get(url).status_code == 404


def test_unknown_batches_are_not_found_in_the_readers_language(
    client: FlaskClient, login: Factory, world: Any
) -> None:
    login("printer1")
    zh = client.get("/portal/printer/batches/999999/files/sheets.pdf")
    assert zh.status_code == 404 and "未找到批次 999999" in text(zh)
    en = client.get("/portal/printer/batches/999999/files/sheets.pdf?lang=en")
    assert text(en).index("batch 999999 not found") < text(en).index("未找到批次 999999")


def test_a_batch_without_a_completed_run_offers_no_files(
    client: FlaskClient, login: Factory, world: Any, settings: Settings
) -> None:
    (settings.home / "runs" / str(world.mine) / "run.json").unlink()
    login("printer1")
    page = text(client.get("/portal/printer/"))
    assert "尚无完成的印制任务" in page
    assert f"/portal/printer/batches/{world.mine}/files/" not in page
    url = f"/portal/printer/batches/{world.mine}/files/sheets.pdf"
    assert client.get(url).status_code == 404


# --- enterprises -------------------------------------------------------------------------------


def test_an_enterprise_sees_its_batches_and_authorized_products(
    client: FlaskClient, login: Factory, world: Any
) -> None:
    login("ent1")
    page = text(client.get("/portal/enterprise/"))
    for batch_id in (world.mine, world.theirs, world.requested):
        assert f"批次 {batch_id}" in page
    assert "已申请，待批准" in page and "已印制，待交付" in page  # runs were generated
    assert f'<option value="{world.product_id}">沅江芦笋</option>' in page
    assert "君山银针" not in page  # not authorized, not offered


def test_an_enterprise_requests_a_batch(
    client: FlaskClient, db: Database, login: Factory, world: Any, csrf_token: Token
) -> None:
    login("ent1")
    token = csrf_token("/portal/enterprise/")
    data = {"product": world.product_id, "quantity": "250", "csrf_token": token}
    done = client.post("/portal/enterprise/batches", data=data)
    assert done.headers["Location"] == "/portal/enterprise/"
    with db.session() as s:
        newest = list_batches(s, enterprise_id=world.enterprise_id)[-1]
        assert newest.quantity == 250 and newest.status.value == "requested"
        assert newest.events[0].actor == "account:ent1"
    assert f"批次 {newest.id} 已申请，等待批准" in text(client.get("/portal/enterprise/"))


@pytest.mark.parametrize(
    ("product", "quantity", "zh", "en"),
    [
        ("other", "10", "未获授权", "was not authorized"),
        ("authorized", "0", "10000000", "10000000"),
        ("authorized", "-5", "-5", "-5"),
        ("authorized", "10000001", "10000001", "10000001"),
        ("authorized", "many", "", "Not a valid integer value"),
        ("missing", "10", "", "This field is required"),
    ],
)
def test_a_refused_request_says_why_and_stores_nothing(
    client: FlaskClient,
    db: Database,
    login: Factory,
    world: Any,
    csrf_token: Token,
    product: str,
    quantity: str,
    zh: str,
    en: str,
) -> None:
    ids = {"other": world.other_product_id, "authorized": world.product_id, "missing": ""}
    before = batch_count(db)
    login("ent1")
    for lang, expected in (("zh_CN", zh), ("en", en)):
        data = {"product": ids[product], "quantity": quantity}
        data["csrf_token"] = csrf_token(f"/portal/enterprise/?lang={lang}")
        client.post("/portal/enterprise/batches", data=data)
        page = text(client.get("/portal/enterprise/"))
        assert 'class="flash flash-error"' in page and expected in page
    assert batch_count(db) == before


# --- other roles, escaping ---------------------------------------------------------------------


def test_other_roles_get_a_plain_start_page(
    client: FlaskClient, login: Factory, world: Any
) -> None:
    login("admin1")
    page = client.get("/portal/?lang=en")
    assert page.status_code == 200 and "signed in as admin1" in text(page)


def test_names_are_escaped_not_run(
    client: FlaskClient,
    db: Database,
    login: Factory,
    make_account: Factory,
    make_enterprise: Factory,
    make_product: Factory,
) -> None:
    from gimark.trace.authorizations import authorize

    payload = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    enterprise = make_enterprise(name=payload)
    product = make_product(name_zh=payload, name_en=payload)
    with db.session() as s:
        authorize(
            s,
            enterprise_id=enterprise.id,
            product_id=product.id,
            valid_from=None,
            valid_until=None,
            actor="admin:test",
        )
    make_account("evil", Role.ENTERPRISE, enterprise_id=enterprise.id)
    login("evil")
    page = text(client.get("/portal/enterprise/"))
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
