"""Registry commands: ``gimark product|enterprise|authorize|authorization|printer``.

Dates on the command line are calendar days in China: ``--from 2026-01-01`` starts at 00:00
Asia/Shanghai and ``--until 2026-12-31`` includes that whole day (see :mod:`gimark.trace.dates`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import click
from sqlalchemy.orm import Session

from gimark.core.context import Context
from gimark.core.db import utcnow
from gimark.core.output import emit, json_option
from gimark.trace import authorizations, history, services
from gimark.trace.dates import end_of_day, parse_instant, start_of_day
from gimark.trace.errors import InvalidRegionError
from gimark.trace.models import (
    Action,
    Authorization,
    Enterprise,
    Printer,
    Product,
    ProductKind,
    StatusChangeMixin,
)
from gimark.trace.regions import lookup

DAY = click.DateTime(formats=["%Y-%m-%d"])
STATUS_ACTIONS = (Action.SUSPEND, Action.REVOKE, Action.REINSTATE)


def _instant(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.datetime | None:
    """Read ``--effective``: a date (its start in China) or an ISO 8601 time (no offset: China)."""
    if value is None:
        return None
    try:
        return parse_instant(value)
    except ValueError:
        message = f"{value!r} is not a date (2026-01-01) or a time (2026-01-01T08:00)"
        raise click.BadParameter(message, ctx, param) from None


# --- how rows are shown ----------------------------------------------------------------------


def _region(code: str) -> dict[str, str | None]:
    try:
        place = lookup(code)
    except InvalidRegionError:  # e.g. 100000, the national registrars' code: no place to name
        return {"region": code, "region_name_zh": None, "region_name_en": None}
    return {"region": code, "region_name_zh": place.name_zh, "region_name_en": place.name_en}


def product_data(product: Product) -> dict[str, object]:
    return {
        "id": product.id,
        "name_zh": product.name_zh,
        "name_en": product.name_en,
        "kind": product.kind,
        "reg_no": product.reg_no,
        "holder": product.holder,
        "created_at": product.created_at,
    } | _region(product.region)


def enterprise_data(enterprise: Enterprise, now: dt.datetime) -> dict[str, object]:
    return {
        "id": enterprise.id,
        "name": enterprise.name,
        "uscc": enterprise.uscc,
        # From the history, not the column: a change that has come into force since it was
        # recorded shows here at once.
        "status": history.status_at(enterprise.changes, now),
        "created_at": enterprise.created_at,
    } | _region(enterprise.region)


def change_data(change: StatusChangeMixin) -> dict[str, object]:
    return {
        "id": change.id,
        "action": change.action,
        "status": change.status,
        "reason": change.reason,
        "actor": change.actor,
        "effective_at": change.effective_at,
        "recorded_at": change.recorded_at,
    }


def authorization_data(authorization: Authorization, now: dt.datetime) -> dict[str, object]:
    state = authorizations.reason_at(authorization, now)
    return {
        "id": authorization.id,
        "enterprise_id": authorization.enterprise_id,
        "product_id": authorization.product_id,
        "valid_from": authorization.valid_from,
        "valid_until": authorization.valid_until,  # exclusive; None: open-ended
        "status": history.status_at(authorization.changes, now),
        "state": state,  # now, from its period, its history and its enterprise's history
        "created_at": authorization.created_at,
    }


def printer_data(printer: Printer) -> dict[str, object]:
    return {"id": printer.id, "name": printer.name, "uscc": printer.uscc, "status": printer.status}


def _lines(rows: list[dict[str, object]], *keys: str, indent: str = "") -> str:
    """One line per row for people: times in China time, a dash for nothing."""
    if not rows:
        return f"{indent}(none / 无)"
    return "\n".join(indent + "  ".join(_cell(row[key]) for key in keys) for row in rows)


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, dt.datetime):
        return history.format_instant(value)
    return str(value)


# --- products --------------------------------------------------------------------------------


@click.group()
def product() -> None:
    """GI products (地理标志产品)."""


@product.command("add")
@click.option("--name-zh", required=True, help="Chinese name.")
@click.option("--name-en", required=True, help="English name.")
@click.option("--kind", required=True, type=click.Choice([k.value for k in ProductKind]))
@click.option("--region", required=True, help="GB/T 2260 region code of the protected area.")
@click.option("--reg-no", help="Registration (announcement or trademark) number.")
@click.option("--holder", help="Who holds the GI (applicant or mark owner).")
@click.option(
    "--sales-region",
    "sales_regions",
    multiple=True,
    help="GB/T 2260 code of a region where it is sold (repeat; none: sold everywhere). "
    "Scans far outside them count toward duplicate suspicion.",
)
@json_option
@click.pass_obj
def product_add(
    gm: Context,
    name_zh: str,
    name_en: str,
    kind: str,
    region: str,
    reg_no: str | None,
    holder: str | None,
    sales_regions: tuple[str, ...],
    as_json: bool,
) -> None:
    """Register a GI product."""
    with gm.db.session() as s:
        row = services.add_product(
            s,
            name_zh=name_zh,
            name_en=name_en,
            kind=ProductKind(kind),
            region=region,
            reg_no=reg_no,
            holder=holder,
            sales_regions=sales_regions,
        )
    emit(as_json, {"id": row.id}, f"产品 {row.id} 已登记 (product {row.id} registered)")


@product.command("list")
@json_option
@click.pass_obj
def product_list(gm: Context, as_json: bool) -> None:
    """List GI products."""
    with gm.db.session() as s:
        rows = [product_data(p) for p in services.list_products(s)]
    emit(as_json, rows, _lines(rows, "id", "kind", "region", "name_zh", "name_en", "reg_no"))


# --- enterprises -----------------------------------------------------------------------------


@click.group()
def enterprise() -> None:
    """Enterprises authorized to use the special mark (用标企业)."""


@enterprise.command("add")
@click.option("--name", required=True)
@click.option("--uscc", required=True, help="统一社会信用代码 (unified social credit code).")
@json_option
@click.pass_obj
def enterprise_add(gm: Context, name: str, uscc: str, as_json: bool) -> None:
    """Register an enterprise."""
    with gm.db.session() as s:
        row = services.add_enterprise(s, name=name, uscc=uscc, actor=gm.actor)
    emit(as_json, {"id": row.id}, f"企业 {row.id} 已登记 (enterprise {row.id} registered)")


@enterprise.command("list")
@json_option
@click.pass_obj
def enterprise_list(gm: Context, as_json: bool) -> None:
    """List enterprises with their status now."""
    now = utcnow()
    with gm.db.session() as s:
        rows = [enterprise_data(e, now) for e in services.list_enterprises(s)]
    emit(as_json, rows, _lines(rows, "id", "uscc", "status", "region", "name"))


@enterprise.command("show")
@click.argument("ident", metavar="ID", type=int)
@json_option
@click.pass_obj
def enterprise_show(gm: Context, ident: int, as_json: bool) -> None:
    """Show an enterprise, its status history and its authorizations."""
    now = utcnow()
    with gm.db.session() as s:
        row = services.get_enterprise(s, ident)
        changes = [change_data(c) for c in row.changes]
        granted = authorizations.list_authorizations(s, enterprise_id=ident)
        rights = [authorization_data(a, now) for a in granted]
        data = enterprise_data(row, now) | {"changes": changes, "authorizations": rights}
    text = "\n".join(
        [
            _lines([data], "id", "uscc", "status", "region", "region_name_zh", "name"),
            "status history / 状态记录:",
            _lines(changes, "effective_at", "action", "status", "actor", "reason", indent="  "),
            "authorizations / 授权:",
            _lines(rights, "id", "product_id", "state", "valid_from", "valid_until", indent="  "),
        ]
    )
    emit(as_json, data, text)


# --- authorizations --------------------------------------------------------------------------


@click.command("authorize")
@click.option("--enterprise", "enterprise_id", required=True, type=int, metavar="ID")
@click.option("--product", "product_id", required=True, type=int, metavar="ID")
@click.option("--from", "valid_from", type=DAY, help="First day (China time); default: now.")
@click.option("--until", "valid_until", type=DAY, help="Last day, included; default: open-ended.")
@json_option
@click.pass_obj
def authorize(
    gm: Context,
    enterprise_id: int,
    product_id: int,
    valid_from: dt.datetime | None,
    valid_until: dt.datetime | None,
    as_json: bool,
) -> None:
    """Authorize an enterprise to use the special mark on a product."""
    with gm.db.session() as s:
        row = authorizations.authorize(
            s,
            enterprise_id=enterprise_id,
            product_id=product_id,
            actor=gm.actor,
            valid_from=None if valid_from is None else start_of_day(valid_from.date()),
            valid_until=None if valid_until is None else end_of_day(valid_until.date()),
        )
    data = {"id": row.id, "valid_from": row.valid_from, "valid_until": row.valid_until}
    emit(as_json, data, f"授权 {row.id} 已生效 (authorization {row.id} granted)")


@click.group()
def authorization() -> None:
    """Authorizations (enterprise × product): list, suspend, revoke, reinstate."""


@authorization.command("list")
@click.option("--enterprise", "enterprise_id", type=int, metavar="ID")
@click.option("--product", "product_id", type=int, metavar="ID")
@json_option
@click.pass_obj
def authorization_list(
    gm: Context, enterprise_id: int | None, product_id: int | None, as_json: bool
) -> None:
    """List authorizations, optionally of one enterprise or product."""
    now = utcnow()
    with gm.db.session() as s:
        found = authorizations.list_authorizations(
            s, enterprise_id=enterprise_id, product_id=product_id
        )
        rows = [authorization_data(a, now) for a in found]
    emit(
        as_json,
        rows,
        _lines(rows, "id", "enterprise_id", "product_id", "state", "valid_from", "valid_until"),
    )


# --- status changes: the same three commands for enterprises and authorizations ---------------

Changer = Callable[..., Enterprise | Authorization]


def _add_status_commands(group: click.Group, noun: str, change: Changer) -> None:
    for action in STATUS_ACTIONS:
        group.add_command(_status_command(noun, action, change))


def _status_command(noun: str, action: Action, change: Changer) -> click.Command:
    @click.command(action.value, help=f"{action.value.capitalize()} {noun} ID.")
    @click.argument("ident", metavar="ID", type=int)
    @click.option("--reason", default="", help="Why (required to suspend or revoke).")
    @click.option(
        "--effective", metavar="WHEN", callback=_instant, help="From when (default: now)."
    )
    @json_option
    @click.pass_obj
    def command(
        gm: Context, ident: int, reason: str, effective: dt.datetime | None, as_json: bool
    ) -> None:
        with gm.db.session() as s:
            row = change(s, ident, action, reason=reason, actor=gm.actor, effective_at=effective)
            last = history.latest_change(row.changes)
            assert last is not None  # we just appended it
            data = {
                "id": row.id,
                "action": action,
                "status": row.status,
                "effective_at": last.effective_at,
            }
        emit(as_json, data, f"{noun} {row.id}: {action.value} (now {row.status})")

    return command


def _change_enterprise(s: Session, ident: int, action: Action, **kw: Any) -> Enterprise:
    return services.change_enterprise_status(s, ident, action, **kw)


def _change_authorization(s: Session, ident: int, action: Action, **kw: Any) -> Authorization:
    return authorizations.change_authorization_status(s, ident, action, **kw)


_add_status_commands(enterprise, "enterprise", _change_enterprise)
_add_status_commands(authorization, "authorization", _change_authorization)


# --- printers --------------------------------------------------------------------------------


@click.group()
def printer() -> None:
    """Printing companies (印制企业)."""


@printer.command("add")
@click.option("--name", required=True)
@click.option("--uscc", required=True, help="统一社会信用代码 (unified social credit code).")
@json_option
@click.pass_obj
def printer_add(gm: Context, name: str, uscc: str, as_json: bool) -> None:
    """Register a printer."""
    with gm.db.session() as s:
        row = services.add_printer(s, name=name, uscc=uscc)
    emit(as_json, {"id": row.id}, f"印制企业 {row.id} 已登记 (printer {row.id} registered)")


@printer.command("list")
@json_option
@click.pass_obj
def printer_list(gm: Context, as_json: bool) -> None:
    """List printers."""
    with gm.db.session() as s:
        rows = [printer_data(p) for p in services.list_printers(s)]
    emit(as_json, rows, _lines(rows, "id", "uscc", "status", "name"))


def register(root: click.Group) -> None:
    """Add this package's commands to the ``gimark`` root group."""
    for command in (product, enterprise, authorize, authorization, printer):
        root.add_command(command)
