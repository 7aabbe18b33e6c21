"""The schema is owned by the migrations, on both databases."""

from __future__ import annotations

from sqlalchemy import inspect

from gimark.core.db import Database
from gimark.core.migrate import current_revision, head_revision, upgrade


def test_database_is_at_head(db: Database) -> None:
    assert current_revision(db) == head_revision(db)


def test_upgrade_twice_changes_nothing(db: Database) -> None:
    before = sorted(inspect(db.engine).get_table_names())
    upgrade(db)
    assert sorted(inspect(db.engine).get_table_names()) == before
    assert "products" in before and "signing_keys" in before


def test_migrations_match_the_models(db: Database) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from gimark.core.db import Base
    from gimark.core.models import import_all_models

    import_all_models()
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_the_scan_log_indexes_cost_little_per_scan(db: Database) -> None:
    if db.dialect == "postgresql":
        query = "SELECT indexname, indexdef FROM pg_indexes WHERE indexname IN ({})"
    else:
        query = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND name IN ({})"
    names = "'ix_scans_at', 'ix_serial_summaries_flagged_at'"
    with db.reading() as conn:
        definitions = {name: sql for name, sql in conn.exec_driver_sql(query.format(names))}
    assert "flagged_at IS NOT NULL" in definitions["ix_serial_summaries_flagged_at"]
    if db.dialect == "postgresql":
        assert "USING brin" in definitions["ix_scans_at"]
