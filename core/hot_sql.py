"""Core statements run on the driver's own cursor, for the few statements of the scan path.

A scan runs three statements. Through SQLAlchemy's execution machinery each costs about as
much client CPU again as the driver's own work (execution context, parameter processing,
a cursor description built column by column, row objects), which on the verify endpoint
is a sixth of a request. A :class:`HotStatement` is the same Core construct, compiled once
per dialect into its SQL text, constant parameters and type processors; running it is a
dict merge, the driver's ``execute`` and the result processors of the columns that have one.

What it keeps from SQLAlchemy: the statement is still written in Core, bound values and
results pass through the column types (UTC timestamps, enums stored by value), and a driver
error becomes the SQLAlchemy exception it would have been, invalidating the connection
when the server is gone, so callers' error handling and dead-connection retries hold.
Statements with expanding (``IN``) or literal-execute parameters, or that leave a column to a
Python-side default other than a plain value, are refused when first run.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.compiler import SQLCompiler

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
        arguments: Any = values if compiled.order is None else [values[n] for n in compiled.order]
        with _as_sqlalchemy_error(conn, compiled.sql) as cursor:
            cursor.execute(compiled.sql, arguments)
            fetched = cursor.fetchall() if compiled.returns_rows else []
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
        process = column.type.dialect_impl(dialect).result_processor(dialect, None)
        if process is not None:
            results.append((index, process))
    # The fields are the statement's columns, known only here: mypy cannot type them.
    row = namedtuple("Row", [column.key for column in columns], rename=True)  # type: ignore[misc]
    order = tuple(compiled.positiontup) if compiled.positiontup is not None else None
    return _Compiled(
        str(compiled), order, constants, tuple(binds), tuple(results), row, bool(columns)
    )


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


@contextmanager
def _as_sqlalchemy_error(conn: Connection, sql: str) -> Iterator[Any]:
    """A cursor of ``conn``'s driver connection; driver errors come out as SQLAlchemy's."""
    dialect = conn.dialect
    driver = conn.connection.driver_connection
    cursor = driver.cursor()  # type: ignore[union-attr]
    try:
        yield cursor
    except dialect.loaded_dbapi.Error as exc:
        gone = dialect.is_disconnect(exc, conn.connection, cursor)
        if gone:
            conn.invalidate(exc)
        raise DBAPIError.instance(
            sql, None, exc, dialect.loaded_dbapi.Error, connection_invalidated=gone, dialect=dialect
        ) from exc
    finally:
        cursor.close()
