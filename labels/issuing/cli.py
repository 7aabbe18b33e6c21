"""Batch and label-run commands: ``gimark batch …`` and ``gimark run …``.

``batch request|approve|reject|deliver|revoke|show|list`` follow a batch through its life;
``run generate`` writes a batch's label run and ``run void`` records labels spoiled in printing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Final

import click

from gimark.core.context import Context
from gimark.core.output import emit, json_option
from gimark.labels.issuing import batches, ledger
from gimark.labels.issuing.errors import SerialRangeError
from gimark.labels.issuing.models import Batch, BatchEvent, BatchStatus, VoidedRange
from gimark.labels.issuing.serials import format_serial
from gimark.trace.history import format_instant

FORMATS: Final = ("csv", "pdf", "png", "svg")
DEFAULT_FORMATS: Final = "csv,pdf"
VOID_REASON: Final = "spoiled in printing / 印制损耗"


# --- how batches are shown -------------------------------------------------------------------


def _printed(serial: int | None) -> str | None:
    if serial is None:
        return None
    try:
        return format_serial(serial)
    except SerialRangeError:  # cannot happen for an allocated serial; show the number only
        return None


def batch_data(batch: Batch) -> dict[str, object]:
    """A batch as ``batch show`` and ``batch list`` print it."""
    return {
        "id": batch.id,
        "enterprise_id": batch.enterprise_id,
        "product_id": batch.product_id,
        "authorization_id": batch.authorization_id,
        "printer_id": batch.printer_id,
        "quantity": batch.quantity,
        "status": batch.status,
        "serial_first": batch.serial_first,
        "serial_last": batch.serial_last,
        "serial_first_printed": _printed(batch.serial_first),
        "serial_last_printed": _printed(batch.serial_last),
        "key_kid": batch.key_kid,
        "requested_at": batch.requested_at,
        "approved_at": batch.approved_at,
        "printed_at": batch.printed_at,
        "delivered_at": batch.delivered_at,
        "revoked_at": batch.revoked_at,
        "voided_count": batch.voided_count,
    }


def _event_data(event: BatchEvent) -> dict[str, object]:
    return {
        "action": event.action,
        "actor": event.actor,
        "at": event.at,
        "reason": event.reason,
        "detail": json.loads(event.detail) if event.detail else {},
    }


def _voided_data(row: VoidedRange) -> dict[str, object]:
    return {
        "first": row.first,
        "last": row.last,
        "first_printed": _printed(row.first),
        "last_printed": _printed(row.last),
        "reason": row.reason,
        "actor": row.actor,
        "at": row.at,
    }


def _ledger_data(figures: ledger.Ledger) -> dict[str, object]:
    return dataclasses.asdict(figures)


def _ledger_line(figures: ledger.Ledger) -> str:
    mark = "balanced / 已平衡" if figures.balanced else "open / 未平衡"
    return (
        f"ordered {figures.ordered}  printed {figures.printed}  "
        f"delivered {figures.delivered}  voided {figures.voided}  ({mark})"
    )


# --- batch -----------------------------------------------------------------------------------


@click.group("batch")
def batch_group() -> None:
    """Label batches (标签批次): request, approve, deliver, revoke."""


@batch_group.command("request")
@click.option("--enterprise", "enterprise_id", required=True, type=int, metavar="ID")
@click.option("--product", "product_id", required=True, type=int, metavar="ID")
@click.option("--quantity", required=True, type=int, metavar="N", help="Number of labels.")
@click.option("--reason", default="", help="A note kept with the request.")
@json_option
@click.pass_obj
def batch_request(
    gm: Context, enterprise_id: int, product_id: int, quantity: int, reason: str, as_json: bool
) -> None:
    """Request N labels of a product for an authorized enterprise."""
    with gm.db.session() as s:
        row = batches.request_batch(
            s,
            enterprise_id=enterprise_id,
            product_id=product_id,
            quantity=quantity,
            actor=gm.actor,
            max_quantity=gm.settings.max_batch_quantity,
            reason=reason,
        )
    emit(as_json, {"id": row.id}, f"批次 {row.id} 已申请 (batch {row.id} requested)")


@batch_group.command("approve")
@click.argument("batch_id", metavar="ID", type=int)
@click.option("--printer", "printer_id", required=True, type=int, metavar="ID")
@click.option("--reason", default="", help="A note kept with the approval.")
@json_option
@click.pass_obj
def batch_approve(gm: Context, batch_id: int, printer_id: int, reason: str, as_json: bool) -> None:
    """Approve batch ID, assign its printer and allocate its serial range."""
    with gm.db.session() as s:
        row = batches.approve_batch(
            s, batch_id, printer_id=printer_id, actor=gm.actor, reason=reason
        )
    data = {
        "id": row.id,
        "serial_first": row.serial_first,
        "serial_last": row.serial_last,
        "serial_first_printed": _printed(row.serial_first),
        "serial_last_printed": _printed(row.serial_last),
        "printer_id": row.printer_id,
        "key_kid": row.key_kid,
    }
    text = (
        f"批次 {row.id} 已批准 (batch {row.id} approved): "
        f"{data['serial_first_printed']} … {data['serial_last_printed']}"
    )
    emit(as_json, data, text)


@batch_group.command("reject")
@click.argument("batch_id", metavar="ID", type=int)
@click.option("--reason", required=True, help="Why the request is turned down.")
@json_option
@click.pass_obj
def batch_reject(gm: Context, batch_id: int, reason: str, as_json: bool) -> None:
    """Turn down the request of batch ID."""
    with gm.db.session() as s:
        row = batches.reject_batch(s, batch_id, reason=reason, actor=gm.actor)
    emit(as_json, {"id": row.id, "status": row.status}, f"批次 {row.id} 已驳回 (rejected)")


@batch_group.command("deliver")
@click.argument("batch_id", metavar="BATCH", type=int)
@click.option(
    "--delivered", type=int, metavar="N", help="Labels handed over; must be ordered − voided."
)
@click.option("--reason", default="", help="A note kept with the delivery.")
@json_option
@click.pass_obj
def batch_deliver(
    gm: Context, batch_id: int, delivered: int | None, reason: str, as_json: bool
) -> None:
    """Record delivery of BATCH to the enterprise: its labels go live."""
    with gm.db.session() as s:
        row = ledger.deliver_batch(s, batch_id, actor=gm.actor, delivered=delivered, reason=reason)
        figures = ledger.ledger(row)
    data = {"id": row.id, "status": row.status, "ledger": dataclasses.asdict(figures)}
    emit(as_json, data, f"批次 {row.id} 已交付 (delivered): {figures.line()}")


@batch_group.command("revoke")
@click.argument("batch_id", metavar="BATCH", type=int)
@click.option("--reason", required=True, help="Why: kept with the batch and shown to inspectors.")
@json_option
@click.pass_obj
def batch_revoke(gm: Context, batch_id: int, reason: str, as_json: bool) -> None:
    """Revoke BATCH: none of its labels verifies any more. Final."""
    with gm.db.session() as s:
        row = batches.revoke_batch(s, batch_id, reason=reason, actor=gm.actor)
    data = {"id": row.id, "status": row.status, "revoked_at": row.revoked_at}
    emit(as_json, data, f"批次 {row.id} 已撤销 (batch {row.id} revoked)")


@batch_group.command("show")
@click.argument("batch_id", metavar="ID", type=int)
@json_option
@click.pass_obj
def batch_show(gm: Context, batch_id: int, as_json: bool) -> None:
    """Show batch ID: its ledger, voided serials and history."""
    with gm.db.session() as s:
        row = batches.get_batch(s, batch_id)
        figures = ledger.ledger(row)
        data = batch_data(row) | {
            "ledger": dataclasses.asdict(figures),
            "voided": [_voided_data(v) for v in row.voided],
            "events": [_event_data(e) for e in row.events],
        }
    emit(as_json, data, _show_text(data, figures))


def _show_text(data: dict[str, object], figures: ledger.Ledger) -> str:
    lines = [
        f"batch {data['id']}  {data['status']}  quantity {data['quantity']}",
        f"serials {data['serial_first_printed'] or '-'} … {data['serial_last_printed'] or '-'}",
        figures.line(),
    ]
    events = data["events"]
    assert isinstance(events, list)
    lines += [
        f"  {_when(e['at'])}  {e['action']}  {e['actor']}  {e['reason']}".rstrip() for e in events
    ]
    return "\n".join(lines)


def _when(value: object) -> str:
    """A time as people in China read it (the JSON keeps UTC)."""
    return format_instant(value) if isinstance(value, dt.datetime) else str(value)


@batch_group.command("list")
@click.option("--printer", "printer_id", type=int, metavar="ID")
@click.option("--enterprise", "enterprise_id", type=int, metavar="ID")
@click.option("--status", type=click.Choice([s.value for s in BatchStatus]))
@json_option
@click.pass_obj
def batch_list(
    gm: Context,
    printer_id: int | None,
    enterprise_id: int | None,
    status: str | None,
    as_json: bool,
) -> None:
    """List batches, optionally of one printer, enterprise or status."""
    with gm.db.session() as s:
        found = batches.list_batches(
            s,
            printer_id=printer_id,
            enterprise_id=enterprise_id,
            status=None if status is None else BatchStatus(status),
        )
        rows = [batch_data(b) | {"ledger": _ledger_data(ledger.ledger(b))} for b in found]
    text = "\n".join(
        f"{r['id']}  {r['status']}  {r['quantity']}  "
        f"{r['serial_first_printed'] or '-'} … {r['serial_last_printed'] or '-'}"
        for r in rows
    )
    emit(as_json, rows, text or "(none / 无)")


def register(root: click.Group) -> None:
    root.add_command(batch_group)
