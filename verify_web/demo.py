"""``gimark demo``: a small, believable instance to look at and click through.

Idempotent: running it again reuses what the first run made.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gimark.core.context import Context
from gimark.keys import services as keys
from gimark.keys.cli import passphrase_of
from gimark.keys.jwks import from_jwks
from gimark.keys.keyring import PublicKeySet
from gimark.labels.codes import decode_and_verify, encode_url, sign_code
from gimark.labels.serials import format_serial
from gimark.trace import services as registry
from gimark.trace.authorizations import authorize, list_authorizations
from gimark.trace.models import Enterprise, Printer, Product, ProductKind
from gimark.verify_web.bootstrap import initialize

DEMO_PASSPHRASE = "gimark-demo-only"  # noqa: S105 - the demo instance only, never real keys
DEMO_PRODUCT = {
    "name_zh": "沅江芦笋",
    "name_en": "Yuanjiang Asparagus",
    "kind": ProductKind.PROTECTED_PRODUCT,
    "region": "430981",
    "reg_no": "GI-DEMO-430981-01",
    "holder": "沅江市芦笋产业协会",
}
DEMO_ENTERPRISE = {"name": "沅江市绿源芦笋专业合作社（演示）", "uscc": "93430981MA4Q2RKX18"}
DEMO_PRINTER = {"name": "湖南华印包装印务有限公司（演示）", "uscc": "91430100MA4L1B0P3P"}
SAMPLE_SERIALS = (1, 2, 3)


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


def sample_codes(gm: Context, passphrase: str) -> list[dict[str, Any]]:
    """Sign a few sample codes and check one offline, from the published JWKS alone."""
    with gm.db.session() as s:
        signer = keys.load_signer(s, gm.settings, passphrase)
        jwks = keys.export_jwks(s)
    offline = PublicKeySet(from_jwks(jwks))
    samples: list[dict[str, Any]] = []
    for serial in SAMPLE_SERIALS:
        url = encode_url(sign_code(signer, serial), gm.settings.base_url)
        samples.append({"serial": format_serial(serial), "url": url})
    checked = decode_and_verify(samples[0]["url"], gm.settings.bases, offline)
    samples[0]["verified_offline"] = checked.serial == SAMPLE_SERIALS[0]
    return samples


def run_demo(gm: Context) -> dict[str, Any]:
    """Initialize, seed the registry, sign and check sample codes."""
    if gm.settings.key_passphrase is None:
        gm.settings = gm.settings.with_overrides(key_passphrase=DEMO_PASSPHRASE)
    report = initialize(gm)
    report["registry"] = seed_registry(gm)
    report["samples"] = sample_codes(gm, passphrase_of(gm))
    return report
