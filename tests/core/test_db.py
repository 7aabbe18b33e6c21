"""The hot path's transactions: retried when a pooled connection died, SQLite writers queued,
reads that do not wait for the writer, read-then-write with a compare and swap, and the
SQLite durability setting."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from gimark.core.db import Database
from gimark.core.errors import ConfigurationError, DatabaseUnavailableError

# A counter row of its own in the one-row-per-name generation table.
COUNT = text("SELECT value FROM state_generation WHERE name = 'test'")
BUMP = text("UPDATE state_generation SET value = value + 1 WHERE name = 'test'")
# One statement, as read_then_write's write must be on PostgreSQL.
SWAP = text(
    "UPDATE state_generation SET value = value + 1 WHERE name = 'test' AND value = :seen"
    " RETURNING value"
)


def seed(db: Database) -> None:
    with db.session() as s:
        s.execute(text("INSERT INTO state_generation (name, value) VALUES ('test', 0)"))


def count(db: Database) -> int:
    with db.reading() as conn:
        return int(conn.execute(COUNT).scalar_one())


def bump(conn: Connection) -> int:
    conn.execute(BUMP)
    return int(conn.execute(COUNT).scalar_one())


def in_threads(threads: int, work: Callable[[], None]) -> None:
    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


def test_work_commits_once_and_a_failure_rolls_back(db: Database) -> None:
    seed(db)
    assert db.in_transaction(bump) == 1

    def fail(conn: Connection) -> None:
        bump(conn)
        raise RuntimeError("refused")

    with pytest.raises(RuntimeError, match="refused"):
        db.in_transaction(fail)
    assert count(db) == 1


def test_a_connection_that_died_in_the_pool_is_replaced_without_losing_the_work(
    db: Database, server_restart: Callable[[], None]
) -> None:
    seed(db)
    server_restart()
    attempts = []

    def counted(conn: Connection) -> int:
        attempts.append(1)
        return bump(conn)

    assert db.in_transaction(counted) == 1
    db.dispose()  # the count's own pooled connection died too
    assert (len(attempts), count(db)) == (2, 1)


def increment_if_unchanged(conn: Connection, seen: int) -> bool:
    return conn.execute(SWAP, {"seen": seen}).first() is not None


def test_read_then_write_writes_what_was_decided_from_the_read(db: Database) -> None:
    seed(db)
    read_value = lambda conn: int(conn.execute(COUNT).scalar_one())  # noqa: E731
    assert db.read_then_write(read_value, increment_if_unchanged) is True
    assert count(db) == 1
    assert db.read_then_write(lambda conn: 0, increment_if_unchanged) is False  # stale: no write
    assert count(db) == 1


def test_compare_and_swap_writers_lose_nothing(db: Database) -> None:
    seed(db)
    threads, per_thread = 8, 10

    def work() -> None:
        for _ in range(per_thread):
            while not db.read_then_write(
                lambda conn: int(conn.execute(COUNT).scalar_one()), increment_if_unchanged
            ):
                pass  # another writer came in between: read again

    in_threads(threads, work)
    assert count(db) == threads * per_thread


def test_read_then_write_reads_again_after_a_restart_and_writes_once(
    db: Database, server_restart: Callable[[], None]
) -> None:
    seed(db)
    db.read_then_write(lambda conn: int(conn.execute(COUNT).scalar_one()), lambda c, v: None)
    server_restart()
    reads, writes = [], []

    def read(conn: Connection) -> int:
        reads.append(1)
        return int(conn.execute(COUNT).scalar_one())

    def write(conn: Connection, seen: int) -> bool:
        writes.append(1)
        return increment_if_unchanged(conn, seen)

    assert db.read_then_write(read, write) is True
    db.dispose()  # the count's own pooled connection died too
    assert (len(reads), len(writes), count(db)) == (2, 1, 1)


def test_a_database_that_is_away_is_unavailable() -> None:
    from support.pgcluster import free_port

    gone = Database(f"postgresql://nobody@127.0.0.1:{free_port()}/gone")
    with pytest.raises(DatabaseUnavailableError):
        gone.in_transaction(bump)
    gone.dispose()


def test_concurrent_writers_on_sqlite_queue_and_lose_nothing(db: Database) -> None:
    if db.dialect != "sqlite":
        pytest.skip("the writers' queue is SQLite's")
    seed(db)
    threads, per_thread = 8, 25

    def work() -> None:
        for _ in range(per_thread):
            db.in_transaction(bump)

    in_threads(threads, work)
    assert count(db) == threads * per_thread


def test_a_read_does_not_wait_for_the_sqlite_writer(db: Database) -> None:
    if db.dialect != "sqlite":
        pytest.skip("PostgreSQL readers never wait for writers")
    seed(db)
    inside, release = threading.Event(), threading.Event()

    def slow_writer(conn: Connection) -> None:
        bump(conn)
        inside.set()
        release.wait(10)

    writer = threading.Thread(target=db.in_transaction, args=(slow_writer,))
    writer.start()
    try:
        assert inside.wait(10)
        assert count(db) == 0  # the committed state, at once, while the writer holds its lock
    finally:
        release.set()
        writer.join()
    assert count(db) == 1


@pytest.mark.parametrize(("option", "expected"), [("", 2), ("?synchronous=normal", 1)])
def test_sqlite_syncs_every_commit_unless_the_url_asks_for_normal(
    tmp_path: Path, option: str, expected: int
) -> None:
    database = Database(f"sqlite:///{tmp_path / 'gimark.sqlite3'}{option}")
    with database.reading() as conn:
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == expected
    database.dispose()


def test_an_unknown_synchronous_setting_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="synchronous"):
        Database(f"sqlite:///{tmp_path / 'gimark.sqlite3'}?synchronous=off")


def test_a_write_commits_its_one_statement(db: Database) -> None:
    seed(db)
    assert db.write(lambda conn: increment_if_unchanged(conn, 0)) is True
    assert db.write(lambda conn: increment_if_unchanged(conn, 0)) is False
    assert count(db) == 1
