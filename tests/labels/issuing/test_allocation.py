"""Serial allocation: no serial is ever issued twice, whatever runs at once (both databases).

The concurrent tests start eight approvals together, each in its own thread with its own
session and connection: on PostgreSQL they contend for the counter row's lock, on SQLite for
the database's write lock (BEGIN IMMEDIATE, with a busy timeout).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import pytest
from sqlalchemy import select

from gimark.core.db import Database
from gimark.core.errors import GimarkError
from gimark.labels.issuing import batches
from gimark.labels.issuing.allocation import SerialRange, allocate_serials, next_serial
from gimark.labels.issuing.errors import BatchStateError, InvalidQuantityError
from gimark.labels.issuing.models import Batch, BatchStatus

WORKERS = 8
T = TypeVar("T")


def together(tasks: list[Callable[[], T]]) -> list[T | GimarkError]:
    """Run ``tasks`` in as many threads, released at the same instant; results in task order."""
    gate = threading.Barrier(len(tasks))

    def start(task: Callable[[], T]) -> T | GimarkError:
        gate.wait()
        try:
            return task()
        except GimarkError as exc:  # a refusal is a result here; anything else fails the test
            return exc

    with ThreadPoolExecutor(max_workers=len(tasks)) as pool:
        return list(pool.map(start, tasks))


def approver(db: Database, batch_id: int, printer_id: int) -> Callable[[], tuple[int, int]]:
    def approve() -> tuple[int, int]:
        with db.session() as s:
            batch = batches.approve_batch(s, batch_id, printer_id=printer_id, actor="admin:test")
            assert batch.serial_first is not None and batch.serial_last is not None
            return batch.serial_first, batch.serial_last

    return approve


def test_allocation_takes_the_next_range(db: Database) -> None:
    with db.session() as s:
        assert allocate_serials(s, 10) == SerialRange(1, 10)
        assert allocate_serials(s, 1) == SerialRange(11, 11)
        assert next_serial(s) == 12


def allocate_then_fail(db: Database) -> None:
    with db.session() as s:
        allocate_serials(s, 500)
        raise RuntimeError("the approval failed after allocating")


def test_a_rolled_back_allocation_leaves_no_gap(db: Database) -> None:
    with pytest.raises(RuntimeError):
        allocate_then_fail(db)
    with db.session() as s:
        assert allocate_serials(s, 1) == SerialRange(1, 1)


@pytest.mark.parametrize("quantity", [0, -1])
def test_allocation_refuses_nothing(db: Database, quantity: int) -> None:
    with pytest.raises(InvalidQuantityError), db.session() as s:
        allocate_serials(s, quantity)
    with db.session() as s:
        assert next_serial(s) == 1


def test_concurrent_approvals_get_disjoint_contiguous_ranges(
    db: Database, request_batch: Callable[..., int], printer_id: int, signing_key: str
) -> None:
    quantities = [1000 * (n + 1) + n for n in range(WORKERS)]  # all different
    ids = [request_batch(q) for q in quantities]

    results = together([approver(db, i, printer_id) for i in ids])

    assert all(isinstance(r, tuple) for r in results), results
    ranges = sorted(r for r in results if isinstance(r, tuple))
    # Each batch got exactly its quantity …
    assert sorted(last - first + 1 for first, last in ranges) == sorted(quantities)
    # … and together the ranges tile 1 … total with no gap and no overlap.
    assert ranges[0][0] == 1
    for (_, last), (first, _) in itertools.pairwise(ranges):
        assert first == last + 1
    assert ranges[-1][1] == sum(quantities)
    with db.session() as s:
        assert next_serial(s) == sum(quantities) + 1
        stored = s.execute(select(Batch.id, Batch.serial_first, Batch.serial_last)).all()
    assert {(i, f, last) for i, f, last in stored} == {
        (i, *r) for i, r in zip(ids, results, strict=True) if isinstance(r, tuple)
    }


def test_concurrent_approvals_of_one_batch_allocate_once(
    db: Database, request_batch: Callable[..., int], printer_id: int, signing_key: str
) -> None:
    batch_id = request_batch(250)

    results = together([approver(db, batch_id, printer_id) for _ in range(WORKERS)])

    won = [r for r in results if isinstance(r, tuple)]
    refused = [r for r in results if isinstance(r, BatchStateError)]
    assert won == [(1, 250)]
    assert len(refused) == WORKERS - 1
    assert all("is approved and cannot be approved" in str(e) for e in refused)
    with db.session() as s:
        assert next_serial(s) == 251
        assert batches.get_batch(s, batch_id).status is BatchStatus.APPROVED
