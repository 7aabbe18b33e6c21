"""What the portal pages show: batches (names in the reader's language, the printed serial
range, the ledger, for printers the files of a completed run) and the products an enterprise
may request labels for."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from flask_babel import lazy_gettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from gimark.core.settings import Settings
from gimark.labels.issuing.ledger import Ledger, ledger
from gimark.labels.issuing.models import Batch, BatchStatus
from gimark.labels.issuing.serials import format_serial
from gimark.trace.authorizations import authorization_state, list_authorizations
from gimark.trace.models import Enterprise, Printer, Product
from gimark.verify_web.i18n import pick
from gimark.verify_web.run_files import RunFile, run_files

STATUS_LABELS = {
    BatchStatus.REQUESTED: lazy_gettext("requested, awaiting approval"),
    BatchStatus.APPROVED: lazy_gettext("approved, to be printed"),
    BatchStatus.PRINTED: lazy_gettext("printed, to be delivered"),
    BatchStatus.DELIVERED: lazy_gettext("delivered, labels live"),
    BatchStatus.REJECTED: lazy_gettext("rejected"),
    BatchStatus.REVOKED: lazy_gettext("revoked"),
}


@dataclass(frozen=True)
class BatchRow:
    """One line of a batch table."""

    id: int
    product: str
    enterprise: str
    printer: str | None
    quantity: int
    status: BatchStatus
    status_label: str
    serials: tuple[str, str] | None  # first and last, printed form (0000-0000-01X)
    requested_at: dt.datetime
    ledger: Ledger
    files: Sequence[RunFile]


M = TypeVar("M", Product, Enterprise, Printer)


def _by_id(session: Session, model: type[M], ids: set[int]) -> dict[int, M]:
    # One query per table for the whole page, not one per row.
    if not ids:
        return {}
    return {row.id: row for row in session.scalars(select(model).where(model.id.in_(ids)))}


def _serials(batch: Batch) -> tuple[str, str] | None:
    first, last = batch.serial_first, batch.serial_last
    return None if first is None or last is None else (format_serial(first), format_serial(last))


def batch_rows(
    session: Session, batches: Sequence[Batch], settings: Settings | None = None
) -> list[BatchRow]:
    """Rows for ``batches``; with ``settings``, each row lists its run's files."""
    products = _by_id(session, Product, {b.product_id for b in batches})
    enterprises = _by_id(session, Enterprise, {b.enterprise_id for b in batches})
    printers = _by_id(session, Printer, {b.printer_id for b in batches if b.printer_id})
    rows = []
    for batch in batches:
        product = products[batch.product_id]
        printer = printers.get(batch.printer_id) if batch.printer_id else None
        serials = _serials(batch)
        rows.append(
            BatchRow(
                id=batch.id,
                product=pick(product.name_zh, product.name_en),
                enterprise=enterprises[batch.enterprise_id].name,
                printer=printer.name if printer else None,
                quantity=batch.quantity,
                status=batch.status,
                status_label=str(STATUS_LABELS[batch.status]),
                serials=serials,
                requested_at=batch.requested_at,
                ledger=ledger(batch),
                files=run_files(settings, batch.id) if settings and serials else [],
            )
        )
    return rows


def authorized_products(
    session: Session, enterprise_id: int, now: dt.datetime
) -> list[tuple[int, str]]:
    """The products the enterprise may request labels for at ``now``: (id, name) pairs.

    What the request form offers; request_batch checks again when a request comes in.
    """
    offered: dict[int, str] = {}
    checked: set[int] = set()
    for authorization in list_authorizations(session, enterprise_id=enterprise_id):
        product = authorization.product
        if product.id in checked:
            continue  # authorization_state already weighed every authorization of the pair
        checked.add(product.id)
        state = authorization_state(
            session, enterprise_id=enterprise_id, product_id=product.id, at=now
        )
        if state.ok:
            offered[product.id] = pick(product.name_zh, product.name_en)
    return list(offered.items())
