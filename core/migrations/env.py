"""Alembic environment: runs gimark's migrations on the engine handed over by core.migrate."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from gimark.core.db import Base
from gimark.core.engines import make_engine
from gimark.core.models import import_all_models

import_all_models()
config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    engine = config.attributes.get("engine")
    if not isinstance(engine, Engine):
        engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            # SQLite cannot ALTER most things in place; batch mode copies the table.
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations()
