"""Registry operations: GI products, enterprises (with their status history) and printers.

Every function takes the caller's :class:`~sqlalchemy.orm.Session` and never commits: the
caller's ``with db.session()`` is the transaction, so a refused operation leaves nothing
behind. Authorizations live in :mod:`gimark.trace.authorizations`.

The ``status`` column of an enterprise is the status *now*, as of the last write: a change
dated in the future is recorded at once but only shows in the column once a later write
happens after it takes effect. Whatever must be right at a given moment (verification,
authorizing) asks :func:`gimark.trace.history.status_at` of the history instead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gimark.core.db import Base, utcnow
from gimark.core.errors import GimarkError, not_found
from gimark.trace import history
from gimark.trace.errors import (
    DuplicateCreditCodeError,
    DuplicateRegistrationNumberError,
    MissingValueError,
    ValueTooLongError,
)
from gimark.trace.models import (
    Action,
    Authorization,
    AuthorizationStatusChange,
    Enterprise,
    EnterpriseStatusChange,
    Printer,
    Product,
    ProductKind,
    Status,
)
from gimark.trace.regions import validate_region_code
from gimark.trace.uscc import validate_uscc

NAME_LIMIT = 200  # characters, the width of the name columns
REG_NO_LIMIT = 64  # characters
ACTOR_LIMIT = 100  # characters


def clean_text(value: str | None, field: str, field_zh: str, limit: int) -> str:
    """``value`` without surrounding spaces, required and at most ``limit`` characters.

    Raises:
        MissingValueError: empty or only spaces.
        ValueTooLongError: longer than ``limit``.
    """
    text = (value or "").strip()
    if not text:
        raise MissingValueError(field=field, field_zh=field_zh)
    if len(text) > limit:
        raise ValueTooLongError(field=field, field_zh=field_zh, limit=limit)
    return text


def _optional_text(value: str | None, field: str, field_zh: str, limit: int) -> str | None:
    return None if value is None or not value.strip() else clean_text(value, field, field_zh, limit)


def insert_unique(session: Session, row: Base, conflict: Callable[[], GimarkError | None]) -> None:
    """Insert ``row``; if a unique constraint refuses it, raise what ``conflict`` builds.

    The insert runs in a savepoint, so the transaction stays usable, and the database's own
    constraint decides: a check-then-insert would let two concurrent requests both pass.
    ``conflict`` looks the existing row up; if it finds none the constraint was another one
    and the database's error goes on.
    """
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError as exc:
        error = conflict()
        if error is None:
            raise
        raise error from exc


# --- products --------------------------------------------------------------------------------


def add_product(
    session: Session,
    *,
    name_zh: str,
    name_en: str,
    kind: ProductKind,
    region: str,
    reg_no: str | None = None,
    holder: str | None = None,
    sales_regions: Sequence[str] = (),
) -> Product:
    """Register a GI product; ``sales_regions`` (GB/T 2260 codes) empty means sold everywhere.

    Raises:
        MissingValueError: a name is empty.
        ValueTooLongError: a name, the registration number or the holder is too long.
        InvalidRegionError: ``region`` or a sales region is not a GB/T 2260 code.
        DuplicateRegistrationNumberError: another product has ``reg_no``.
    """
    sold_in = ",".join(dict.fromkeys(validate_region_code(code) for code in sales_regions))
    product = Product(
        name_zh=clean_text(name_zh, "name_zh", "中文名称", NAME_LIMIT),
        name_en=clean_text(name_en, "name_en", "英文名称", NAME_LIMIT),
        kind=ProductKind(kind),
        region=validate_region_code(region),
        reg_no=_optional_text(reg_no, "reg_no", "登记号", REG_NO_LIMIT),
        holder=_optional_text(holder, "holder", "持有人", NAME_LIMIT),
        sales_regions=sold_in,
    )

    def conflict() -> GimarkError | None:
        existing = session.scalar(select(Product.id).where(Product.reg_no == product.reg_no))
        if existing is None:
            return None
        return DuplicateRegistrationNumberError(reg_no=product.reg_no, existing_id=existing)

    insert_unique(session, product, conflict)
    return product


def get_product(session: Session, product_id: int) -> Product:
    """The product with ``product_id``.

    Raises:
        NotFoundError: there is none.
    """
    product = session.get(Product, product_id)
    if product is None:
        raise not_found("产品", "product", product_id)
    return product


def list_products(session: Session) -> Sequence[Product]:
    """Every product, oldest first."""
    return session.scalars(select(Product).order_by(Product.id)).all()


# --- enterprises -----------------------------------------------------------------------------


def add_enterprise(session: Session, *, name: str, uscc: str, actor: str) -> Enterprise:
    """Register an enterprise; its region is read from its credit code (positions 3–8).

    Raises:
        MissingValueError: the name is empty.
        ValueTooLongError: the name or the actor is too long.
        InvalidCreditCodeError: ``uscc`` fails GB 32100-2015 (format or check character).
        DuplicateCreditCodeError: an enterprise with this credit code exists.
    """
    code = validate_uscc(uscc)
    now = utcnow()
    enterprise = Enterprise(
        name=clean_text(name, "name", "名称", NAME_LIMIT),
        uscc=code.code,
        region=code.region_code,
        status=Status.ACTIVE,
        created_at=now,
    )
    enterprise.changes.append(
        EnterpriseStatusChange(
            action=Action.CREATE,
            status=Status.ACTIVE,
            reason="",
            actor=clean_text(actor, "actor", "操作人", ACTOR_LIMIT),
            effective_at=now,
            recorded_at=now,
        )
    )

    def conflict() -> GimarkError | None:
        existing = session.scalar(select(Enterprise.id).where(Enterprise.uscc == code.code))
        if existing is None:
            return None
        return DuplicateCreditCodeError(
            uscc=code.code, what="企业", what_en="enterprise", existing_id=existing
        )

    insert_unique(session, enterprise, conflict)
    return enterprise


def get_enterprise(session: Session, enterprise_id: int, *, lock: bool = False) -> Enterprise:
    """The enterprise with ``enterprise_id``; ``lock`` holds its row until the transaction ends.

    Locking serializes everything that reads an enterprise's status and then writes on it
    (status changes, authorizing) on PostgreSQL; SQLite already runs writers one at a time.

    Raises:
        NotFoundError: there is none.
    """
    query = select(Enterprise).where(Enterprise.id == enterprise_id)
    enterprise = session.scalar(query.with_for_update() if lock else query)
    if enterprise is None:
        raise not_found("企业", "enterprise", enterprise_id)
    return enterprise


def list_enterprises(session: Session) -> Sequence[Enterprise]:
    """Every enterprise, oldest first."""
    return session.scalars(select(Enterprise).order_by(Enterprise.id)).all()


def enterprise_status_at(enterprise: Enterprise, at: dt.datetime) -> Status | None:
    """The enterprise's status at ``at`` (None before it was registered)."""
    return history.status_at(enterprise.changes, at)


def change_enterprise_status(
    session: Session,
    enterprise_id: int,
    action: Action,
    *,
    reason: str,
    actor: str,
    effective_at: dt.datetime | None = None,
) -> Enterprise:
    """Suspend, revoke or reinstate an enterprise, from ``effective_at`` (default: now) on.

    Suspend needs an active enterprise, revoke an active or suspended one (revocation is final,
    一票否决), reinstate a suspended one. The change is a new history row; nothing is deleted.

    Raises:
        NotFoundError: no such enterprise.
        MissingValueError: no reason for a suspension or revocation.
        ChangeOutOfOrderError: ``effective_at`` precedes the enterprise's latest change.
        RevocationFinalError: the enterprise is revoked.
        IllegalTransitionError: the action does not apply to the enterprise's status.
    """
    enterprise = get_enterprise(session, enterprise_id, lock=True)
    subject = history.Subject("企业", "enterprise", enterprise.id)
    record_change(
        session,
        enterprise,
        enterprise.changes,
        EnterpriseStatusChange,
        subject,
        action,
        reason,
        actor,
        effective_at,
    )
    return enterprise


_Change = TypeVar("_Change", EnterpriseStatusChange, AuthorizationStatusChange)


def record_change(
    session: Session,
    row: Enterprise | Authorization,
    changes: list[_Change],
    change_type: type[_Change],
    subject: history.Subject,
    action: Action,
    reason: str,
    actor: str,
    effective_at: dt.datetime | None,
) -> None:
    """Append a checked status change to ``row``'s history and bring its status column along.

    Raises:
        MissingValueError, ChangeOutOfOrderError, RevocationFinalError, IllegalTransitionError:
            as :func:`gimark.trace.history.plan_change`.
    """
    now = utcnow()
    effective = now if effective_at is None else effective_at
    target = history.plan_change(subject, changes, action, reason=reason, effective_at=effective)
    changes.append(
        change_type(
            action=action,
            status=target,
            reason=reason.strip(),
            actor=clean_text(actor, "actor", "操作人", ACTOR_LIMIT),
            effective_at=effective,
            recorded_at=now,
        )
    )
    session.flush()  # gives the new change its id, which orders same-instant changes
    sync_status(row, now)


def sync_status(row: Enterprise | Authorization, now: dt.datetime) -> None:
    """Set the ``status`` column to the status at ``now`` (a future change leaves it as is)."""
    current = history.status_at(row.changes, now)
    if current is not None:  # cannot happen once the "create" change is in force
        row.status = current


# --- printers --------------------------------------------------------------------------------


def add_printer(session: Session, *, name: str, uscc: str) -> Printer:
    """Register a printing company (印制企业).

    Raises:
        MissingValueError: the name is empty.
        ValueTooLongError: the name is too long.
        InvalidCreditCodeError: ``uscc`` fails GB 32100-2015.
        DuplicateCreditCodeError: a printer with this credit code exists.
    """
    code = validate_uscc(uscc)
    printer = Printer(
        name=clean_text(name, "name", "名称", NAME_LIMIT), uscc=code.code, status=Status.ACTIVE
    )

    def conflict() -> GimarkError | None:
        existing = session.scalar(select(Printer.id).where(Printer.uscc == code.code))
        if existing is None:
            return None
        return DuplicateCreditCodeError(
            uscc=code.code, what="印制企业", what_en="printer", existing_id=existing
        )

    insert_unique(session, printer, conflict)
    return printer


def get_printer(session: Session, printer_id: int) -> Printer:
    """The printer with ``printer_id``.

    Raises:
        NotFoundError: there is none.
    """
    printer = session.get(Printer, printer_id)
    if printer is None:
        raise not_found("印制企业", "printer", printer_id)
    return printer


def list_printers(session: Session) -> Sequence[Printer]:
    """Every printer, oldest first."""
    return session.scalars(select(Printer).order_by(Printer.id)).all()
