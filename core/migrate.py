"""Schema upgrades through Alembic; the app never creates tables any other way."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from gimark.core.db import Database


def alembic_config(db: Database) -> Config:
    """An Alembic configuration pointing at gimark's migrations and ``db``."""
    config = Config()
    config.set_main_option("script_location", "gimark.core:migrations")
    # Alembic's ini interpolation would treat '%' in a password as syntax.
    config.set_main_option("sqlalchemy.url", db.url.replace("%", "%%"))
    config.attributes["engine"] = db.engine
    return config


def upgrade(db: Database, revision: str = "head") -> None:
    """Create or upgrade the schema to ``revision``."""
    command.upgrade(alembic_config(db), revision)


def current_revision(db: Database) -> str | None:
    """The revision the database is at, or None for an empty database."""
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(db: Database) -> str | None:
    """The newest revision this code knows."""
    return ScriptDirectory.from_config(alembic_config(db)).get_current_head()
