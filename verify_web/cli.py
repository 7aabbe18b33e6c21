"""Commands that run the whole service: ``init``, ``demo``, ``serve``."""

from __future__ import annotations

from typing import Any

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


@click.command("demo")
@click.option("--no-serve", is_flag=True, help="Set up the demo and exit.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@json_option
@click.pass_obj
def demo_command(gm: Context, no_serve: bool, port: int, as_json: bool) -> None:
    """Set up a demo instance (registry, key, sample codes) and serve it on 127.0.0.1."""
    from gimark.verify_web.demo import run_demo

    report = run_demo(gm)
    report["url"] = f"http://127.0.0.1:{port}/"
    emit(as_json, report, None if as_json else demo_text(report, serving=not no_serve))
    if not no_serve:
        from gimark.verify_web.serve import serve

        gm.close()
        serve("127.0.0.1", port, workers=2)


def demo_text(report: dict[str, Any], *, serving: bool) -> str:
    """What a person reads after ``gimark demo``."""
    lines = [f"gimark demo ready / 演示实例已就绪 — home {report['home']}"]
    for sample in report["samples"]:
        lines.append(f"  {sample['serial']}  {sample['url']}")
    lines.append("first sample verified offline with the JWKS alone / 首个样码已离线验证")
    accounts = report["accounts"]
    lines.append(
        f"portal {report['url']}portal/ — accounts / 账号 {', '.join(accounts['usernames'])}"
        f" (password / 密码 {accounts['password']})"
    )
    if serving:
        lines.append(f"serving {report['url']} (Ctrl-C to stop / 按 Ctrl-C 停止)")
    return "\n".join(lines)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--threads",
    default=4,
    show_default=True,
    type=click.IntRange(1, 32),
    help="Threads per worker: a stalled client holds one thread, not a worker.",
)
@click.option(
    "--access-log",
    type=click.Choice(["private", "full", "off"]),
    default=None,
    help="private: time, method, path, status, duration (no address, User-Agent or query); "
    "full: gunicorn's combined format (personal information); off: none. "
    "Default: GIMARK_ACCESS_LOG, else private.",
)
@json_option
def serve_command(
    host: str, port: int, workers: int, threads: int, access_log: str | None, as_json: bool
) -> None:
    """Serve the verification site and API with gunicorn."""
    from gimark.verify_web.serve import serve

    if as_json:
        emit(True, {"serving": f"http://{host}:{port}/", "workers": workers, "threads": threads})
    serve(host, port, workers, threads=threads, access_log=access_log)


def register(root: click.Group) -> None:
    """Add this package's commands to the ``gimark`` root group."""
    root.add_command(init_command)
    root.add_command(demo_command)
    root.add_command(serve_command)
