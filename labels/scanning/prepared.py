"""How the scan path's hot statements run: on the driver's own cursor, through public APIs.

A scan runs two to four statements, and SQLAlchemy's execution machinery (execution context,
parameter processing, result objects) costs about 70 µs of client CPU per statement more
than the driver's own execute (measured on the verify endpoint, on both databases): on
SQLite that time is spent while holding the writers' lock. So a :class:`Prepared` is a Core
statement whose SQL text SQLAlchemy compiles once per dialect (``str(compiled)``, with the
values the statement carries itself from ``compiled.params``), run with the DB-API cursor of
the connection (PEP 249), one cursor kept per statement and pooled connection in the pool's
own ``info`` dictionary:

- on PostgreSQL, psycopg's ``cursor.execute(..., prepare=True)`` with binary results: psycopg
  prepares the statement on each connection the first time it runs there, and reuses its
  adapters while the cursor runs the same query;
- on SQLite, ``sqlite3``'s execute with named parameters (the dialect compiled for
  ``paramstyle="named"``); values and results pass through the column types' own
  ``bind_processor`` and ``result_processor`` (UTC timestamps, enums stored by value), as
  SQLAlchemy's execution would apply them.

On PostgreSQL values go to psycopg as they are (it adapts datetimes, strings and numbers by
itself; callers pass enums by value) and come back as the database gives them: callers read
timestamps and enums through :func:`gimark.labels.scanning.sql.utc` and ``batch_status``.
A driver error is :class:`~gimark.core.errors.DatabaseUnavailableError`, and a connection the
error left broken is invalidated, as SQLAlchemy's own execution does.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import BindParameter, Connection
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import visitors
from sqlalchemy.sql.expression import ClauseElement, Executable

from gimark.core.errors import DatabaseUnavailableError

__all__ = ["Prepared"]

Processor = Callable[[Any], Any]
_CURSORS: Final = "gimark_prepared_cursors"  # the key of a pooled connection's cursors
_NAMED_SQLITE: Final = sqlite.dialect(paramstyle="named")


@dataclass(frozen=True)
class _Plan:
    """A statement as one dialect runs it (our own record; not SQLAlchemy's compiler)."""

    sql: str
    constants: dict[str, Any]  # values the statement carries itself (literals, LIMIT 1)
    bind_converters: tuple[tuple[str, Processor], ...]  # parameters whose type converts them
    result_converters: tuple[tuple[int, Processor], ...]  # columns whose type converts them
    options: dict[str, Any]  # the driver's execute options


class Prepared:
    """A Core statement run on the DB-API cursor, compiled once per dialect."""

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        columns = list(statement.exported_columns)  # type: ignore[attr-defined]
        self._types = [column.type for column in columns]
        # The columns are the statement's, known only here: mypy cannot type the fields.
        self.row: Any = namedtuple("Row", [str(c.key) for c in columns], rename=True)  # type: ignore[misc]
        self.returns_rows = bool(columns)  # known here: asking the cursor builds its description
        self._plans: dict[str, _Plan] = {}

    def rows(self, conn: Connection, values: Mapping[str, Any]) -> list[Any]:
        """The statement's rows for ``values`` (by bind parameter name), in ``conn``'s
        transaction (autocommit: the statement is its own).

        Raises:
            DatabaseUnavailableError: the database refused the statement or is away.
        """
        plan = self._plans.get(conn.dialect.name) or self._plan(conn.dialect)
        params = plan.constants | dict(values)
        for name, process in plan.bind_converters:
            params[name] = process(params[name])
        cursor = self._cursor(conn)
        try:
            cursor.execute(plan.sql, params, **plan.options)
            fetched = cursor.fetchall() if self.returns_rows else []
        except conn.dialect.loaded_dbapi.Error as exc:
            if conn.dialect.is_disconnect(exc, conn.connection.dbapi_connection, cursor):
                conn.invalidate(exc)
            raise DatabaseUnavailableError() from exc
        if not plan.result_converters:
            return [self.row(*raw) for raw in fetched]
        return [self.row(*_processed(raw, plan.result_converters)) for raw in fetched]

    def first(self, conn: Connection, values: Mapping[str, Any]) -> Any | None:
        """The first row of :meth:`rows`, or None."""
        found = self.rows(conn, values)
        return found[0] if found else None

    def _cursor(self, conn: Connection) -> Any:
        # One cursor per statement and connection: psycopg keeps the query's adapters while
        # a cursor runs the same query again. The pool's info dictionary lives and dies with
        # the DB-API connection.
        cursors: dict[Prepared, Any] = conn.connection.info.setdefault(_CURSORS, {})
        cursor = cursors.get(self)
        if cursor is None:
            driver = conn.connection.driver_connection
            assert driver is not None
            postgres = conn.dialect.name == "postgresql"
            cursor = cursors[self] = driver.cursor(binary=True) if postgres else driver.cursor()
        return cursor

    def _plan(self, dialect: Dialect) -> _Plan:
        postgres = dialect.name == "postgresql"
        target = dialect if postgres or dialect.paramstyle == "named" else _NAMED_SQLITE
        compiled = self.statement.compile(dialect=target)  # type: ignore[attr-defined]
        declared = _bind_types(self.statement)
        constants = {k: v for k, v in compiled.params.items() if k not in declared}
        binds: list[tuple[str, Processor]] = []
        results: list[tuple[int, Processor]] = []
        if not postgres:
            for name, type_ in declared.items():
                process = type_.dialect_impl(dialect).bind_processor(dialect)
                if process is not None:
                    binds.append((name, process))
            for index, type_ in enumerate(self._types):
                process = type_.dialect_impl(dialect).result_processor(dialect, None)
                if process is not None:
                    results.append((index, process))
        options = {"prepare": True} if postgres else {}
        made = _Plan(str(compiled), constants, tuple(binds), tuple(results), options)
        self._plans[dialect.name] = made
        return made


def _bind_types(statement: Executable) -> dict[str, Any]:
    """The named parameters a statement declares (``bindparam(name, type_=…)``), by name."""
    return {
        element.key: element.type
        for element in visitors.iterate(_clause(statement))
        if isinstance(element, BindParameter) and not element.unique and element.value is None
    }


def _clause(statement: Executable) -> ClauseElement:
    assert isinstance(statement, ClauseElement)  # every Core statement is one
    return statement


def _processed(raw: Any, converters: tuple[tuple[int, Processor], ...]) -> list[Any]:
    values = list(raw)
    for index, process in converters:
        values[index] = process(values[index])
    return values
