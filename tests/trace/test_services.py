"""Registry services: products, enterprises with their status history, printers (both databases)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gimark.core.db import Database, utcnow
from gimark.core.errors import NotFoundError
from gimark.trace import services
from gimark.trace.dates import CHINA, end_of_day, parse_instant, start_of_day
from gimark.trace.errors import (
    ChangeOutOfOrderError,
    DuplicateCreditCodeError,
    DuplicateRegistrationNumberError,
    IllegalTransitionError,
    InvalidCreditCodeError,
    InvalidRegionError,
    MissingValueError,
    RevocationFinalError,
    ValueTooLongError,
)
from gimark.trace.history import status_at
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
from gimark.trace.uscc import check_character

USCC = "91350100M000100Y43"  # valid; region 350100 (Fuzhou)
HOUR = dt.timedelta(hours=1)
Factory = Callable[..., Any]


def counts(db: Database) -> dict[str, int]:
    """Rows per registry table: a refused operation must leave these unchanged."""
    models = (
        Product,
        Enterprise,
        EnterpriseStatusChange,
        Authorization,
        AuthorizationStatusChange,
        Printer,
    )
    with db.session() as s:
        return {m.__tablename__: s.scalar(select(func.count()).select_from(m)) or 0 for m in models}


def uscc(serial: int, region: str = "430100") -> str:
    first17 = f"91{region}{serial:09d}"
    return first17 + check_character(first17)


# --- products --------------------------------------------------------------------------------


def test_add_product_stores_clean_values(db: Database) -> None:
    with db.session() as s:
        product = services.add_product(
            s,
            name_zh=" 西湖龙井 ",
            name_en="West Lake Longjing Tea",
            kind=ProductKind.PROTECTED_PRODUCT,
            region="３３０１０６",  # full-width digits, as typed with a Chinese input method
            reg_no="2001-0001",
            holder="杭州市西湖区",
        )
    with db.session() as s:
        stored = services.get_product(s, product.id)
        assert (stored.name_zh, stored.region, stored.kind) == (
            "西湖龙井",
            "330106",
            ProductKind.PROTECTED_PRODUCT,
        )
        assert stored.reg_no == "2001-0001"
        assert [p.id for p in services.list_products(s)] == [product.id]


def test_products_without_registration_number_do_not_collide(make_product: Factory) -> None:
    first, second = make_product(reg_no=None), make_product(reg_no="  ")
    assert first.reg_no is None and second.reg_no is None
    assert first.id != second.id


def test_duplicate_registration_number_is_refused(db: Database, make_product: Factory) -> None:
    existing = make_product(reg_no="GI-7")
    before = counts(db)
    with (
        pytest.raises(DuplicateRegistrationNumberError, match=f"used by product {existing.id}"),
        db.session() as s,
    ):
        services.add_product(
            s,
            name_zh="别的",
            name_en="Other",
            kind=ProductKind.COLLECTIVE_MARK,
            region="430981",
            reg_no="GI-7",
        )
    assert counts(db) == before


@pytest.mark.parametrize(
    ("overrides", "error", "match"),
    [
        ({"name_zh": "  "}, MissingValueError, "name_zh must not be empty"),
        ({"name_en": ""}, MissingValueError, "name_en must not be empty"),
        ({"name_en": "x" * 201}, ValueTooLongError, "name_en must not be longer than 200"),
        ({"reg_no": "9" * 65}, ValueTooLongError, "reg_no must not be longer than 64"),
        ({"region": "4309"}, InvalidRegionError, "must be 6 digits"),
        ({"region": "990000"}, InvalidRegionError, "not a province-level code"),
    ],
)
def test_invalid_product_is_refused(
    db: Database,
    make_product: Factory,
    overrides: dict[str, str],
    error: type[Exception],
    match: str,
) -> None:
    with pytest.raises(error, match=match):
        make_product(**overrides)
    assert counts(db)["products"] == 0


def test_unknown_product(session: Session) -> None:
    with pytest.raises(NotFoundError, match="product 42 not found"):
        services.get_product(session, 42)


# --- enterprises -----------------------------------------------------------------------------


def test_add_enterprise_reads_region_and_writes_create_change(db: Database) -> None:
    with db.session() as s:
        enterprise = services.add_enterprise(
            s, name="福州茉莉花茶合作社", uscc=USCC.lower(), actor="admin:li"
        )
    with db.session() as s:
        stored = services.get_enterprise(s, enterprise.id)
        assert (stored.uscc, stored.region, stored.status) == (USCC, "350100", Status.ACTIVE)
        [change] = stored.changes
        assert (change.action, change.status, change.actor) == (
            Action.CREATE,
            Status.ACTIVE,
            "admin:li",
        )
        assert change.effective_at == stored.created_at


@pytest.mark.parametrize(
    ("code", "match"),
    [
        ("91350100M000100Y44", r"check character \(position 18\) should be 3, found 4"),
        ("91350100M000100Y4", "must be 18 characters long, got 17"),
        ("91350100M0001O0Y43", "'O' is not allowed at position 14"),
    ],
)
def test_invalid_credit_code_is_refused(db: Database, code: str, match: str) -> None:
    before = counts(db)
    with pytest.raises(InvalidCreditCodeError, match=match), db.session() as s:
        services.add_enterprise(s, name="某公司", uscc=code, actor="test")
    assert counts(db) == before


def test_duplicate_credit_code_is_refused_and_the_transaction_goes_on(db: Database) -> None:
    with db.session() as s:
        first = services.add_enterprise(s, name="甲", uscc=USCC, actor="test")
        with pytest.raises(DuplicateCreditCodeError, match=f"as enterprise {first.id}"):
            services.add_enterprise(s, name="乙", uscc=f" {USCC.lower()} ", actor="test")
        # The refused insert ran in a savepoint: the outer transaction is still usable.
        services.add_enterprise(s, name="丙", uscc=uscc(7), actor="test")
    assert (counts(db)["enterprises"], counts(db)["enterprise_status_changes"]) == (2, 2)


def test_empty_enterprise_name_is_refused(db: Database, make_enterprise: Factory) -> None:
    with pytest.raises(MissingValueError, match="name must not be empty"):
        make_enterprise(name=" ")
    assert counts(db)["enterprises"] == 0


def test_suspend_reinstate_revoke(db: Database, make_enterprise: Factory) -> None:
    enterprise = make_enterprise()
    steps = [
        (Action.SUSPEND, "抽检不合格 (failed a sample test)", Status.SUSPENDED),
        (Action.REINSTATE, "", Status.ACTIVE),
        (Action.SUSPEND, "again", Status.SUSPENDED),
        (Action.REVOKE, "伪造产地 (forged origin)", Status.REVOKED),
    ]
    for action, reason, expected in steps:
        with db.session() as s:
            changed = services.change_enterprise_status(
                s, enterprise.id, action, reason=reason, actor="admin"
            )
            assert changed.status is expected
    with db.session() as s:
        stored = services.get_enterprise(s, enterprise.id)
        assert [(c.action, c.status) for c in stored.changes] == [
            (Action.CREATE, Status.ACTIVE),
            *[(action, status) for action, _, status in steps],
        ]
        assert stored.changes[-1].reason == "伪造产地 (forged origin)"


@pytest.mark.parametrize(
    ("path", "action", "error", "match"),
    [
        ([], Action.REINSTATE, IllegalTransitionError, "is active .* cannot be reinstated"),
        ([Action.SUSPEND], Action.SUSPEND, IllegalTransitionError, "is suspended .* suspended"),
        ([Action.REVOKE], Action.REVOKE, RevocationFinalError, "revocation is final"),
        ([Action.REVOKE], Action.REINSTATE, RevocationFinalError, "cannot be reinstated"),
        ([Action.SUSPEND, Action.REVOKE], Action.SUSPEND, RevocationFinalError, "was revoked"),
        ([], Action.CREATE, IllegalTransitionError, "cannot be created"),
    ],
)
def test_illegal_transitions_name_the_status(
    db: Database,
    make_enterprise: Factory,
    path: list[Action],
    action: Action,
    error: type[Exception],
    match: str,
) -> None:
    enterprise = make_enterprise()
    for step in path:
        with db.session() as s:
            services.change_enterprise_status(s, enterprise.id, step, reason="r", actor="a")
    before = counts(db)
    with pytest.raises(error, match=match), db.session() as s:
        services.change_enterprise_status(s, enterprise.id, action, reason="r", actor="a")
    assert counts(db) == before


@pytest.mark.parametrize("action", [Action.SUSPEND, Action.REVOKE])
def test_suspend_and_revoke_need_a_reason(
    db: Database, make_enterprise: Factory, action: Action
) -> None:
    enterprise = make_enterprise()
    before = counts(db)
    with pytest.raises(MissingValueError, match="reason must not be empty"), db.session() as s:
        services.change_enterprise_status(s, enterprise.id, action, reason="  ", actor="a")
    assert counts(db) == before


def test_unknown_enterprise(db: Database) -> None:
    with pytest.raises(NotFoundError, match="enterprise 99 not found"), db.session() as s:
        services.change_enterprise_status(s, 99, Action.SUSPEND, reason="r", actor="a")


def test_future_change_keeps_the_column_and_shows_in_status_at(
    db: Database, make_enterprise: Factory
) -> None:
    enterprise = make_enterprise()
    when = utcnow() + 24 * HOUR
    with db.session() as s:
        changed = services.change_enterprise_status(
            s, enterprise.id, Action.SUSPEND, reason="整改", actor="a", effective_at=when
        )
        assert changed.status is Status.ACTIVE  # the column says what holds now
        assert services.enterprise_status_at(changed, when - dt.timedelta(microseconds=1)) is (
            Status.ACTIVE
        )
        assert services.enterprise_status_at(changed, when) is Status.SUSPENDED
    # The history ends suspended, so reinstating is allowed, but only from then on.
    with (
        pytest.raises(ChangeOutOfOrderError, match="before the latest status change"),
        db.session() as s,
    ):
        services.change_enterprise_status(s, enterprise.id, Action.REINSTATE, reason="", actor="a")
    with db.session() as s:
        services.change_enterprise_status(
            s, enterprise.id, Action.REINSTATE, reason="", actor="a", effective_at=when + HOUR
        )
        assert services.get_enterprise(s, enterprise.id).status is Status.ACTIVE


def test_past_change_after_the_latest_is_allowed(db: Database, make_enterprise: Factory) -> None:
    enterprise = make_enterprise()
    with db.session() as s:
        # Dated at the registration itself (ties are ordered by id): already in force.
        changed = services.change_enterprise_status(
            s,
            enterprise.id,
            Action.SUSPEND,
            reason="backdated",
            actor="a",
            effective_at=enterprise.created_at,
        )
        assert changed.status is Status.SUSPENDED
    with pytest.raises(ChangeOutOfOrderError), db.session() as s:
        services.change_enterprise_status(
            s,
            enterprise.id,
            Action.REVOKE,
            reason="too early",
            actor="a",
            effective_at=enterprise.created_at - HOUR,
        )


# --- status_at, without a database -----------------------------------------------------------


def _change(ident: int, status: Status, at: dt.datetime) -> EnterpriseStatusChange:
    return EnterpriseStatusChange(id=ident, status=status, effective_at=at)


def test_status_at_takes_the_last_change_in_force() -> None:
    t0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    changes = [
        _change(1, Status.ACTIVE, t0),
        _change(3, Status.ACTIVE, t0 + 2 * HOUR),
        _change(2, Status.SUSPENDED, t0 + HOUR),  # listed out of order on purpose
    ]
    assert status_at(changes, t0 - HOUR) is None
    assert status_at(changes, t0) is Status.ACTIVE
    assert status_at(changes, t0 + HOUR) is Status.SUSPENDED
    assert status_at(changes, t0 + 2 * HOUR - dt.timedelta(microseconds=1)) is Status.SUSPENDED
    assert status_at(changes, t0 + 2 * HOUR) is Status.ACTIVE


def test_status_at_breaks_ties_by_id() -> None:
    t0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    changes = [_change(5, Status.REVOKED, t0), _change(4, Status.SUSPENDED, t0)]
    assert status_at(changes, t0) is Status.REVOKED


# --- printers --------------------------------------------------------------------------------


def test_add_printer(db: Database) -> None:
    with db.session() as s:
        printer = services.add_printer(s, name="湖南印务有限公司", uscc=uscc(500))
    with db.session() as s:
        assert services.get_printer(s, printer.id).uscc == uscc(500)
        assert [p.name for p in services.list_printers(s)] == ["湖南印务有限公司"]


def test_printer_may_share_an_enterprise_credit_code(
    make_enterprise: Factory, make_printer: Factory
) -> None:
    # The same company can both use the mark and print it: separate registers.
    assert make_printer(uscc=make_enterprise(uscc=USCC).uscc).uscc == USCC


def test_printer_refusals(db: Database, make_printer: Factory) -> None:
    existing = make_printer(uscc=uscc(501))
    with pytest.raises(DuplicateCreditCodeError, match=f"as printer {existing.id}"):
        make_printer(uscc=uscc(501))
    with pytest.raises(InvalidCreditCodeError, match="should be K, found 0"):
        make_printer(uscc="91430100M000000500")
    with pytest.raises(NotFoundError, match="printer 77 not found"), db.session() as s:
        services.get_printer(s, 77)
    assert counts(db)["printers"] == 1


# --- calendar dates --------------------------------------------------------------------------


def test_days_are_china_days_and_the_end_is_exclusive() -> None:
    assert start_of_day(dt.date(2026, 1, 1)) == dt.datetime(2025, 12, 31, 16, tzinfo=dt.UTC)
    assert end_of_day(dt.date(2026, 12, 31)) == dt.datetime(2026, 12, 31, 16, tzinfo=dt.UTC)
    assert end_of_day(dt.date(2026, 12, 31)).astimezone(CHINA).date() == dt.date(2027, 1, 1)


def test_parse_instant() -> None:
    assert parse_instant("2026-05-01") == dt.datetime(2026, 4, 30, 16, tzinfo=dt.UTC)
    assert parse_instant("2026-05-01T08:30") == dt.datetime(2026, 5, 1, 0, 30, tzinfo=dt.UTC)
    assert parse_instant("2026-05-01T08:30Z") == dt.datetime(2026, 5, 1, 8, 30, tzinfo=dt.UTC)
    with pytest.raises(ValueError, match="Invalid isoformat"):
        parse_instant("next tuesday")
