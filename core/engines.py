"""Engines with gimark's per-database settings, and the connections the scan path holds.

SQLite runs in WAL mode, begins write transactions IMMEDIATE and syncs every commit by
default; on PostgreSQL a pooled connection is pinged only after it sat idle. The scan path
keeps one connection per thread checked out between requests (:class:`HeldConnections`).
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError

from gimark.core.errors import ConfigurationError

__all__ = ["IDLE_BEFORE_PING", "READ_ONLY", "HeldConnections", "make_engine", "normalize_url"]

IDLE_BEFORE_PING = 1.0  # seconds: a pooled connection idle this long is pinged before use
_LAST_CHECKIN = "gimark_last_checkin"  # in the pool's record of a connection
READ_ONLY = "gimark_read_only"  # execution option: a SQLite transaction that takes no lock
# PRAGMA synchronous in WAL mode: FULL (the default) syncs the WAL at every commit, so a scan
# that was answered survives a power loss, as on PostgreSQL with synchronous_commit on.
# ``?synchronous=normal`` on the URL syncs at checkpoints only: a commit survives a crash of
# the application but the last ones may be lost on power loss (for demos and tests).
_SYNCHRONOUS = ("NORMAL", "FULL", "EXTRA")


def _configure_sqlite(engine: Engine, synchronous: str) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself (below) instead of pysqlite's deferred BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # IMMEDIATE takes the write lock up front: two transactions that read then write
        # (serial allocation, scan counters) queue instead of failing with "database is locked".
        # A read-only transaction (Database.reading) takes no lock: in WAL mode it neither
        # waits for the writer nor holds it up.
        # Sent on the driver connection: SQLAlchemy's execution machinery would cost a scan's
        # write more than SQLite's BEGIN itself, while the writers' queue waits.
        deferred = conn.get_execution_options().get(READ_ONLY, False)
        conn.connection.driver_connection.execute("BEGIN" if deferred else "BEGIN IMMEDIATE")


def _ping_when_idle(engine: Engine) -> None:
    """Ping a connection at checkout only if it sat idle in the pool.

    SQLAlchemy's ``pool_pre_ping`` pings at every checkout: a round trip on every scan, for a
    check that matters only after the server went away. A connection that was in use a moment
    ago is taken to be alive; if the server restarted meanwhile, the next statement on it
    fails (the scan answers cannot_verify) and the pool throws away all its connections.
    """

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info[_LAST_CHECKIN] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        last = record.info.get(_LAST_CHECKIN)
        if last is not None and time.monotonic() - last < IDLE_BEFORE_PING:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError() from exc  # the pool connects anew and tries again


def normalize_url(url: str) -> str:
    """Select psycopg 3 for plain ``postgresql://`` URLs."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url`` with gimark's per-database settings."""
    url = normalize_url(url)
    if url.startswith("sqlite"):
        parsed = make_url(url)
        synchronous = parsed.query.get("synchronous", "full")
        if not isinstance(synchronous, str) or synchronous.upper() not in _SYNCHRONOUS:
            raise ConfigurationError(
                detail=f"synchronous= must be one of {', '.join(_SYNCHRONOUS)}",
                detail_zh=f"synchronous= 须为 {'、'.join(_SYNCHRONOUS)} 之一",
            )
        parsed = parsed.difference_update_query(["synchronous"])
        engine = create_engine(parsed, connect_args={"timeout": 30}, **kwargs)
        _configure_sqlite(engine, synchronous.upper())
        return engine
    engine = create_engine(url, **kwargs)
    if "pool_pre_ping" not in kwargs:
        _ping_when_idle(engine)
    return engine


class _Held:
    """A thread's held connection; closing it on the way out returns it to the pool (a
    thread that ends drops its holder, and so its connection, with it)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.pid = os.getpid()
        self.last_used = time.monotonic()
        self.busy = False

    def __del__(self) -> None:
        if self.pid == os.getpid():  # never the socket of the process this one forked from
            self.conn.close()


class HeldConnections:
    """One connection of ``engine``'s pool per thread, kept checked out between uses.

    A scan checks out a connection and returns it at least once: under load the pool's
    bookkeeping (locks, events, proxies) took about 7 % of a verify request's CPU, in code
    that has left the CPU's caches by the next request. A held connection costs a
    thread-local lookup instead. As in the pool, one that sat idle for ``IDLE_BEFORE_PING``
    is pinged first and replaced if dead; one a statement found dead is dropped when given
    back. Each thread holds one, so a pool must be as large as the threads that scan.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._local = threading.local()
        self._holders: weakref.WeakSet[_Held] = weakref.WeakSet()
        self._lock = threading.Lock()

    def take(self) -> Connection:
        """This thread's connection (a pool's own if this thread holds its one already)."""
        held: _Held | None = getattr(self._local, "held", None)
        if held is not None and held.busy:
            return self.engine.connect()  # a nested use: not expected, but not wrong
        if held is None or not self._usable(held):
            held = self._hold()
        held.busy = True
        return held.conn

    def give_back(self, conn: Connection) -> None:
        """Done with ``conn`` (from :meth:`take`) for now."""
        held: _Held | None = getattr(self._local, "held", None)
        if held is None or held.conn is not conn:
            conn.close()
            return
        held.busy = False
        held.last_used = time.monotonic()
        if conn.invalidated:
            self._drop(held)
        elif conn.in_transaction():
            conn.rollback()  # what the pool does on return: a held one must not keep locks

    def close(self) -> None:
        """Return every thread's held connection (call when no thread is using one)."""
        with self._lock:
            holders = list(self._holders)
        for held in holders:
            self._drop(held)

    def _hold(self) -> _Held:
        held = getattr(self._local, "held", None)
        if held is not None and held.pid == os.getpid():
            self._drop(held)
        held = self._local.held = _Held(self.engine.connect())
        with self._lock:
            self._holders.add(held)
        return held

    def _usable(self, held: _Held) -> bool:
        if held.pid != os.getpid() or held.conn.invalidated:
            return False
        return time.monotonic() - held.last_used < IDLE_BEFORE_PING or self._alive(held)

    def _alive(self, held: _Held) -> bool:
        dialect = self.engine.dialect
        dbapi_connection = held.conn.connection.dbapi_connection
        if dbapi_connection is None:
            return False
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            held.conn.invalidate(exc)
            return False
        return True

    def _drop(self, held: _Held) -> None:
        with self._lock:
            self._holders.discard(held)
        held.conn.close()
        held.pid = -1  # closed: its __del__ has nothing left to do
