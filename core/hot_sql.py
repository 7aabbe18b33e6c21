"""Core statements run on the driver's own connection, for the few statements of the scan path.

A scan runs one to three statements. Through SQLAlchemy's execution machinery each costs about
as much client CPU again as the driver's own work (execution context, parameter processing,
a cursor description built column by column, row objects), which on the verify endpoint
is a sixth of a request. A :class:`HotStatement` is the same Core construct, compiled once
per dialect into its SQL text, constant parameters and type processors; running it is a
dict merge, the driver's execute and the result processors of the columns that have one.
On an autocommit PostgreSQL connection (the scan path's) the driver's execute is a statement
prepared once per connection and run through libpq (:mod:`gimark.core.pg_prepared`).

What it keeps from SQLAlchemy: the statement is still written in Core, bound values and
results pass through the column types (UTC timestamps, enums stored by value), and a driver
error becomes the SQLAlchemy exception it would have been, invalidating the connection
when the server is gone, so callers' error handling and dead-connection retries hold.
Statements with expanding (``IN``) or literal-execute parameters, or that leave a column to a
Python-side default other than a plain value, are refused when first run.
"""

from __future__ import annotations

import copy
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.compiler import SQLCompiler

from gimark.core.pg_prepared import PreparedStatement, type_oid

__all__ = ["HotStatement"]

Processor = Callable[[Any], Any]


@dataclass(frozen=True)
class _Compiled:
    sql: str
    order: tuple[str, ...] | None  # parameter names in order (positional paramstyles)
    constants: dict[str, Any]  # values the statement carries itself (literals, LIMIT 1)
    binds: tuple[tuple[str, Processor], ...]  # parameters whose type converts them
    results: tuple[tuple[int, Processor], ...]  # result columns whose type converts them
    row: type[tuple[Any, ...]]  # a named tuple of the result columns
    returns_rows: bool  # known here: asking the cursor builds its whole description
    prepared: PreparedStatement | None  # the same statement for autocommit psycopg connections


class HotStatement:
    """A Core statement compiled once per dialect and run on the DBAPI cursor."""

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}

    def rows(self, conn: Connection, params: Mapping[str, Any]) -> list[Any]:
        """Run with ``params`` in ``conn``'s transaction; the rows as named tuples
        (none for a statement that returns none)."""
        compiled = self._for(conn.dialect)
        values = compiled.constants | dict(params)
        for name, process in compiled.binds:
            values[name] = process(values[name])
        driver = conn.connection.driver_connection
        prepared = compiled.prepared
        fetched: Sequence[Any]
        try:
            if prepared is not None and driver.autocommit:  # type: ignore[union-attr]
                fetched = prepared.run(driver, values)  # type: ignore[arg-type]
            else:
                fetched = _execute(driver, compiled, values)
        except conn.dialect.loaded_dbapi.Error as exc:
            raise _as_sqlalchemy_error(conn, compiled.sql, exc) from exc
        return [_row(compiled, raw) for raw in fetched]

    def first(self, conn: Connection, params: Mapping[str, Any]) -> Any | None:
        """The first row of :meth:`rows`, or None."""
        found = self.rows(conn, params)
        return found[0] if found else None

    def _for(self, dialect: Dialect) -> _Compiled:
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            compiled = self._compiled[dialect.name] = _compile(self.statement, dialect)
        return compiled


def _execute(driver: Any, compiled: _Compiled, values: dict[str, Any]) -> Sequence[Any]:
    arguments = values if compiled.order is None else [values[n] for n in compiled.order]
    cursor = driver.cursor()
    try:
        cursor.execute(compiled.sql, arguments)
        return cursor.fetchall() if compiled.returns_rows else []
    finally:
        cursor.close()


def _row(compiled: _Compiled, raw: Sequence[Any]) -> Any:
    if not compiled.results:
        return compiled.row(*raw)
    values = list(raw)
    for index, process in compiled.results:
        values[index] = process(values[index])
    return compiled.row(*values)


def _compile(statement: Executable, dialect: Dialect) -> _Compiled:
    compiled = statement.compile(dialect=dialect)  # type: ignore[attr-defined]
    assert isinstance(compiled, SQLCompiler)
    if compiled.literal_execute_params or compiled.post_compile_params:
        raise ValueError("a hot statement cannot have expanding or literal-execute parameters")
    required = [key for key, bind in compiled.binds.items() if bind.required]
    constants = dict(compiled.construct_params({key: None for key in required}))
    for key in required:
        constants.pop(key, None)
    constants |= _python_side_defaults(compiled)
    binds = []
    for key, bind in compiled.binds.items():
        if key.startswith("%("):  # an anonymous parameter's template; its rendered name follows
            continue
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            binds.append((key, process))
    columns = list(statement.exported_columns)  # type: ignore[attr-defined]
    results = []
    for index, column in enumerate(columns):
        # The type code the driver would report; PostgreSQL's numeric types ask for it.
        code = _type_code(column.type, dialect)
        process = column.type.dialect_impl(dialect).result_processor(dialect, code)
        if process is not None:
            results.append((index, process))
    # The fields are the statement's columns, known only here: mypy cannot type them.
    row = namedtuple("Row", [column.key for column in columns], rename=True)  # type: ignore[misc]
    order = tuple(compiled.positiontup) if compiled.positiontup is not None else None
    prepared = _prepared(statement, dialect) if dialect.driver == "psycopg" else None
    return _Compiled(
        str(compiled), order, constants, tuple(binds), tuple(results), row, bool(columns), prepared
    )


def _type_code(type_: Any, dialect: Dialect) -> int | None:
    if dialect.name != "postgresql":
        return None
    try:
        return type_oid(type_, dialect)
    except ValueError:
        return None


def _prepared(statement: Executable, dialect: Dialect) -> PreparedStatement:
    """The statement with ``$n`` placeholders (libpq's own), one per distinct parameter, in
    the order :meth:`HotStatement.rows` passes values, and the type each is sent as."""
    numbered = copy.copy(dialect)  # the same dialect, compiling for libpq's placeholders
    numbered.paramstyle, numbered.positional = "numeric_dollar", True
    compiled = statement.compile(dialect=numbered)  # type: ignore[attr-defined]
    assert isinstance(compiled, SQLCompiler) and compiled.positiontup is not None
    names = tuple(compiled.positiontup)
    oids = [type_oid(compiled.binds[name].type, dialect) for name in names]
    return PreparedStatement(str(compiled), names, oids)


def _python_side_defaults(compiled: SQLCompiler) -> dict[str, Any]:
    """The values of columns a statement leaves to their Python-side default (SQLAlchemy's
    execution computes them; a hot statement takes them here, and only plain values)."""
    defaults = {}
    for column in compiled.insert_prefetch:
        default = column.default
        if default is None or not default.is_scalar:
            raise ValueError(f"a hot statement cannot compute the default of {column}: give it")
        defaults[column.key] = default.arg  # type: ignore[attr-defined]
    if compiled.update_prefetch:
        raise ValueError("a hot statement cannot compute onupdate values: give them")
    return defaults


def _as_sqlalchemy_error(conn: Connection, sql: str, exc: Any) -> StatementError:
    """The SQLAlchemy exception for the driver's ``exc``; ``conn`` is invalidated if the
    server is gone, as SQLAlchemy's own execution would."""
    dialect = conn.dialect
    gone = dialect.is_disconnect(exc, conn.connection, None)
    if gone:
        conn.invalidate(exc)
    error: StatementError = DBAPIError.instance(
        sql, None, exc, dialect.loaded_dbapi.Error, connection_invalidated=gone, dialect=dialect
    )
    return error
