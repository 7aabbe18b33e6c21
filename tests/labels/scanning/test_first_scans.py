"""A label's first scan in one write, on both databases: it lands only as the first scan of
its serial and only while the state it was judged on holds."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text

from gimark.core.db import Database
from gimark.labels.issuing import batches, ledger
from gimark.labels.issuing.models import BatchStatus
from gimark.labels.scanning.duplicates import SerialSummary
from gimark.labels.scanning.first_scans import FirstScan, store_first_scan
from gimark.labels.scanning.state import State, read_state

Row = Callable[..., dict[str, Any]]


@pytest.fixture
def printed(db: Database, make_batch: Callable[..., int]) -> tuple[int, int]:
    """A printed (not yet delivered) batch of 10: its id and first serial."""
    batch_id = make_batch(quantity=10, status=BatchStatus.PRINTED)
    with db.session() as s:
        first = batches.get_batch(s, batch_id).serial_first
    assert first is not None
    return batch_id, first


def state_of(db: Database, serial: int) -> State:
    with db.reading() as conn:
        return read_state(conn, serial)


def first_scan(
    db: Database, row: dict[str, Any], summary: SerialSummary, state: State
) -> FirstScan:
    return db.write(lambda conn: store_first_scan(conn, row, summary, state))


def test_the_first_scan_lands_and_the_next_gets_the_pattern(
    db: Database,
    printed: tuple[int, int],
    scan_row: Row,
    scanned_once: Callable[[str], SerialSummary],
    scan_counts: Callable[[], tuple[int, int]],
) -> None:
    _, serial = printed
    state = state_of(db, serial)
    assert first_scan(db, scan_row(serial, scanner="a"), scanned_once("a"), state).landed
    again = first_scan(db, scan_row(serial, scanner="b"), scanned_once("b"), state)
    assert not again.landed and again.seen is not None
    assert (again.seen.version, again.seen.scanner_known) == (1, False)  # "b" is new
    assert scan_counts() == (1, 1)


def test_a_placeholder_left_by_the_locking_path_is_a_pattern_of_version_zero(
    db: Database,
    printed: tuple[int, int],
    scan_row: Row,
    scanned_once: Callable[[str], SerialSummary],
) -> None:
    _, serial = printed
    with db.session() as s:  # what a locked scan leaves when it stores no summary
        s.execute(
            text(
                "INSERT INTO serial_summaries (serial, scan_count, scanner_count,"
                " last_scanner, outside_scanners, outside_provinces, travel_conflicts,"
                " site_count, sites, reasons) VALUES (:s, 0, 0, '', 0, '', 0, 0, '[]', '')"
            ),
            {"s": serial},
        )
    result = first_scan(db, scan_row(serial), scanned_once("shop"), state_of(db, serial))
    assert not result.landed and result.seen is not None and result.seen.version == 0


@pytest.mark.parametrize("change", ["voided", "delivered", "generation"])
def test_nothing_lands_once_the_state_it_was_judged_on_changed(
    db: Database,
    printed: tuple[int, int],
    scan_row: Row,
    scanned_once: Callable[[str], SerialSummary],
    scan_counts: Callable[[], tuple[int, int]],
    change: str,
) -> None:
    batch_id, serial = printed
    state = state_of(db, serial)
    with db.session() as s:
        if change == "voided":
            ledger.void_serials(s, batch_id, [(serial, serial)], reason="smudged", actor="t")
        elif change == "delivered":
            ledger.deliver_batch(s, batch_id, actor="t")
        else:
            s.execute(text("UPDATE state_generation SET value = value + 1 WHERE name = 'state'"))
    result = first_scan(db, scan_row(serial), scanned_once("shop"), state)
    assert result == FirstScan(landed=False, seen=None)
    assert scan_counts() == (0, 0)
