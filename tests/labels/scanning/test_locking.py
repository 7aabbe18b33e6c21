"""The contended scan path on both databases: lock the summary, claim the scanner, store."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection

from gimark.core.db import Database, utcnow
from gimark.labels.scanning.duplicates import SerialSummary
from gimark.labels.scanning.locking import lock_and_claim, record
from gimark.labels.scanning.store import read_summary

SERIAL = 42


def test_the_first_scan_finds_a_placeholder_and_claims_its_scanner(db: Database) -> None:
    now = utcnow()
    before, is_new = db.in_transaction(lambda conn: lock_and_claim(conn, SERIAL, "a", now))
    assert (before, is_new) == (None, True)
    again = db.in_transaction(lambda conn: lock_and_claim(conn, SERIAL, "a", now))
    assert again == (None, False)  # a placeholder is no scan; the scanner is known now
    other = db.in_transaction(lambda conn: lock_and_claim(conn, SERIAL, "b", now))
    assert other == (None, True)


def test_record_writes_the_summary_and_the_row_together(
    db: Database,
    scan_row: Callable[..., dict[str, object]],
    scanned_once: Callable[[str], SerialSummary],
    scan_counts: Callable[[], tuple[int, int]],
) -> None:
    now = utcnow()
    stored = scanned_once("a")

    def scan(conn: Connection) -> None:
        lock_and_claim(conn, SERIAL, "a", now)
        record(conn, scan_row(SERIAL), stored)

    db.in_transaction(scan)
    with db.reading() as conn:
        assert read_summary(conn, SERIAL) == stored
    assert scan_counts() == (1, 1)


def test_a_locked_scan_that_shapes_nothing_writes_only_its_row(
    db: Database,
    scan_row: Callable[..., dict[str, object]],
    scan_counts: Callable[[], tuple[int, int]],
) -> None:
    db.in_transaction(lambda conn: record(conn, scan_row(None, "not_ours"), None))
    with db.reading() as conn:
        assert read_summary(conn, SERIAL) is None
    assert scan_counts() == (1, 0)
