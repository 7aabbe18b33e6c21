"""The scan path's statements on both databases: one read of the state and the pattern, and a
write that lands only if the pattern is still as read (compare and swap)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import Connection

from gimark.core.db import Database, utcnow
from gimark.labels.issuing.batches import get_batch
from gimark.labels.issuing.models import BatchStatus
from gimark.labels.scanning.duplicates import SerialSummary
from gimark.labels.scanning.locking import lock_and_claim
from gimark.labels.scanning.state import State
from gimark.labels.scanning.store import (
    Seen,
    log,
    read_state_and_pattern,
    read_summary,
    store_if_unchanged,
)

SERIAL = 42
Row = Callable[..., dict[str, object]]


@dataclass(frozen=True)
class Scans:
    """The tests' makers: a scan row, a summary after one scan, and the row counts."""

    row: Row
    once: Callable[[str], SerialSummary]
    counts: Callable[[], tuple[int, int]]


@pytest.fixture
def scans(
    scan_row: Row,
    scanned_once: Callable[[str], SerialSummary],
    scan_counts: Callable[[], tuple[int, int]],
) -> Scans:
    return Scans(scan_row, scanned_once, scan_counts)


def seen(db: Database, serial: int = SERIAL, scanner: str = "a") -> tuple[State, Seen]:
    with db.reading() as conn:
        return read_state_and_pattern(conn, serial, scanner)


def store(db: Database, row: dict[str, object], summary: SerialSummary, before: Seen) -> bool:
    return db.in_transaction(lambda conn: store_if_unchanged(conn, row, summary, before))


def test_an_unscanned_serial_has_no_summary_and_no_version(db: Database) -> None:
    state, pattern = seen(db)
    assert state.batch is None  # no batch holds serial 42 here
    assert pattern == Seen(summary=None, version=None, scanner_known=False)


def test_the_state_read_with_the_pattern_is_the_verifiers(
    db: Database, make_batch: Callable[..., int]
) -> None:
    batch_id = make_batch(quantity=5, status=BatchStatus.DELIVERED)
    with db.session() as s:
        first = get_batch(s, batch_id).serial_first
    assert first is not None
    state, _ = seen(db, first)
    assert state.batch is not None and state.batch.id == batch_id
    assert (state.batch.status, state.voided) == (BatchStatus.DELIVERED, False)


def test_a_write_lands_when_nobody_came_in_between(db: Database, scans: Scans) -> None:
    _, before = seen(db)
    stored = scans.once("a")
    assert store(db, scans.row(SERIAL, scanner="a"), stored, before)
    _, after = seen(db)
    assert after == Seen(stored, version=1, scanner_known=True)
    assert scans.counts() == (1, 1)


def test_a_stale_write_writes_nothing(db: Database, scans: Scans) -> None:
    _, before = seen(db)
    assert store(db, scans.row(SERIAL, scanner="a"), scans.once("a"), before)
    # A second scan that read before the first one landed: its version is gone.
    assert not store(db, scans.row(SERIAL, scanner="b"), scans.once("b"), before)
    _, current = seen(db, scanner="b")
    twice = dataclasses.replace(scans.once("b"), scan_count=2, scanner_count=2)
    assert store(db, scans.row(SERIAL, scanner="b"), twice, current)
    _, last = seen(db, scanner="b")
    assert (last.version, last.scanner_known) == (2, True)
    assert scans.counts() == (2, 2)


def test_a_known_scanner_is_not_claimed_again(db: Database, scans: Scans) -> None:
    _, before = seen(db)
    assert store(db, scans.row(SERIAL, scanner="a"), scans.once("a"), before)
    _, again = seen(db)
    assert again.scanner_known
    rescan = dataclasses.replace(scans.once("a"), scan_count=2)
    assert store(db, scans.row(SERIAL, scanner="a"), rescan, again)
    assert scans.counts() == (2, 1)


def test_a_placeholder_of_the_locking_path_is_version_zero(db: Database, scans: Scans) -> None:
    now = utcnow()

    def abandoned(conn: Connection) -> None:
        lock_and_claim(conn, SERIAL, "a", now)  # a locked scan that stored no summary

    db.in_transaction(abandoned)
    _, before = seen(db)
    assert before == Seen(summary=None, version=0, scanner_known=True)
    assert store(db, scans.row(SERIAL, scanner="a"), scans.once("a"), before)
    with db.reading() as conn:
        summary = read_summary(conn, SERIAL)
    assert summary is not None and summary.scan_count == 1
    assert scans.counts() == (1, 1)


def test_a_scan_that_shapes_nothing_writes_only_its_row(db: Database, scans: Scans) -> None:
    db.in_transaction(lambda conn: log(conn, scans.row(None, "not_ours")))
    assert seen(db)[1].version is None
    assert scans.counts() == (1, 0)
