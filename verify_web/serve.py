"""Run the app under gunicorn (the production server) from the ``gimark`` command.

The access log keeps no personal information by default: no client address, no
User-Agent, no referrer and no query string (a scan's query carries the phone's
coordinates). ``GIMARK_ACCESS_LOG=full`` (or ``gimark serve --access-log full``) brings
gunicorn's combined format back for an operator who must keep more; ``off`` writes none.

Workers are gunicorn's threaded ones (gthread): a client that sends half a request body and
stalls holds one thread of one worker, not the worker, and the others go on answering scans.
In production nginx buffers whole request bodies before passing them on (its default), so a
slow client never reaches the app at all; the threads are for the app served directly.
"""

from __future__ import annotations

import os
from typing import Any, Final

from flask import Flask
from gunicorn.app.base import BaseApplication

from gimark.core.cli import OWNER_ONLY_UMASK
from gimark.core.settings import load_settings

# gunicorn's documented atoms: time, method, path without its query (U), status, duration (ms).
PRIVATE_ACCESS_LOG_FORMAT: Final = '%(t)s "%(m)s %(U)s" %(s)s %(M)sms'
# gunicorn's own default (the combined log format), for GIMARK_ACCESS_LOG=full.
FULL_ACCESS_LOG_FORMAT: Final = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"'
ACCESS_LOGS: Final = ("private", "full", "off")
# Threads per worker: enough that a few stalled clients leave room for scans, few enough
# that the database pool (5 + 10 overflow per worker) always has a connection for each.
DEFAULT_THREADS: Final = 4


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


def server_options(
    host: str, port: int, workers: int, access_log: str, threads: int = DEFAULT_THREADS
) -> dict[str, Any]:
    """gunicorn's settings for ``gimark serve``; ``access_log`` is private, full or off."""
    options: dict[str, Any] = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        # A request (its body included) has this long; with gthread a stalled one holds a
        # thread meanwhile, and the worker's heartbeat goes on.
        "timeout": 30,
        "graceful_timeout": 10,
        "errorlog": "-",
        # gunicorn sets its own umask around the files it makes (worker heartbeat files,
        # unix sockets); the workers inherit the process's, set in serve().
        "umask": OWNER_ONLY_UMASK,
    }
    if access_log != "off":
        options["accesslog"] = "-"
        options["access_log_format"] = (
            FULL_ACCESS_LOG_FORMAT if access_log == "full" else PRIVATE_ACCESS_LOG_FORMAT
        )
    return options


def serve(
    host: str,
    port: int,
    workers: int,
    *,
    threads: int = DEFAULT_THREADS,
    access_log: str | None = None,
) -> None:
    """Serve until interrupted; the access log as ``access_log`` says (private, full or off),
    by default as GIMARK_ACCESS_LOG says.

    Raises:
        ConfigurationError: GIMARK_ACCESS_LOG is not private, full or off.
    """
    # The CLI root has set it already; serve() may be called from elsewhere (a script,
    # a test), and forked workers inherit it: the database, uploads and runs they write.
    os.umask(OWNER_ONLY_UMASK)
    chosen = access_log or load_settings().access_log
    GunicornServer(server_options(host, port, workers, chosen, threads)).run()
