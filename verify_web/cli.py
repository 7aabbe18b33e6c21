"""Commands that run the whole service: ``init``, ``demo``, ``serve``."""

from __future__ import annotations

import click
from gimark.core.context import Context
from gimark.core.output import emit, json_option
from gimark.verify_web.bootstrap import initialize


@click.command("init")
@json_option
@click.pass_obj
def init_command(gm: Context, as_json: bool) -> None:
    """Create or upgrade the database; create an issuer key if there is none."""
    emit(as_json, initialize(gm))


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@json_option
def serve_command(host: str, port: int, workers: int, as_json: bool) -> None:
    """Serve the verification site and API with gunicorn."""
    from gimark.verify_web.serve import serve

    if as_json:
        emit(True, {"serving": f"http://{host}:{port}/", "workers": workers})
    serve(host, port, workers)


def register(root: click.Group) -> None:
    """Add this package's commands to the ``gimark`` root group."""
    root.add_command(init_command)
    root.add_command(serve_command)
