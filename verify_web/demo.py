"""``gimark demo``: a small, believable instance to look at and click through.

Idempotent: running it again reuses what the first run made.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gimark.core.context import Context
from gimark.core.db import utcnow
from gimark.keys import services as keys
from gimark.keys.commands import passphrase_of
from gimark.keys.jwks import from_jwks
from gimark.keys.keyring import PublicKeySet
from gimark.labels.issuing.batches import approve_batch, get_batch, list_batches, request_batch
from gimark.labels.issuing.codes import decode_and_verify, encode_url, sign_code
from gimark.labels.issuing.ledger import deliver_batch
from gimark.labels.issuing.serials import format_serial
from gimark.labels.offline.publish import publish_status_list
from gimark.labels.printing.runs import generate_run
from gimark.trace import services as registry
from gimark.trace.authorizations import authorize, list_authorizations
from gimark.trace.models import Enterprise, Printer, Product, ProductKind
from gimark.verify_web.accounts.models import Role
from gimark.verify_web.accounts.services import create_account, list_accounts
from gimark.verify_web.bootstrap import initialize

DEMO_PASSPHRASE = "gimark-demo-only"  # noqa: S105 - the demo instance only, never real keys
DEMO_PRODUCT = {
    "name_zh": "沅江芦笋",
    "name_en": "Yuanjiang Asparagus",
    "kind": ProductKind.PROTECTED_PRODUCT,
    "region": "430981",
    "reg_no": "GI-DEMO-430981-01",
    "holder": "沅江市芦笋产业协会",
    "sales_regions": ("430000", "420000", "440000", "360000"),  # Hunan and its neighbours
}
DEMO_ENTERPRISE = {"name": "沅江市绿源芦笋专业合作社（演示）", "uscc": "93430981MA4Q2RKX18"}
DEMO_PRINTER = {"name": "湖南华印包装印务有限公司（演示）", "uscc": "91430100MA4L1B0P3P"}
DEMO_ACCOUNTS = (  # username, role; the password is the same demo-only one for all
    ("admin", Role.ADMIN),
    ("printer", Role.PRINTER),
    ("enterprise", Role.ENTERPRISE),
    ("inspector", Role.INSPECTOR),
)
DEMO_PASSWORD = "gimark-demo"  # noqa: S105 - printed by the demo; never a real account
DELIVERED_LABELS = 24  # one A4 sheet


def _product(session: Session) -> Product:
    found = session.scalar(select(Product).where(Product.reg_no == DEMO_PRODUCT["reg_no"]))
    return found or registry.add_product(session, **DEMO_PRODUCT)  # type: ignore[arg-type]


def _enterprise(session: Session, actor: str) -> Enterprise:
    uscc = DEMO_ENTERPRISE["uscc"]
    found = session.scalar(select(Enterprise).where(Enterprise.uscc == uscc))
    return found or registry.add_enterprise(
        session, name=DEMO_ENTERPRISE["name"], uscc=uscc, actor=actor
    )


def _printer(session: Session) -> Printer:
    uscc = DEMO_PRINTER["uscc"]
    found = session.scalar(select(Printer).where(Printer.uscc == uscc))
    return found or registry.add_printer(session, name=DEMO_PRINTER["name"], uscc=uscc)


def seed_registry(gm: Context) -> dict[str, int]:
    """The demo product, enterprise (authorized for it) and printer."""
    with gm.db.session() as s:
        product = _product(s)
        enterprise = _enterprise(s, gm.actor)
        printer = _printer(s)
        if not list_authorizations(s, enterprise_id=enterprise.id):
            authorize(
                s,
                enterprise_id=enterprise.id,
                product_id=product.id,
                valid_from=None,
                valid_until=None,
                actor=gm.actor,
            )
        return {"product": product.id, "enterprise": enterprise.id, "printer": printer.id}


def seed_accounts(gm: Context, registry_ids: dict[str, int]) -> list[str]:
    """Portal accounts for each role (skipped when they exist)."""
    parties = {
        Role.PRINTER: {"printer_id": registry_ids["printer"]},
        Role.ENTERPRISE: {"enterprise_id": registry_ids["enterprise"]},
    }
    with gm.db.session() as s:
        existing = {a.username for a in list_accounts(s)}
        for username, role in DEMO_ACCOUNTS:
            if username not in existing:
                create_account(
                    s, username=username, password=DEMO_PASSWORD, role=role, **parties.get(role, {})
                )
    return [username for username, _ in DEMO_ACCOUNTS]


def seed_batches(gm: Context, registry_ids: dict[str, int], passphrase: str) -> dict[str, Any]:
    """One delivered batch with its label run, and one approved but not yet delivered."""
    with gm.db.session() as s:
        existing = list_batches(s, enterprise_id=registry_ids["enterprise"])
    if existing:
        return {"batches": [b.id for b in existing]}
    delivered = _approved_batch(gm, registry_ids, DELIVERED_LABELS)
    pending = _approved_batch(gm, registry_ids, 10)
    with gm.db.session() as s:
        signer = keys.load_signer(s, gm.settings, passphrase)
    folder = gm.settings.home / "runs" / str(delivered)
    run = generate_run(
        gm.db,
        gm.settings,
        signer,
        delivered,
        folder,
        ("csv", "pdf"),
        actor=gm.actor,
    )
    with gm.db.session() as s:
        deliver_batch(s, delivered, actor=gm.actor)
    return {"batches": [delivered, pending], "run": [str(f) for f in run.files]}


def _approved_batch(gm: Context, registry_ids: dict[str, int], quantity: int) -> int:
    with gm.db.session() as s:
        batch = request_batch(
            s,
            enterprise_id=registry_ids["enterprise"],
            product_id=registry_ids["product"],
            quantity=quantity,
            actor=gm.actor,
            max_quantity=gm.settings.max_batch_quantity,
        )
        approve_batch(s, batch.id, printer_id=registry_ids["printer"], actor=gm.actor)
        return batch.id


def sample_codes(gm: Context, passphrase: str, batch_id: int) -> list[dict[str, Any]]:
    """The first codes of the delivered batch, the first checked offline from the JWKS alone."""
    with gm.db.session() as s:
        batch = get_batch(s, batch_id)
        signer = keys.load_signer_for(s, gm.settings, passphrase, batch.key_kid or "")
        jwks = keys.export_jwks(s)
    assert batch.serial_first is not None
    offline = PublicKeySet(from_jwks(jwks))
    samples: list[dict[str, Any]] = []
    for serial in range(batch.serial_first, batch.serial_first + 3):
        url = encode_url(sign_code(signer, serial), gm.settings.base_url)
        samples.append({"serial": format_serial(serial), "url": url})
    checked = decode_and_verify(samples[0]["url"], gm.settings.bases, offline)
    samples[0]["verified_offline"] = checked.serial == batch.serial_first
    return samples


def run_demo(gm: Context) -> dict[str, Any]:
    """Initialize, seed the registry, sign and check sample codes."""
    if gm.settings.key_passphrase is None:
        gm.settings = gm.settings.with_overrides(key_passphrase=DEMO_PASSPHRASE)
    report = initialize(gm)
    passphrase = passphrase_of(gm)
    report["registry"] = seed_registry(gm)
    report["accounts"] = {
        "usernames": seed_accounts(gm, report["registry"]),
        "password": DEMO_PASSWORD,
    }
    report |= seed_batches(gm, report["registry"], passphrase)
    report["samples"] = sample_codes(gm, passphrase, report["batches"][0])
    report["status_list"] = publish_demo_list(gm, passphrase)
    return report


def publish_demo_list(gm: Context, passphrase: str) -> str:
    """Publish the status list once, as the timer would, so the demo serves one."""
    path = gm.settings.published_status_list
    with gm.db.session() as s:
        signer = keys.load_signer(s, gm.settings, passphrase)
        publish_status_list(s, signer, path, utcnow(), bases=gm.settings.bases)
    return str(path)
