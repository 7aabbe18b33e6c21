"""The state generation moves with every write that verification caches depend on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gimark.core.db import Database
from gimark.core.generation import current
from gimark.trace import services
from gimark.trace.models import Action


def generation(db: Database) -> int:
    with db.session() as s:
        return current(s)


def test_registry_writes_move_the_generation(
    db: Database, make_enterprise: Callable[..., Any]
) -> None:
    start = generation(db)
    enterprise = make_enterprise()
    after_create = generation(db)
    with db.session() as s:
        services.change_enterprise_status(
            s, enterprise.id, Action.SUSPEND, reason="抽检不合格", actor="test"
        )
    assert start < after_create < generation(db)


def test_reads_leave_it_alone(db: Database, make_enterprise: Callable[..., Any]) -> None:
    enterprise = make_enterprise()
    before = generation(db)
    with db.session() as s:
        services.get_enterprise(s, enterprise.id)
        services.list_enterprises(s)
    assert generation(db) == before
