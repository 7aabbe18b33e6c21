"""The ``gimark`` command: the root group and error handling at the edge.

Every domain adds its own commands (see ``COMMAND_MODULES``). Errors become one line on
stderr and a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any

import click

from gimark.core.context import Context
from gimark.core.errors import GimarkError
from gimark.core.output import to_json
from gimark.core.settings import load_settings

# Modules that define ``register(root: click.Group)``.
COMMAND_MODULES = (
    "gimark.keys.cli",
    "gimark.trace.cli",
    "gimark.labels.issuing.cli",
    "gimark.labels.printing.cli",
    "gimark.labels.offline.cli",
    "gimark.labels.scanning.cli",
    "gimark.verify_web.cli",
    "gimark.verify_web.accounts.cli",
)

EX_SOFTWARE = 70  # sysexits.h: internal software error


class GimarkGroup(click.Group):
    """The root group: turns every error into one line on stderr."""

    def main(self, args: Sequence[str] | None = None, **kwargs: Any) -> Any:  # type: ignore[override]
        argv = list(sys.argv[1:] if args is None else args)
        as_json = "--json" in argv
        try:
            return super().main(argv, standalone_mode=False, **kwargs)
        except GimarkError as exc:
            _fail(as_json, exc.code, exc.message("zh"), exc.message("en"), exc.exit_status)
        except click.exceptions.Abort:
            _fail(as_json, "aborted", "已取消", "aborted", 1)
        except click.ClickException as exc:
            _fail(as_json, "usage", exc.format_message(), exc.format_message(), exc.exit_code)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except Exception as exc:  # noqa: BLE001 - the last line of defence: no traceback to users
            detail = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
            _fail(
                as_json, "internal", f"内部错误：{detail}", f"internal error: {detail}", EX_SOFTWARE
            )


def _fail(as_json: bool, code: str, zh: str, en: str, status: int) -> None:
    line = (
        to_json({"error": {"code": code, "zh": zh, "en": en}})
        if as_json
        else f"gimark: {zh}" + ("" if zh == en else f" ({en})")
    )
    click.echo(line.replace("\n", " "), err=True)
    sys.exit(status)


@click.group(cls=GimarkGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="gimark")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """gimark: signed codes, label runs and verification for GI special-mark labels.

    地理标志专用标志的签名码、标签印制与公开验证。
    """
    gm = Context(settings=load_settings(), interactive=sys.stdin.isatty())
    ctx.obj = gm
    ctx.call_on_close(gm.close)


def _register_commands() -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(cli)


_register_commands()


# Everything gimark writes into GIMARK_HOME (the SQLite database, keys, secret_key, label
# runs, report photos) is for the service's own user: no group or world bits.
OWNER_ONLY_UMASK = 0o077


def main() -> None:
    """Console-script entry point: files it creates are its owner's alone."""
    # Here and not in GimarkGroup.main: the test runner calls that in-process, and a umask
    # is process-wide. gunicorn's workers, forked by ``gimark serve``, inherit it.
    os.umask(OWNER_ONLY_UMASK)
    cli.main()
