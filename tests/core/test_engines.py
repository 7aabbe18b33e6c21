"""Held connections: one per thread, kept between uses, returned when the thread ends or on
close, and replaced when found dead (pinged after sitting idle, or dropped after a failure)."""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

import gimark.core.engines
from gimark.core.db import Database
from gimark.core.engines import HeldConnections, make_engine

SELECT_ONE = text("SELECT 1")


@pytest.fixture
def engine(db: Database) -> Iterator[Engine]:
    engine = make_engine(db.url)
    yield engine
    engine.dispose()


def checked_out(engine: Engine) -> int:
    return engine.pool.checkedout()  # type: ignore[attr-defined, no-any-return]


def use(held: HeldConnections) -> int:
    """One use of this thread's connection; the id of the driver connection it was."""
    conn = held.take()
    try:
        conn.execute(SELECT_ONE)
        return id(conn.connection.dbapi_connection)
    finally:
        held.give_back(conn)


def backend(held: HeldConnections) -> int:
    """The PostgreSQL backend serving this thread's connection."""
    conn = held.take()
    try:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())
    finally:
        held.give_back(conn)


def test_a_thread_keeps_one_connection_between_uses(engine: Engine) -> None:
    held = HeldConnections(engine)
    assert use(held) == use(held) == use(held)
    assert checked_out(engine) == 1
    held.close()
    assert checked_out(engine) == 0


def test_each_thread_holds_its_own_and_returns_it_when_it_ends(engine: Engine) -> None:
    held = HeldConnections(engine)
    seen: list[int] = []
    both_hold = threading.Barrier(2, timeout=10)

    def work() -> None:
        seen.append(use(held))
        both_hold.wait()  # neither has ended: two connections are held at once
        seen.append(use(held))

    workers = [threading.Thread(target=work) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    gc.collect()
    assert len(set(seen)) == 2
    assert checked_out(engine) == 0


def test_a_nested_use_gets_a_connection_of_its_own(engine: Engine) -> None:
    held = HeldConnections(engine)
    outer = held.take()
    inner = held.take()
    assert inner is not outer
    held.give_back(inner)
    assert checked_out(engine) == 1  # the nested one went back to the pool
    held.give_back(outer)
    held.close()


def test_a_connection_found_dead_is_replaced_after_the_failure(
    db: Database, engine: Engine, server_restart: Callable[[], None]
) -> None:
    held = HeldConnections(engine)
    before = backend(held)
    server_restart()  # and connections are not pinged: the next statement finds it dead
    with pytest.raises(DBAPIError) as failed:
        use(held)
    assert failed.value.connection_invalidated
    assert backend(held) != before
    held.close()


def test_a_connection_idle_past_the_limit_is_pinged_and_replaced_if_dead(
    db: Database,
    engine: Engine,
    server_restart: Callable[[], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    held = HeldConnections(engine)
    before = backend(held)
    server_restart()
    monkeypatch.setattr(gimark.core.engines, "IDLE_BEFORE_PING", 0.0)
    assert backend(held) != before  # no failure: the ping found it dead first
    held.close()
