"""Database plumbing shared by every domain: the declarative base, UTC timestamps and
transactional sessions, on SQLite (embedded default) and PostgreSQL (production). The
engines' per-database settings are :mod:`gimark.core.engines`'."""

from __future__ import annotations

import datetime as dt
import enum
import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, DateTime, Enum, MetaData
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from gimark.core.engines import READ_ONLY, HeldConnections, make_engine, normalize_url
from gimark.core.errors import DatabaseUnavailableError

__all__ = [
    "Base",
    "Database",
    "UTCDateTime",
    "connection_of",
    "make_engine",
    "utcnow",
    "value_enum",
]

# Stable constraint names, so migrations can refer to them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every gimark table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> dt.datetime:
    """The current time, timezone-aware UTC."""
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp that is always timezone-aware UTC in Python.

    SQLite keeps no zone; PostgreSQL keeps ``timestamptz``. Both come back aware.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def value_enum(cls: type[enum.Enum]) -> Enum:
    """A column type storing the enum's value (what the contracts show), not its Python name."""
    return Enum(
        cls,
        values_callable=lambda members: [m.value for m in members],
        native_enum=False,
        length=32,
        validate_strings=True,
    )


def connection_of(session: Session | Connection) -> Connection:
    """The Core connection under ``session`` (itself if it is one), in its transaction."""
    return session.connection() if isinstance(session, Session) else session


T = TypeVar("T")
R = TypeVar("R")


@contextmanager
def _queued(lock_file: Path | None) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``lock_file`` (none: nothing to hold)."""
    if lock_file is None:
        yield
        return
    # A descriptor of its own per holder: flock excludes other open files, threads included.
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


@contextmanager
def _unavailable_as_error() -> Iterator[None]:
    """A database that is away (or failed operationally) as DatabaseUnavailableError."""
    try:
        yield
    except (OperationalError, DBAPIError) as exc:
        if isinstance(exc, OperationalError) or exc.connection_invalidated:
            raise DatabaseUnavailableError() from exc
        raise


class Database:
    """An engine and its session factory."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = normalize_url(url)
        self.engine = make_engine(self.url, **engine_kwargs)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        # The hot path's connections (write, read_then_write), one held per thread; on
        # PostgreSQL from a pool of their own, born in autocommit, so a use neither switches
        # autocommit on and off nor rolls back when done.
        self._autocommit = self.engine
        if self.dialect == "postgresql":
            self._autocommit = make_engine(
                self.url, isolation_level="AUTOCOMMIT", pool_reset_on_return=None, **engine_kwargs
            )
        self._hot = HeldConnections(self._autocommit)
        database = self.engine.url.database if self.dialect == "sqlite" else None
        file_backed = database not in (None, "", ":memory:")
        self._writers = Path(f"{database}-writers.lock") if file_backed else None

    @property
    def dialect(self) -> str:
        """ "sqlite" or "postgresql"."""
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any error.

        Raises:
            DatabaseUnavailableError: the database could not be reached or failed operationally.
        """
        with self.sessions() as session:
            try:
                yield session
                session.commit()
            except (OperationalError, DBAPIError) as exc:
                session.rollback()
                if isinstance(exc, OperationalError) or exc.connection_invalidated:
                    raise DatabaseUnavailableError() from exc
                raise
            except BaseException:
                session.rollback()
                raise

    def in_transaction(self, work: Callable[[Connection], T]) -> T:
        """``work(conn)`` on a Core connection in one transaction, committed when it returns,
        rolled back if it raises: for hot paths that need no ORM objects (a Session costs
        more per scan).

        A pooled connection is not pinged before use (see :func:`_ping_when_idle`): if it
        turns out dead before anything was committed, ``work`` runs once more on a fresh
        one, so a server restart costs no scan. On SQLite, writers first queue on an OS file
        lock beside the database: SQLite's own busy handler polls with sleeps of 1, 2, 5 …
        ms, which under load leaves the lock free while the next writer sleeps; the file
        lock hands it over at once.

        Raises:
            DatabaseUnavailableError: the database could not be reached or failed operationally.
        """
        retries = 1
        while True:
            with _unavailable_as_error(), _queued(self._writers), self.engine.connect() as conn:
                transaction = conn.begin()
                try:
                    result = work(conn)
                except Exception:
                    if retries and conn.invalidated:
                        retries -= 1
                        continue  # the connection died in the pool; nothing was written
                    raise
                transaction.commit()
                return result

    def write(self, work: Callable[[Connection], T]) -> T:
        """``work(conn)`` as one write, committed when it returns, with no round trip spent
        on the transaction: on PostgreSQL in autocommit, so ``work`` must run one statement
        (its own transaction); on SQLite in ``BEGIN IMMEDIATE`` after queuing on the
        writers' lock (see :meth:`in_transaction`). Never run twice: a failure may come after
        the server committed, and only the caller can tell whether it did.

        Raises:
            DatabaseUnavailableError: the database could not be reached or failed operationally.
        """
        with _unavailable_as_error():
            conn = self._hot.take()
            try:
                return self._write_on(conn, work)
            finally:
                self._hot.give_back(conn)

    def _write_on(self, conn: Connection, work: Callable[[Connection], T]) -> T:
        if self.dialect == "postgresql":
            return work(conn)  # autocommit: the statement commits itself
        conn.execution_options(**{READ_ONLY: False})
        with _queued(self._writers), conn.begin():
            return work(conn)

    def _read_on(self, conn: Connection, read: Callable[[Connection], R]) -> R:
        if self.dialect == "postgresql":
            return read(conn)  # autocommit: each statement sees the latest committed state
        with conn.execution_options(**{READ_ONLY: True}).begin():
            return read(conn)

    def read_then_write(
        self, read: Callable[[Connection], R], write: Callable[[Connection, R], T]
    ) -> T:
        """``read(conn)`` without taking any lock, then ``write(conn, what read returned)``,
        committed when it returns, on the thread's held connection: for a hot path that decides
        what to write from what it read and checks in the write that it still holds
        (a compare and swap).

        On PostgreSQL the connection is in autocommit: the reads see the latest committed
        state and ``write`` must run one statement, its own transaction, so no BEGIN or
        COMMIT round trip is paid. On SQLite ``read`` runs in a read-only transaction and
        ``write`` in ``BEGIN IMMEDIATE`` after queuing on the writers' lock (see
        :meth:`in_transaction`). A pooled connection found dead while reading is replaced
        and ``read`` runs again, so a server restart costs no scan; ``write`` never runs
        twice, since a failure there may come after the server committed.

        Raises:
            DatabaseUnavailableError: the database could not be reached or failed operationally.
        """
        retries = 1
        while True:
            with _unavailable_as_error():
                conn = self._hot.take()
                try:
                    try:
                        got = self._read_on(conn, read)
                    except Exception:
                        if retries and conn.invalidated:
                            retries -= 1
                            continue  # the connection died in the pool; nothing was written
                        raise
                    if conn.invalidated:
                        # read met the dead connection and answered without it (a verdict
                        # without state, say): ask again on a fresh one.
                        if retries:
                            retries -= 1
                            continue
                        raise DatabaseUnavailableError()
                    return self._write_on(conn, lambda c: write(c, got))  # noqa: B023
                finally:
                    self._hot.give_back(conn)

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A Core connection in a read-only transaction: on SQLite it takes no write lock
        (see :meth:`in_transaction`), so a hot path can judge before it queues to write.

        Raises:
            DatabaseUnavailableError: the database could not be reached or failed operationally.
        """
        read_only = {READ_ONLY: True}
        with (
            _unavailable_as_error(),
            self.engine.connect() as conn,
            conn.execution_options(**read_only).begin(),
        ):
            yield conn

    def dispose(self) -> None:
        """Close every pooled connection."""
        self._hot.close()
        self.engine.dispose()
        self._autocommit.dispose()
