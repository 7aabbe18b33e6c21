"""Seeding a throwaway instance for the benchmarks: schema, issuer key and an authorized registry.

The bench scripts run as ``python bench/<name>.py``, so this folder is on ``sys.path`` and they
import this module by its bare name.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from gimark.core.context import ensure_home
from gimark.core.db import Database
from gimark.core.migrate import upgrade
from gimark.core.settings import Settings
from gimark.keys.services import create_key
from gimark.labels.issuing.batches import approve_batch, request_batch
from gimark.labels.issuing.models import Batch
from gimark.trace.authorizations import authorize
from gimark.trace.models import ProductKind
from gimark.trace.services import add_enterprise, add_printer, add_product
from gimark.trace.uscc import check_character

PASSPHRASE = "bench passphrase"  # noqa: S105 - a throwaway key in a temporary folder
ACTOR = "bench"


def uscc(region: str, number: int) -> str:
    """A valid 统一社会信用代码 of a registered enterprise in ``region``."""
    first17 = f"91{region}{number:09d}"
    return first17 + check_character(first17)


def seed(settings: Settings) -> tuple[Database, tuple[int, int, int]]:
    """Migrate, create the issuer key and an authorized enterprise, product and printer.

    Returns the database and (enterprise id, product id, printer id).
    """
    ensure_home(settings)
    db = Database(settings.effective_database_url)
    upgrade(db)
    with db.session() as s:
        create_key(s, settings, PASSPHRASE)
        product = add_product(
            s,
            name_zh="沅江芦笋",
            name_en="Yuanjiang Asparagus",
            kind=ProductKind.PROTECTED_PRODUCT,
            region="430981",
        )
        enterprise = add_enterprise(s, name="沅江市芦笋合作社", uscc=uscc("430981", 1), actor=ACTOR)
        printer = add_printer(s, name="湖南印务有限公司", uscc=uscc("430100", 2))
        authorize(
            s,
            enterprise_id=enterprise.id,
            product_id=product.id,
            valid_from=None,
            valid_until=None,
            actor=ACTOR,
        )
        return db, (enterprise.id, product.id, printer.id)


def approved_batch(session: Session, size: int, ids: tuple[int, int, int]) -> Batch:
    """A batch of ``size`` labels requested and approved in ``session``; ``ids`` as
    :func:`seed` returns them."""
    enterprise_id, product_id, printer_id = ids
    batch = request_batch(
        session,
        enterprise_id=enterprise_id,
        product_id=product_id,
        quantity=size,
        actor=ACTOR,
        max_quantity=size,
    )
    approve_batch(session, batch.id, printer_id=printer_id, actor=ACTOR)
    return batch
