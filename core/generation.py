"""A counter that moves whenever the state verification caches changes.

Verification reads the registry (products, enterprises, authorizations and their histories) and
the keys on every scan; they change rarely. Each process caches them and re-reads when this
counter moves, so a suspension or a compromised key takes effect on the very next scan while
the hot path costs one integer read. Domains declare which tables feed the caches with
:func:`watch`; any flush that writes one of them bumps the counter in the same transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, String, event, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from gimark.core.db import Base

_WATCHED: set[type[Any]] = set()


class StateGeneration(Base):
    """One row: the current generation of the cached state."""

    __tablename__ = "state_generation"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


def watch(*classes: type[Any]) -> None:
    """Bump the generation whenever rows of ``classes`` are added, changed or deleted."""
    _WATCHED.update(classes)


def current(session: Session) -> int:
    """The current generation (0 before the first migration seeded it)."""
    return session.scalar(select(StateGeneration.value).where(StateGeneration.name == "state")) or 0


def _touches_watched(session: Session) -> bool:
    modified = (obj for obj in session.dirty if session.is_modified(obj))
    changed = (*session.new, *modified, *session.deleted)
    return any(isinstance(obj, tuple(_WATCHED)) for obj in changed)


@event.listens_for(Session, "before_flush")
def _bump(session: Session, _context: Any, _instances: Any) -> None:
    if _WATCHED and _touches_watched(session):
        session.execute(
            update(StateGeneration)
            .where(StateGeneration.name == "state")
            .values(value=StateGeneration.value + 1)
        )
