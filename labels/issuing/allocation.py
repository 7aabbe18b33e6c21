"""Serial allocation: each approved batch gets the next free, contiguous range of serials.

The one ``serial_counters`` row holds the next serial to hand out. Allocating is a single
``UPDATE … SET next_serial = next_serial + n … RETURNING next_serial``: the database applies it
to the row's latest version under the row's write lock, so two approvals running at once can
never read the same value. On PostgreSQL the second UPDATE waits for the first transaction to
end and then re-evaluates against the committed row; on SQLite every transaction is BEGIN
IMMEDIATE, so writers already run one at a time. The lock is held until the caller's
transaction ends, so a failed approval rolls the counter back with everything else and leaves
no gap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from gimark.core.errors import ConfigurationError
from gimark.labels.issuing.errors import InvalidQuantityError, SerialsExhaustedError
from gimark.labels.issuing.models import SerialCounter
from gimark.labels.issuing.serials import SERIAL_LIMIT

__all__ = ["COUNTER", "SerialRange", "allocate_serials", "next_serial"]

COUNTER: Final = "default"  # the counter row the migration creates


@dataclass(frozen=True, order=True)
class SerialRange:
    """The serials ``first`` … ``last``, both included."""

    first: int
    last: int

    @property
    def size(self) -> int:
        """How many serials (0 or less for a range that ends before it starts)."""
        return self.last - self.first + 1


def allocate_serials(session: Session, quantity: int) -> SerialRange:
    """Take the next ``quantity`` serials; they are the caller's once its transaction commits.

    Raises:
        InvalidQuantityError: ``quantity`` is below 1.
        SerialsExhaustedError: fewer than ``quantity`` serials below 2**48 are left.
        ConfigurationError: the counter row is missing (the database was not initialized).
    """
    if quantity < 1:
        raise InvalidQuantityError(quantity=quantity, limit=SERIAL_LIMIT - 1)
    # The WHERE clause keeps the last serial below 2**48 in the same atomic step; no row
    # returned means the space is full (or the counter missing), and nothing was changed.
    statement = (
        update(SerialCounter)
        .where(
            SerialCounter.name == COUNTER,
            SerialCounter.next_serial + quantity <= SERIAL_LIMIT,
        )
        .values(next_serial=SerialCounter.next_serial + quantity)
        .returning(SerialCounter.next_serial)
        .execution_options(synchronize_session=False)
    )
    after = session.execute(statement).scalar_one_or_none()
    if after is None:
        raise SerialsExhaustedError(quantity=quantity, left=SERIAL_LIMIT - next_serial(session))
    return SerialRange(after - quantity, after - 1)


def next_serial(session: Session) -> int:
    """The serial the next approval would start at (for reports; never allocate from it).

    Raises:
        ConfigurationError: the counter row is missing (the database was not initialized).
    """
    value = session.scalar(select(SerialCounter.next_serial).where(SerialCounter.name == COUNTER))
    if value is None:
        raise ConfigurationError(
            detail="the serial counter is missing; run `gimark init`",
            detail_zh="缺少序列号计数器；请先运行 gimark init",
        )
    return value
