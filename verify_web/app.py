"""The application factory."""

from __future__ import annotations

from typing import Any

from flask import Flask

from gimark.core.db import Database
from gimark.core.settings import Settings, load_settings
from gimark.verify_web import errors, pages, wellknown
from gimark.verify_web.extensions import DB_EXTENSION


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app.

    ``test_config`` may hold ``GIMARK_SETTINGS`` (a :class:`Settings`) and any Flask setting.
    """
    app = Flask(__name__)
    app.config.from_mapping(
        MAX_CONTENT_LENGTH=6 * 1024 * 1024,  # bytes: a report with one phone photo
        JSON_AS_ASCII=False,
    )
    if test_config:
        app.config.update(test_config)
    settings: Settings = app.config.get("GIMARK_SETTINGS") or load_settings()
    app.config["GIMARK_SETTINGS"] = settings
    app.extensions[DB_EXTENSION] = Database(settings.effective_database_url)
    errors.init_app(app)
    wellknown.init_app(app)
    pages.init_app(app)
    return app
