"""Where the app keeps its shared objects."""

from __future__ import annotations

from flask import Flask

from gimark.core.db import Database

DB_EXTENSION = "gimark_db"


def database(app: Flask) -> Database:
    """The app's database."""
    db = app.extensions[DB_EXTENSION]
    assert isinstance(db, Database)
    return db
