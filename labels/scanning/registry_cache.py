"""Per-process caches of what every scan reads but rarely changes: the keys and the registry.

Both are keyed by the state generation (:mod:`gimark.core.generation`), which every write to
them moves in the same transaction: the next scan after a suspension, a revocation or a key
compromise reads the new state, while ordinary scans pay one integer comparison.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session, selectinload

from gimark.core.db import connection_of
from gimark.keys.keyring import PublicKeySet
from gimark.keys.services import public_key_set
from gimark.trace.models import Authorization, Enterprise, Product


@dataclass(frozen=True)
class Party:
    """An enterprise and a product as verification shows and judges them."""

    product: Product
    enterprise: Enterprise
    authorizations: tuple[Authorization, ...]  # of this pair, with their histories loaded


class NotCachedError(LookupError):
    """Asked of the cache alone (no connection to load with), and it does not hold it."""


class RegistryCache:
    """Keys and (enterprise, product) pairs, valid for one state generation."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._generation = -1
        self._keys: PublicKeySet | None = None
        self._last_keys: PublicKeySet | None = None
        self._parties: dict[tuple[int, int], Party] = {}

    @property
    def last_keys(self) -> PublicKeySet | None:
        """The keys of the last generation seen, for judging signatures while the database is
        away (a key added since then may be missing: callers must not call it forged)."""
        return self._last_keys

    @property
    def generation(self) -> int:
        """The generation the cache holds (-1 before the first read)."""
        return self._generation

    def _sync(self, generation: int) -> None:
        if generation != self._generation:
            self._generation = generation
            self._keys = None
            self._parties = {}

    def keys(self, session: Session | Connection | None, generation: int) -> PublicKeySet:
        """The verifying keys of ``generation``, loaded through ``session`` if not cached.

        Raises:
            NotCachedError: not cached, and ``session`` is None.
        """
        with self._lock:
            self._sync(generation)
            if self._keys is not None:
                return self._keys
        if session is None:
            raise NotCachedError("keys")
        with _loader(session) as loader:
            keys = public_key_set(loader)
        with self._lock:
            if generation == self._generation:
                self._keys = keys
            self._last_keys = keys
        return keys

    def party(
        self,
        session: Session | Connection | None,
        generation: int,
        enterprise_id: int,
        product_id: int,
    ) -> Party:
        """The pair with everything needed to judge its authorization at any instant, loaded
        through ``session`` if not cached.

        Raises:
            NotCachedError: not cached, and ``session`` is None.
        """
        with self._lock:
            self._sync(generation)
            found = self._parties.get((enterprise_id, product_id))
        if found is not None:
            return found
        if session is None:
            raise NotCachedError("party")
        with _loader(session) as loader:
            party = _load_party(loader, enterprise_id, product_id)
        with self._lock:
            if generation == self._generation:
                self._parties[(enterprise_id, product_id)] = party
        return party


def _loader(session: Session | Connection) -> Session:
    """A session on the caller's connection and transaction, so that what it loads can be
    detached for the cache without touching the caller's session (and on SQLite without a
    second connection waiting for the first one's write lock)."""
    conn = connection_of(session)
    return Session(bind=conn, expire_on_commit=False)


def _load_party(session: Session, enterprise_id: int, product_id: int) -> Party:
    enterprise = session.scalars(
        select(Enterprise)
        .where(Enterprise.id == enterprise_id)
        .options(selectinload(Enterprise.changes))
    ).one()
    product = session.get_one(Product, product_id)
    authorizations = session.scalars(
        select(Authorization)
        .where(Authorization.enterprise_id == enterprise_id, Authorization.product_id == product_id)
        .options(selectinload(Authorization.changes))
        .order_by(Authorization.id)
    ).all()
    for authorization in authorizations:
        # The cache outlives the session, so load now what judging reads later (the
        # many-to-one comes from the identity map: no query).
        assert authorization.enterprise is enterprise
    session.expunge_all()  # the loader session: detach everything it loaded
    return Party(product=product, enterprise=enterprise, authorizations=tuple(authorizations))
