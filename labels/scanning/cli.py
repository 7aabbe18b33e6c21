"""Inspectors' commands on duplicate flags: ``gimark flag list|clear``."""

from __future__ import annotations

import click

from gimark.core.context import Context
from gimark.core.db import utcnow
from gimark.core.output import emit, json_option
from gimark.labels.issuing.serials import format_serial, parse_serial
from gimark.labels.scanning import flags


@click.group("flag")
def flag_group() -> None:
    """Duplicate flags: list flagged serials, clear one after inspection.

    疑似复制标记：列出被标记的序列号，核查后解除标记。
    """


@flag_group.command("list")
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True)
@json_option
@click.pass_obj
def flag_list(gm: Context, limit: int, as_json: bool) -> None:
    """Flagged serials, most recently flagged first."""
    with gm.db.session() as s:
        rows = flags.list_flagged(s, limit)
    data = [
        {
            "serial": format_serial(row.serial),
            "reasons": list(row.reasons),
            "flagged_at": row.flagged_at,
            "scanners": row.scanner_count,
            "scans": row.scan_count,
            "last_at": row.last_at,
        }
        for row in rows
    ]
    lines = [
        f"{format_serial(row.serial)}  {','.join(row.reasons)}  {row.flagged_at or ''}"
        for row in rows
    ]
    emit(as_json, data, "\n".join(lines) if lines else "无被标记的序列号 (no flagged serials)")


@flag_group.command("clear")
@click.argument("serial_text", metavar="SERIAL")
@click.option("--reason", required=True, help="Why the serial is not a copy (kept on record).")
@json_option
@click.pass_obj
def flag_clear(gm: Context, serial_text: str, reason: str, as_json: bool) -> None:
    """Clear the duplicate flag of SERIAL (printed form, e.g. 0000-0001-2AB); later scans are
    judged afresh."""
    serial = parse_serial(serial_text)
    with gm.db.session() as s:
        row = flags.clear_flag(s, serial, reason=reason, actor=gm.actor, now=utcnow())
        data = {
            "serial": format_serial(row.serial),
            "cleared_reasons": [code for code in row.cleared_reasons.split(",") if code],
            "reason": row.reason,
            "actor": row.actor,
            "at": row.at,
        }
    emit(as_json, data, f"序列号 {data['serial']} 已解除标记 (flag cleared)")


def register(root: click.Group) -> None:
    """Add ``gimark flag`` to the root command."""
    root.add_command(flag_group)
