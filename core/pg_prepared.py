"""Statements prepared once per PostgreSQL connection and run through libpq directly.

On a loaded server psycopg's cursor costs a scan more than the statement's own round trip:
for every execute it converts the query, picks a dumper per value, decides whether to
prepare, and walks a generator to send and wait, all of it Python that has fallen out of
the CPU's caches while the worker waited for the database. Here a statement is prepared
once per connection with parameter types fixed from its columns, and each run is four calls
into psycopg's C layer (dump the values, execute the prepared statement, load the rows),
values and rows in binary, so the server's DateStyle or TimeZone cannot change what is read.

Only autocommit connections run this way: psycopg opens a transaction itself before a
cursor's first statement, which a statement sent to libpq directly would skip.
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Mapping, Sequence
from typing import Any, Final

import psycopg
from psycopg import abc, errors, postgres, pq
from psycopg.adapt import PyFormat, Transformer
from sqlalchemy import types
from sqlalchemy.engine import Dialect

__all__ = ["PreparedStatement", "type_oid"]

_NAMES: Final = itertools.count(1)
_DONE: Final = (pq.ExecStatus.TUPLES_OK, pq.ExecStatus.COMMAND_OK)
# SQLAlchemy's generic types and the PostgreSQL type of the bound value, most specific first.
_OIDS: Final = (
    (types.BigInteger, "int8"),
    (types.SmallInteger, "int2"),
    (types.Integer, "int4"),
    (types.Boolean, "bool"),
    (types.Float, "float8"),
    (types.Numeric, "numeric"),
    (types.String, "text"),  # Text, Enum and VARCHAR columns take text values too
)


def type_oid(type_: types.TypeEngine[Any], dialect: Dialect) -> int:
    """The PostgreSQL type a value bound as ``type_`` is sent as.

    Raises:
        ValueError: a type the prepared path does not bind (it would need its own dumper).
    """
    impl = type_.dialect_impl(dialect)
    while isinstance(impl, types.TypeDecorator):
        impl = impl.load_dialect_impl(dialect)
    if isinstance(impl, types.DateTime):
        return postgres.types["timestamptz" if impl.timezone else "timestamp"].oid
    for generic, name in _OIDS:
        if isinstance(impl, generic):
            return postgres.types[name].oid
    raise ValueError(f"a hot statement cannot bind a {type_!r} value on PostgreSQL")


class PreparedStatement:
    """One statement (``$n`` placeholders: ``names`` in order, sent as ``oids``), prepared
    on each connection the first time it runs there."""

    def __init__(self, sql: str, names: Sequence[str], oids: Sequence[int]) -> None:
        self.name = f"gimark_hot_{next(_NAMES)}".encode()
        self.sql = sql.encode()
        self.names = tuple(names)
        self.oids = tuple(oids)
        self._binary = [pq.Format.BINARY] * len(self.oids)
        self._dump_as = [PyFormat.BINARY] * len(self.oids)
        # Per connection: the transformer that dumps this statement's values (its presence
        # says the statement is prepared there). Weak: a closed connection takes it along.
        self._on: weakref.WeakKeyDictionary[psycopg.Connection[Any], abc.Transformer] = (
            weakref.WeakKeyDictionary()
        )

    def run(self, connection: psycopg.Connection[Any], values: Mapping[str, Any]) -> list[Any]:
        """The statement's rows for ``values`` (by parameter name), as tuples.

        Raises:
            psycopg.Error: as psycopg's own execute would raise it.
        """
        transformer = self._on.get(connection) or self._prepare(connection)
        params = transformer.dump_sequence([values[n] for n in self.names], self._dump_as)
        result = connection.pgconn.exec_prepared(
            self.name,
            params,  # type: ignore[arg-type]  # None is NULL: psycopg's own calls pass it too
            self._binary,
            pq.Format.BINARY,
        )
        if result.status not in _DONE:
            raise _error(connection, result)
        transformer.set_pgresult(result)
        return transformer.load_rows(0, result.ntuples, tuple)

    def _prepare(self, connection: psycopg.Connection[Any]) -> abc.Transformer:
        result = connection.pgconn.prepare(self.name, self.sql, self.oids)
        if result.status != pq.ExecStatus.COMMAND_OK:
            raise _error(connection, result)
        transformer: abc.Transformer = Transformer.from_context(connection)
        transformer.set_dumper_types(self.oids, pq.Format.BINARY)
        self._on[connection] = transformer
        return transformer


def _error(connection: psycopg.Connection[Any], result: pq.abc.PGresult) -> psycopg.Error:
    """The exception psycopg raises for a failed ``result``: a lost server is an
    OperationalError on a broken connection, which SQLAlchemy takes for a disconnect."""
    if connection.pgconn.status == pq.ConnStatus.BAD:
        message = connection.pgconn.get_error_message()
        return psycopg.OperationalError(message or "the connection to the server was lost")
    return errors.error_from_result(result, encoding=connection.info.encoding)
