"""Batches: request, approval, printing, rejection, revocation and the ledger (both databases).

Every refusal is shown with its message and with the database left exactly as it was.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select, update

from gimark.core.db import Database, utcnow
from gimark.core.errors import NotFoundError
from gimark.keys.errors import NoActiveKeyError
from gimark.labels.issuing import batches, ledger
from gimark.labels.issuing.errors import (
    AlreadyVoidedError,
    BatchNotPrintableError,
    BatchStateError,
    DuplicateVoidError,
    InvalidQuantityError,
    InvalidRangeError,
    LedgerImbalanceError,
    PrinterNotActiveError,
    SerialNotInBatchError,
    SerialOfAnotherBatchError,
    SerialsExhaustedError,
    SerialSpecError,
)
from gimark.labels.issuing.ledger import Ledger
from gimark.labels.issuing.models import Batch, BatchAction, BatchStatus, SerialCounter, VoidedRange
from gimark.labels.issuing.serials import SERIAL_LIMIT, format_serial
from gimark.trace.authorizations import authorize, change_authorization_status
from gimark.trace.errors import (
    AuthorizationExpiredError,
    AuthorizationRevokedError,
    AuthorizationSuspendedError,
    MissingValueError,
    NotAuthorizedError,
)
from gimark.trace.models import Action, Printer, Status
from gimark.trace.services import change_enterprise_status

ADMIN = "admin:test"
PRINTER = "printer:test"
Factory = Callable[..., Any]
Snap = Callable[[], Any]


def load(db: Database, batch_id: int) -> Batch:
    with db.session() as s:
        batch = batches.get_batch(s, batch_id)
        batch.events  # noqa: B018 - load the history before the session closes
        return batch


def void(db: Database, batch_id: int, *ranges: tuple[int, int], reason: str = "smudged") -> Ledger:
    with db.session() as s:
        return ledger.void_serials(s, batch_id, list(ranges), reason=reason, actor=PRINTER)


def request(db: Database, enterprise_id: int, product_id: int, quantity: int = 10) -> Batch:
    with db.session() as s:
        return batches.request_batch(
            s,
            enterprise_id=enterprise_id,
            product_id=product_id,
            quantity=quantity,
            actor="enterprise:test",
            max_quantity=1000,
        )


# --- request ---------------------------------------------------------------------------------


def test_request_records_who_asked_for_how_many(db: Database, authorized: Any) -> None:
    batch = request(db, authorized.enterprise_id, authorized.product_id, quantity=250)

    batch = load(db, batch.id)
    assert batch.status is BatchStatus.REQUESTED
    assert batch.quantity == 250
    assert batch.authorization_id == authorized.authorization_id
    assert batch.serial_first is None and batch.printer_id is None
    [event] = batch.events
    assert event.action is BatchAction.REQUEST and event.actor == "enterprise:test"
    assert json.loads(event.detail) == {"quantity": 250}


@pytest.mark.parametrize("quantity", [0, -5, 1001])
def test_request_refuses_a_quantity_outside_one_to_the_maximum(
    db: Database, authorized: Any, snapshot: Snap, quantity: int
) -> None:
    before = snapshot()
    with pytest.raises(InvalidQuantityError, match=f"quantity {quantity} .* from 1 to 1000"):
        request(db, authorized.enterprise_id, authorized.product_id, quantity=quantity)
    assert snapshot() == before


def test_request_accepts_exactly_the_maximum(db: Database, authorized: Any) -> None:
    assert request(db, authorized.enterprise_id, authorized.product_id, quantity=1000).quantity


def test_request_refuses_an_unknown_product_or_enterprise(
    db: Database, authorized: Any, snapshot: Snap
) -> None:
    before = snapshot()
    with pytest.raises(NotFoundError, match="product 999 not found"):
        request(db, authorized.enterprise_id, 999)
    with pytest.raises(NotFoundError, match="enterprise 999 not found"):
        request(db, 999, authorized.product_id)
    assert snapshot() == before


def test_request_refuses_an_enterprise_not_authorized_for_the_product(
    db: Database, make_enterprise: Factory, make_product: Factory, snapshot: Snap
) -> None:
    enterprise_id, product_id = make_enterprise().id, make_product().id
    before = snapshot()
    with pytest.raises(NotAuthorizedError, match="was not authorized") as caught:
        request(db, enterprise_id, product_id)
    assert caught.value.code == "not_authorized"
    assert snapshot() == before


def test_request_refuses_a_suspended_enterprise(
    db: Database, authorized: Any, snapshot: Snap
) -> None:
    with db.session() as s:
        change_enterprise_status(
            s, authorized.enterprise_id, Action.SUSPEND, reason="inspection", actor=ADMIN
        )
    before = snapshot()
    with pytest.raises(AuthorizationSuspendedError, match="was suspended"):
        request(db, authorized.enterprise_id, authorized.product_id)
    assert snapshot() == before


def test_request_refuses_a_revoked_authorization(
    db: Database, authorized: Any, snapshot: Snap
) -> None:
    with db.session() as s:
        change_authorization_status(
            s, authorized.authorization_id, Action.REVOKE, reason="misuse", actor=ADMIN
        )
    before = snapshot()
    with pytest.raises(AuthorizationRevokedError, match="was revoked"):
        request(db, authorized.enterprise_id, authorized.product_id)
    assert snapshot() == before


def test_request_refuses_an_expired_authorization(
    db: Database, make_enterprise: Factory, make_product: Factory, snapshot: Snap
) -> None:
    enterprise_id, product_id = make_enterprise().id, make_product().id
    now = utcnow()
    with db.session() as s:
        authorize(
            s,
            enterprise_id=enterprise_id,
            product_id=product_id,
            valid_from=now - dt.timedelta(days=30),
            valid_until=now - dt.timedelta(days=1),
            actor=ADMIN,
        )
    before = snapshot()
    with pytest.raises(AuthorizationExpiredError, match="had expired"):
        request(db, enterprise_id, product_id)
    assert snapshot() == before


# --- approval --------------------------------------------------------------------------------


def test_approval_allocates_consecutive_ranges_and_ties_the_key(
    db: Database, request_batch: Callable[..., int], printer_id: int, signing_key: str
) -> None:
    first_id, second_id = request_batch(100), request_batch(5)
    with db.session() as s:
        batches.approve_batch(s, first_id, printer_id=printer_id, actor=ADMIN, reason="ok")
    with db.session() as s:
        batches.approve_batch(s, second_id, printer_id=printer_id, actor=ADMIN)

    first, second = load(db, first_id), load(db, second_id)
    assert (first.serial_first, first.serial_last) == (1, 100)
    assert (second.serial_first, second.serial_last) == (101, 105)
    assert first.status is BatchStatus.APPROVED and first.printer_id == printer_id
    assert first.key_kid == signing_key and first.approved_at is not None
    event = first.events[-1]
    assert (event.action, event.actor, event.reason) == (BatchAction.APPROVE, ADMIN, "ok")
    assert json.loads(event.detail)["serial_last"] == 100


def test_approving_twice_is_refused_naming_the_status(
    db: Database, make_batch: Callable[..., int], printer_id: int, snapshot: Snap
) -> None:
    batch_id = make_batch(status=BatchStatus.APPROVED)
    before = snapshot()
    with (
        pytest.raises(
            BatchStateError, match=f"batch {batch_id} is approved and cannot be approved"
        ),
        db.session() as s,
    ):
        batches.approve_batch(s, batch_id, printer_id=printer_id, actor=ADMIN)
    assert snapshot() == before


def test_approval_refuses_an_unknown_or_inactive_printer(
    db: Database,
    request_batch: Callable[..., int],
    printer_id: int,
    signing_key: str,
    snapshot: Snap,
) -> None:
    batch_id = request_batch()
    with db.session() as s:
        s.execute(update(Printer).where(Printer.id == printer_id).values(status=Status.SUSPENDED))
    before = snapshot()
    with pytest.raises(NotFoundError, match="printer 999 not found"), db.session() as s:
        batches.approve_batch(s, batch_id, printer_id=999, actor=ADMIN)
    with pytest.raises(PrinterNotActiveError, match="is suspended"), db.session() as s:
        batches.approve_batch(s, batch_id, printer_id=printer_id, actor=ADMIN)
    assert snapshot() == before


def test_approval_rechecks_the_authorization(
    db: Database,
    request_batch: Callable[..., int],
    authorized: Any,
    printer_id: int,
    signing_key: str,
    snapshot: Snap,
) -> None:
    batch_id = request_batch()
    with db.session() as s:
        change_enterprise_status(
            s, authorized.enterprise_id, Action.SUSPEND, reason="fraud", actor=ADMIN
        )
    before = snapshot()
    with pytest.raises(AuthorizationSuspendedError), db.session() as s:
        batches.approve_batch(s, batch_id, printer_id=printer_id, actor=ADMIN)
    assert snapshot() == before


def test_approval_needs_an_active_signing_key(
    db: Database, request_batch: Callable[..., int], printer_id: int, snapshot: Snap
) -> None:
    batch_id = request_batch()
    before = snapshot()
    with pytest.raises(NoActiveKeyError, match="no active issuer key"), db.session() as s:
        batches.approve_batch(s, batch_id, printer_id=printer_id, actor=ADMIN)
    assert snapshot() == before


def test_approval_refuses_to_pass_the_end_of_the_serial_space(
    db: Database,
    request_batch: Callable[..., int],
    printer_id: int,
    signing_key: str,
    snapshot: Snap,
) -> None:
    big, exact = request_batch(100), request_batch(50)
    with db.session() as s:
        s.execute(update(SerialCounter).values(next_serial=SERIAL_LIMIT - 50))
    before = snapshot()
    with pytest.raises(SerialsExhaustedError, match="100 needed, 50 left"), db.session() as s:
        batches.approve_batch(s, big, printer_id=printer_id, actor=ADMIN)
    assert snapshot() == before

    with db.session() as s:
        batch = batches.approve_batch(s, exact, printer_id=printer_id, actor=ADMIN)
    assert batch.serial_last == SERIAL_LIMIT - 1
    format_serial(batch.serial_last)  # the last serial is still printable


# --- rejection and revocation ----------------------------------------------------------------


def test_reject_needs_a_reason_and_a_request(
    db: Database, make_batch: Callable[..., int], snapshot: Snap
) -> None:
    requested = make_batch(status=BatchStatus.REQUESTED)
    approved = make_batch(status=BatchStatus.APPROVED)
    before = snapshot()
    with pytest.raises(MissingValueError, match="reason"), db.session() as s:
        batches.reject_batch(s, requested, reason="  ", actor=ADMIN)
    refused = pytest.raises(BatchStateError, match="is approved and cannot be rejected")
    with refused, db.session() as s:
        batches.reject_batch(s, approved, reason="too many", actor=ADMIN)
    assert snapshot() == before

    with db.session() as s:
        batches.reject_batch(s, requested, reason="too many", actor=ADMIN)
    rejected = load(db, requested)
    assert rejected.status is BatchStatus.REJECTED
    assert (rejected.events[-1].action, rejected.events[-1].reason) == (
        BatchAction.REJECT,
        "too many",
    )


def test_a_rejected_request_cannot_be_approved(
    db: Database, make_batch: Callable[..., int], printer_id: int, snapshot: Snap
) -> None:
    batch_id = make_batch(status=BatchStatus.REQUESTED)
    with db.session() as s:
        batches.reject_batch(s, batch_id, reason="no", actor=ADMIN)
    before = snapshot()
    with pytest.raises(BatchStateError, match="is rejected"), db.session() as s:
        batches.approve_batch(s, batch_id, printer_id=printer_id, actor=ADMIN)
    assert snapshot() == before


@pytest.mark.parametrize(
    "status", [BatchStatus.REQUESTED, BatchStatus.PRINTED, BatchStatus.DELIVERED]
)
def test_revoke_ends_a_batch_for_good(
    db: Database, make_batch: Callable[..., int], snapshot: Snap, status: BatchStatus
) -> None:
    batch_id = make_batch(status=status)
    with db.session() as s:
        batches.revoke_batch(s, batch_id, reason="counterfeit complaint", actor=ADMIN)
    revoked = load(db, batch_id)
    assert revoked.status is BatchStatus.REVOKED and revoked.revoked_at is not None
    event = revoked.events[-1]
    assert (event.action, event.actor, event.reason) == (
        BatchAction.REVOKE,
        ADMIN,
        "counterfeit complaint",
    )
    assert json.loads(event.detail) == {"from": status.value}

    before = snapshot()
    refused = pytest.raises(BatchStateError, match="is revoked and cannot be revoked")
    with refused, db.session() as s:
        batches.revoke_batch(s, batch_id, reason="again", actor=ADMIN)
    with pytest.raises(BatchNotPrintableError, match="the batch is revoked"):
        batches.check_printable(revoked)
    with pytest.raises(BatchNotPrintableError), db.session() as s:
        batches.mark_printed(s, batch_id, actor=PRINTER, detail={})
    assert snapshot() == before


def test_revoke_needs_a_reason(
    db: Database, make_batch: Callable[..., int], snapshot: Snap
) -> None:
    batch_id = make_batch()
    before = snapshot()
    with pytest.raises(MissingValueError, match="reason must not be empty"), db.session() as s:
        batches.revoke_batch(s, batch_id, reason="", actor=ADMIN)
    assert snapshot() == before


# --- printing --------------------------------------------------------------------------------


def test_first_run_prints_and_a_reprint_is_recorded_again(
    db: Database, make_batch: Callable[..., int]
) -> None:
    batch_id = make_batch(status=BatchStatus.APPROVED)
    with db.session() as s:
        batches.mark_printed(s, batch_id, actor=PRINTER, detail={"sha256": "aa"})
    printed_at = load(db, batch_id).printed_at
    with db.session() as s:
        batches.mark_printed(s, batch_id, actor=PRINTER, detail={"sha256": "aa"})

    batch = load(db, batch_id)
    assert batch.status is BatchStatus.PRINTED and batch.printed_at == printed_at
    runs = [json.loads(e.detail) for e in batch.events if e.action is BatchAction.GENERATE]
    assert runs == [{"sha256": "aa", "reprint": False}, {"sha256": "aa", "reprint": True}]


@pytest.mark.parametrize(
    ("status", "why"),
    [
        (BatchStatus.REQUESTED, "not approved yet"),
        (BatchStatus.DELIVERED, "printing them again would make duplicates"),
    ],
)
def test_runs_are_refused_before_approval_and_after_delivery(
    db: Database, make_batch: Callable[..., int], snapshot: Snap, status: BatchStatus, why: str
) -> None:
    batch_id = make_batch(status=status)
    with pytest.raises(BatchNotPrintableError, match=why):
        batches.check_printable(load(db, batch_id))
    before = snapshot()
    with pytest.raises(BatchNotPrintableError, match=why), db.session() as s:
        batches.mark_printed(s, batch_id, actor=PRINTER, detail={})
    assert snapshot() == before


# --- voiding ---------------------------------------------------------------------------------


def test_void_stores_ranges_not_labels(db: Database, make_batch: Callable[..., int]) -> None:
    batch_id = make_batch(quantity=100, status=BatchStatus.PRINTED)  # serials 1 … 100
    figures = void(db, batch_id, (10, 19), (50, 50))
    assert figures == Ledger(ordered=100, printed=100, voided=11, delivered=0, balanced=False)
    figures = void(db, batch_id, (20, 20))
    assert figures.voided == 12

    with db.session() as s:
        rows = s.execute(select(VoidedRange.first, VoidedRange.last).order_by("first")).all()
        batch = batches.get_batch(s, batch_id)
        voided = [ledger.is_voided(s, batch, n) for n in (9, 10, 19, 20, 21, 50, 51)]
        events = [e for e in batch.events if e.action is BatchAction.VOID]
    assert [tuple(r) for r in rows] == [(10, 19), (20, 20), (50, 50)]
    assert voided == [False, True, True, True, False, True, False]
    assert json.loads(events[0].detail) == {"ranges": [[10, 19], [50, 50]], "count": 11}
    assert (events[0].actor, events[0].reason) == (PRINTER, "smudged")


def test_void_is_allowed_before_the_run_too(db: Database, make_batch: Callable[..., int]) -> None:
    batch_id = make_batch(quantity=10, status=BatchStatus.APPROVED)
    assert void(db, batch_id, (1, 1)).voided == 1


def test_void_refuses_a_serial_of_another_batch_naming_both(
    db: Database, make_batch: Callable[..., int], snapshot: Snap
) -> None:
    mine, other = make_batch(quantity=10), make_batch(quantity=10)  # 1 … 10, 11 … 20
    before = snapshot()
    with pytest.raises(
        SerialOfAnotherBatchError,
        match=rf"serial {format_serial(11)} \(#11\) belongs to batch {other}, not to batch {mine}",
    ):
        void(db, mine, (9, 12))
    with pytest.raises(SerialNotInBatchError, match=r"#21\) .* never issued"):
        void(db, other, (21, 21))
    with pytest.raises(SerialNotInBatchError, match="never issued"):
        void(db, mine, (0, 3))
    assert snapshot() == before


def test_void_refuses_serials_voided_already_naming_the_overlap(
    db: Database, make_batch: Callable[..., int], snapshot: Snap
) -> None:
    batch_id = make_batch(quantity=100)
    void(db, batch_id, (10, 20))
    before = snapshot()
    with pytest.raises(
        AlreadyVoidedError,
        match=r"serials .*\(#15\) to .*\(#20\) .* already voided .* printer:test",
    ):
        void(db, batch_id, (30, 30), (15, 25))
    assert snapshot() == before


def test_void_refuses_bad_requests(
    db: Database, make_batch: Callable[..., int], snapshot: Snap
) -> None:
    batch_id = make_batch(quantity=100)
    before = snapshot()
    with pytest.raises(DuplicateVoidError, match=r"\(#5\) to .*\(#6\) are listed more than once"):
        void(db, batch_id, (1, 6), (5, 8))
    with pytest.raises(InvalidRangeError, match="starts after it ends"):
        void(db, batch_id, (9, 3))
    with pytest.raises(SerialSpecError, match="no serials given"):
        void(db, batch_id)
    with pytest.raises(MissingValueError, match="reason"):
        void(db, batch_id, (1, 1), reason="")
    assert snapshot() == before


@pytest.mark.parametrize("status", [BatchStatus.REQUESTED, BatchStatus.DELIVERED])
def test_void_is_refused_before_approval_and_after_delivery(
    db: Database, make_batch: Callable[..., int], snapshot: Snap, status: BatchStatus
) -> None:
    batch_id = make_batch(quantity=10, status=status)
    before = snapshot()
    with pytest.raises(BatchStateError, match=f"is {status.value} and cannot be voided"):
        void(db, batch_id, (1, 1))
    assert snapshot() == before


# --- the ledger and delivery -----------------------------------------------------------------


def test_the_ledger_balances_only_on_delivery(
    db: Database, make_batch: Callable[..., int], snapshot: Snap
) -> None:
    batch_id = make_batch(quantity=100, status=BatchStatus.APPROVED)
    assert ledger.ledger(load(db, batch_id)) == Ledger(100, 0, 0, 0, False)
    with db.session() as s:
        batches.mark_printed(s, batch_id, actor=PRINTER, detail={})
    assert ledger.ledger(load(db, batch_id)) == Ledger(100, 100, 0, 0, False)
    void(db, batch_id, (1, 3))

    before = snapshot()
    with (
        pytest.raises(
            LedgerImbalanceError,
            match="100 ordered and 3 voided, so 97 must be delivered, but 96 were reported",
        ),
        db.session() as s,
    ):
        ledger.deliver_batch(s, batch_id, actor=PRINTER, delivered=96)
    assert snapshot() == before

    with db.session() as s:
        ledger.deliver_batch(s, batch_id, actor=PRINTER, delivered=97, reason="truck 7")
    batch = load(db, batch_id)
    assert batch.status is BatchStatus.DELIVERED and batch.delivered_at is not None
    assert ledger.ledger(batch) == Ledger(100, 100, 3, 97, True)
    event = batch.events[-1]
    assert (event.action, event.actor, event.reason) == (BatchAction.DELIVER, PRINTER, "truck 7")
    assert json.loads(event.detail) == {"ordered": 100, "voided": 3, "delivered": 97}


@pytest.mark.parametrize("status", [BatchStatus.APPROVED, BatchStatus.DELIVERED])
def test_delivery_needs_a_printed_batch(
    db: Database, make_batch: Callable[..., int], snapshot: Snap, status: BatchStatus
) -> None:
    batch_id = make_batch(status=status)
    before = snapshot()
    with (
        pytest.raises(
            BatchStateError, match=f"is {status.value} and cannot be delivered .*printed"
        ),
        db.session() as s,
    ):
        ledger.deliver_batch(s, batch_id, actor=PRINTER)
    assert snapshot() == before


def test_every_state_change_says_who_when_why(db: Database, make_batch: Callable[..., int]) -> None:
    batch_id = make_batch(quantity=10, status=BatchStatus.PRINTED)
    void(db, batch_id, (2, 2), reason="torn")
    with db.session() as s:
        ledger.deliver_batch(s, batch_id, actor=PRINTER)
    with db.session() as s:
        batches.revoke_batch(s, batch_id, reason="recall", actor=ADMIN)

    events = load(db, batch_id).events
    assert [(e.action.value, e.actor, e.reason) for e in events] == [
        ("request", "enterprise:test", ""),
        ("approve", ADMIN, ""),
        ("generate", PRINTER, ""),
        ("void", PRINTER, "torn"),
        ("deliver", PRINTER, ""),
        ("revoke", ADMIN, "recall"),
    ]
    times = [e.at for e in events]
    assert times == sorted(times) and all(t.tzinfo is dt.UTC for t in times)


def test_a_ten_million_label_batch_is_one_row(
    db: Database, request_batch: Callable[..., int], printer_id: int, signing_key: str
) -> None:
    batch_id = request_batch(10_000_000, max_quantity=50_000_000)
    with db.session() as s:
        batches.approve_batch(s, batch_id, printer_id=printer_id, actor=ADMIN)
    with db.session() as s:
        batches.mark_printed(s, batch_id, actor=PRINTER, detail={})
    void(db, batch_id, (1, 1000), (9_999_001, 10_000_000))
    with db.session() as s:
        ledger.deliver_batch(s, batch_id, actor=PRINTER, delivered=9_998_000)

    with db.session() as s:
        batch_rows = s.scalar(select(func.count()).select_from(Batch))
        voided_rows = s.scalar(select(func.count()).select_from(VoidedRange))
        batch = batches.get_batch(s, batch_id)
        found = batches.find_batch_by_serial(s, 5_000_000)
        assert found is not None and found.id == batch_id
    assert (batch_rows, voided_rows) == (1, 2)
    assert (batch.serial_first, batch.serial_last) == (1, 10_000_000)
    assert ledger.ledger(batch) == Ledger(10_000_000, 10_000_000, 2000, 9_998_000, True)


# --- lookups ---------------------------------------------------------------------------------


def test_find_batch_by_serial_finds_the_owner_or_nothing(
    db: Database, make_batch: Callable[..., int]
) -> None:
    first, second = make_batch(quantity=10), make_batch(quantity=5)  # 1 … 10, 11 … 15
    make_batch(status=BatchStatus.REQUESTED)  # no serials yet: never found
    with db.session() as s:
        owners = {
            n: getattr(batches.find_batch_by_serial(s, n), "id", None)
            for n in (0, 1, 10, 11, 15, 16)
        }
    assert owners == {0: None, 1: first, 10: first, 11: second, 15: second, 16: None}


def test_list_batches_filters(
    db: Database, make_batch: Callable[..., int], make_printer: Factory, authorized: Any
) -> None:
    approved, requested = make_batch(), make_batch(status=BatchStatus.REQUESTED)
    idle_printer = make_printer(name="另一印厂").id
    with db.session() as s:
        every = [b.id for b in batches.list_batches(s)]
        mine = [b.id for b in batches.list_batches(s, enterprise_id=authorized.enterprise_id)]
        other_printer = batches.list_batches(s, printer_id=idle_printer)
        waiting = [b.id for b in batches.list_batches(s, status=BatchStatus.REQUESTED)]
    assert every == mine == [approved, requested]
    assert other_printer == []
    assert waiting == [requested]


def test_get_batch_names_a_missing_batch(session: Any) -> None:
    with pytest.raises(NotFoundError, match="batch 42 not found"):
        batches.get_batch(session, 42)


# --- serials as printers type them -----------------------------------------------------------


def typo(printed: str) -> str:
    """``printed`` with its last character changed."""
    return printed[:-1] + ("1" if printed[-1] != "1" else "2")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (format_serial(12), (12, 12)),
        (format_serial(12).lower().replace("-", " "), (12, 12)),
        ("12", (12, 12)),
        (f"{format_serial(12)}..{format_serial(20)}", (12, 20)),
        ("12..20", (12, 20)),
        (f" 12 .. {format_serial(20)} ", (12, 20)),
        ("20..12", (20, 12)),  # read as given; voiding refuses it with its own message
    ],
)
def test_parse_serial_spec_reads_serials_numbers_and_ranges(
    text: str, expected: tuple[int, int]
) -> None:
    assert ledger.parse_serial_spec(text) == expected


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("0", "serials start at 1"),
        ("..5", "needs both ends"),
        ("5..", "needs both ends"),
        ("hello", "11 characters"),
        (typo(format_serial(12)), "typo"),
    ],
)
def test_parse_serial_spec_refuses_anything_else(text: str, why: str) -> None:
    with pytest.raises(SerialSpecError, match=why):
        ledger.parse_serial_spec(text)
