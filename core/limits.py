"""Rate limits whose counts live in the database, so that every worker and every app server
sharing it sees the same ones (a per-process counter is divided by the number of processes).

One row per key in ``rate_limits``; :func:`hit` counts one attempt and answers whether it is
allowed, in one ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` statement (PostgreSQL, and
SQLite from 3.35), so two workers counting the same key at once never lose a count.

Rows whose window ended a day ago are pruned now and then by :func:`hit` itself (about one
call in :data:`PRUNE_EVERY`), so the table holds about a day of keys with no job to run.

Keys are the caller's: a key that involves an address must hold a keyed hash of it
(:func:`gimark.trace.places.ip_hash`), never the address.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any, Final, cast

from sqlalchemy import BigInteger, Connection, Integer, String, Table, case, delete, literal
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, mapped_column

from gimark.core.db import Base, Database, utcnow
from gimark.core.errors import GimarkError

__all__ = ["Backoff", "Decision", "RateLimit", "RateLimitedError", "hit", "prune", "reset"]

MAX_KEY_CHARS: Final = 200
PRUNE_EVERY: Final = 1000  # calls of hit(), on average, between two prunes
# Seconds a row is kept after its window (or lockout) ended: longer than the longest lockout,
# so that a username's growing lockouts are remembered across a quiet spell.
KEEP_SECONDS: Final = 24 * 3600


class RateLimit(Base):
    """The count of one key in its current window (or its lockout)."""

    __tablename__ = "rate_limits"

    key: Mapped[str] = mapped_column(String(MAX_KEY_CHARS), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    # Whole seconds since the epoch: compared with a bound number on both databases, where
    # timestamp arithmetic would need two dialects of SQL.
    window_end: Mapped[int] = mapped_column(BigInteger)
    # Seconds of the last lockout (0: none yet); it doubles at each further one.
    penalty: Mapped[int] = mapped_column(Integer, default=0)


_TABLE: Final = cast(Table, RateLimit.__table__)


class RateLimitedError(GimarkError):
    """Too many attempts in a short time; ``retry_after`` says in how many seconds to retry."""

    code = "rate_limited"
    zh = "尝试次数过多，请在 {retry_after} 秒后再试"
    en = "too many attempts; please try again in {retry_after} seconds"
    http_status = 429
    exit_status = 75  # EX_TEMPFAIL


@dataclass(frozen=True)
class Backoff:
    """Lockouts that grow: the first lasts ``first`` seconds, each next one twice the last,
    up to ``most`` seconds, until :func:`reset` forgets them."""

    first: int  # seconds
    most: int  # seconds


@dataclass(frozen=True)
class Decision:
    """Whether the attempt may go on; if not, how many seconds until one may."""

    allowed: bool
    retry_after_seconds: int


def hit(
    db: Database,
    key: str,
    limit: int,
    window: int,
    *,
    backoff: Backoff | None = None,
    now: dt.datetime | None = None,
    weight: int = 1,
) -> Decision:
    """Count one attempt on ``key``: allowed while at most ``limit`` fall in the window of
    ``window`` seconds that began with the key's first attempt.

    A fixed window rather than a sliding one or a token bucket: one row with a count and an
    end, updated by one statement with no clock arithmetic in SQL, and nothing to read
    before writing. Its known cost, up to twice ``limit`` across a window's boundary, is
    nothing at the generous limits gimark uses: the limits stop floods, not a busy shop.

    With ``backoff``, going over the limit locks the key out for ``backoff.first`` seconds
    (and each later lockout, after a new run of ``limit`` attempts, twice the previous, up
    to ``backoff.most``); attempts during a lockout are refused without extending it.

    ``weight`` counts the attempt as that many: a caller that counts one attempt in N (to
    spare the database a write on most of them) counts each with weight N.

    Raises:
        ValueError: ``limit`` or ``window`` is under 1, or ``key`` is too long.
        DatabaseUnavailableError: the database is away.
    """
    if limit < 1 or window < 1 or weight < 1:
        raise ValueError("a rate limit needs limit, weight >= 1 and window >= 1 second")
    if backoff is not None and weight != 1:
        raise ValueError("lockouts count every attempt: no weight with a backoff")
    if len(key) > MAX_KEY_CHARS:
        raise ValueError(f"rate-limit keys are at most {MAX_KEY_CHARS} characters")
    at = int((now or utcnow()).timestamp())

    def count(conn: Connection) -> tuple[int, int]:
        counted, window_end = conn.execute(
            _upsert(conn.dialect.name, key, limit, window, backoff, at, weight)
        ).one()
        return int(counted), int(window_end)

    counted, window_end = db.write(count)
    if secrets.randbelow(PRUNE_EVERY) == 0:
        prune(db, now)
    if counted <= limit:
        return Decision(True, 0)
    return Decision(False, max(window_end - at, 1))


def prune(db: Database, now: dt.datetime | None = None) -> int:
    """Delete the rows whose window ended more than :data:`KEEP_SECONDS` ago; how many.

    Raises:
        DatabaseUnavailableError: the database is away.
    """
    table = _TABLE
    before = int((now or utcnow()).timestamp()) - KEEP_SECONDS
    statement = delete(table).where(table.c.window_end < before)
    return int(db.write(lambda conn: conn.execute(statement).rowcount))


def reset(db: Database, key: str) -> None:
    """Forget ``key``'s count and lockouts (a successful sign-in does).

    Raises:
        DatabaseUnavailableError: the database is away.
    """
    table = _TABLE
    db.write(lambda conn: conn.execute(delete(table).where(table.c.key == key)))


def _upsert(
    dialect: str,
    key: str,
    limit: int,
    window: int,
    backoff: Backoff | None,
    at: int,
    weight: int,
) -> Any:
    table = _TABLE
    make = pg_insert if dialect == "postgresql" else sqlite_insert
    # Every SET expression reads the row as it was before this statement, on both databases.
    expired = table.c.window_end <= at
    counted = case((expired, weight), else_=table.c.count + weight)
    window_end: Any = case((expired, at + window), else_=table.c.window_end)
    penalty: Any = table.c.penalty
    if backoff is not None:
        # Only the attempt that goes over starts a lockout; later ones are refused within it.
        goes_over = ~expired & (table.c.count == limit)
        doubled = case(
            (table.c.penalty == 0, backoff.first),
            (table.c.penalty * 2 > backoff.most, backoff.most),
            else_=table.c.penalty * 2,
        )
        penalty = case((goes_over, doubled), else_=table.c.penalty)
        window_end = case((goes_over, at + doubled), else_=window_end)
    statement = make(table).values(
        key=key, count=weight, window_end=at + window, penalty=literal(0)
    )
    return statement.on_conflict_do_update(
        index_elements=[table.c.key],
        set_={"count": counted, "window_end": window_end, "penalty": penalty},
    ).returning(table.c.count, table.c.window_end)
