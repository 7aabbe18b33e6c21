"""The application factory."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask

from gimark.core.db import Database
from gimark.core.settings import Settings, load_settings
from gimark.verify_web import (
    api,
    errors,
    headers,
    i18n,
    openapi,
    pages,
    portal,
    scan,
    scanners,
    verify_page,
    wellknown,
)
from gimark.verify_web.accounts import auth
from gimark.verify_web.extensions import DB_EXTENSION
from gimark.verify_web.reports import views as reports


def secret_key(settings: Settings) -> str:
    """The configured key (GIMARK_SECRET_KEY), else a random key made once into
    ``<home>/secret_key`` (mode 0600).

    Every worker must sign sessions with the same key: the first to start writes the file
    through a hard link, which fails if another worker got there first, and then reads it.
    """
    if settings.secret_key is not None:
        return settings.secret_key
    path = settings.home / "secret_key"
    if not path.exists():
        settings.home.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".secret_key.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            Path(draft).unlink()
    return path.read_text().strip()


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app.

    ``test_config`` may hold ``GIMARK_SETTINGS`` (a :class:`Settings`) and any Flask setting.
    """
    app = Flask(__name__)
    app.config.from_mapping(
        MAX_CONTENT_LENGTH=6 * 1024 * 1024,  # bytes: a report with one phone photo
        SEND_FILE_MAX_AGE_DEFAULT=3600,  # seconds: the pages' CSS and JS; ETags revalidate after
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # Chinese as UTF-8: half the bytes
    if test_config:
        app.config.update(test_config)
    settings: Settings = app.config.get("GIMARK_SETTINGS") or load_settings()
    app.config["GIMARK_SETTINGS"] = settings
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = secret_key(settings)
    # Secure when served over HTTPS, SameSite=Lax, HttpOnly; a test may override each.
    for name, value in headers.cookie_config(settings).items():
        if name not in (test_config or {}):
            app.config[name] = value
    app.extensions[DB_EXTENSION] = Database(settings.effective_database_url)
    headers.init_app(app)  # first: its hook then runs last, and sees every cookie
    errors.init_app(app)
    i18n.init_app(app)
    auth.init_app(app)
    wellknown.init_app(app)
    pages.init_app(app)
    portal.init_app(app)
    scanners.init_app(app)
    scan.init_app(app)
    api.init_app(app)
    reports.init_app(app)
    openapi.init_app(app)
    verify_page.init_app(app)
    return app
