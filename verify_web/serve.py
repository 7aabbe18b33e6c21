"""Run the app under gunicorn (the production server) from the ``gimark`` command."""

from __future__ import annotations

from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication


class GunicornServer(BaseApplication):  # type: ignore[misc]  # gunicorn ships no types
    """gunicorn with the app built by ``create_app`` in each worker."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        from gimark.verify_web import create_app

        return create_app()


def serve(host: str, port: int, workers: int, *, access_log: bool = True) -> None:
    """Serve until interrupted."""
    options: dict[str, Any] = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "sync",
        "timeout": 30,
        "graceful_timeout": 10,
        "errorlog": "-",
    }
    if access_log:
        options["accesslog"] = "-"
    GunicornServer(options).run()
