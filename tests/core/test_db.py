"""The hot path's transactions: retried when a pooled connection died, SQLite writers queued,
reads that do not wait for the writer, and the SQLite durability setting."""

from __future__ import annotations

import threading
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Connection, text

import gimark.core.db
from gimark.core.db import Database
from gimark.core.errors import ConfigurationError, DatabaseUnavailableError

# A counter row of its own in the one-row-per-name generation table.
COUNT = text("SELECT value FROM state_generation WHERE name = 'test'")
BUMP = text("UPDATE state_generation SET value = value + 1 WHERE name = 'test'")


def seed(db: Database) -> None:
    with db.session() as s:
        s.execute(text("INSERT INTO state_generation (name, value) VALUES ('test', 0)"))


def count(db: Database) -> int:
    with db.reading() as conn:
        return int(conn.execute(COUNT).scalar_one())


def bump(conn: Connection) -> int:
    conn.execute(BUMP)
    return int(conn.execute(COUNT).scalar_one())


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
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    if db.dialect != "postgresql":
        pytest.skip("only a server connection can die in the pool")
    monkeypatch.setattr(gimark.core.db, "IDLE_BEFORE_PING", 3600.0)  # never ping: it dies in use
    seed(db)
    pid = db.in_transaction(lambda conn: conn.execute(text("SELECT pg_backend_pid()")).scalar())
    url = db.engine.url
    with psycopg.connect(
        host=url.host, port=url.port, user=url.username, dbname=url.database, autocommit=True
    ) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    attempts = []

    def counted(conn: Connection) -> int:
        attempts.append(1)
        return bump(conn)

    assert db.in_transaction(counted) == 1
    assert (len(attempts), count(db)) == (2, 1)


def test_a_database_that_is_away_is_unavailable() -> None:
    from gimark.core.pgcluster import free_port

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

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
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


@pytest.mark.parametrize(("option", "expected"), [("", 1), ("?synchronous=full", 2)])
def test_sqlite_synchronous_is_normal_unless_the_url_asks_for_full(
    tmp_path: Path, option: str, expected: int
) -> None:
    database = Database(f"sqlite:///{tmp_path / 'gimark.sqlite3'}{option}")
    with database.reading() as conn:
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == expected
    database.dispose()


def test_an_unknown_synchronous_setting_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="synchronous"):
        Database(f"sqlite:///{tmp_path / 'gimark.sqlite3'}?synchronous=off")
