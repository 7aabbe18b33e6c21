"""How commands print: one JSON document with ``--json``, readable lines without."""

from __future__ import annotations

import datetime as dt
import enum
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def json_default(value: object) -> object:
    """Serialize the few non-JSON types our results hold."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"cannot serialize {type(value).__name__}")


def to_json(data: object) -> str:
    """Compact, UTF-8 (Chinese stays readable), stable key order."""
    return json.dumps(data, ensure_ascii=False, default=json_default, sort_keys=True)


def json_option(func: F) -> F:
    """Add ``--json`` to a command; the command receives ``as_json``."""
    return click.option(
        "--json", "as_json", is_flag=True, help="Print one JSON document on stdout."
    )(func)


def emit(as_json: bool, data: object, text: str | None = None) -> None:
    """Print ``data`` as JSON, or ``text`` (default: ``key: value`` lines) for people."""
    if as_json:
        click.echo(to_json(data))
        return
    if text is not None:
        click.echo(text)
    elif isinstance(data, dict):
        for key, value in data.items():
            click.echo(f"{key}: {_plain(value)}")
    else:
        click.echo(_plain(data))


def _plain(value: object) -> str:
    if isinstance(value, str | int | float | bool) or value is None:
        return str(value)
    if isinstance(value, dict | list | tuple):
        return to_json(value)
    return str(json_default(value))
