"""Label-run commands: ``gimark run generate`` writes a batch's label run and ``run void``
records labels spoiled in printing."""

from __future__ import annotations

import contextlib
import dataclasses
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Final

import click

from gimark.core.context import Context
from gimark.core.output import emit, json_option
from gimark.keys.commands import passphrase_of
from gimark.keys.services import load_signer_for
from gimark.labels.issuing import batches, ledger

if TYPE_CHECKING:
    from gimark.labels.printing.runs import Progress

FORMATS: Final = ("csv", "pdf", "png", "svg")
DEFAULT_FORMATS: Final = "csv,pdf"
VOID_REASON: Final = "spoiled in printing / 印制损耗"


# --- run -------------------------------------------------------------------------------------


@click.group("run")
def run_group() -> None:
    """Label runs (印制): generate the print files, void spoiled labels."""


def _formats(ctx: click.Context, param: click.Parameter, value: str) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(f.strip().lower() for f in value.split(",") if f.strip()))
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown or not chosen:
        raise click.BadParameter(
            f"choose from {', '.join(FORMATS)} (comma-separated); got {value!r}", ctx, param
        )
    return chosen


@run_group.command("generate")
@click.argument("batch_id", metavar="BATCH", type=int)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the run's files (default: <GIMARK_HOME>/runs/<BATCH>).",
)
@click.option(
    "--format",
    "formats",
    default=DEFAULT_FORMATS,
    callback=_formats,
    show_default=True,
    help=f"Comma-separated: {', '.join(FORMATS)}.",
)
@click.option(
    "--layout",
    "layout_spec",
    default="a4",
    show_default=True,
    help="Sheet layout: a4, a4:WxH[:COLS[:GAP]] or roll:WxH[:COLS[:GAP[:MARGIN]]] in mm, "
    "optionally followed by ,dpi=N ,qr=MM ,crop=on|off.",
)
@json_option
@click.pass_obj
def run_generate(
    gm: Context,
    batch_id: int,
    out: Path | None,
    formats: tuple[str, ...],
    layout_spec: str,
    as_json: bool,
) -> None:
    """Generate the label run of BATCH: manifest and print sheets.

    A reprint (before delivery) gives the same codes: they are signed with the batch's own key.
    """
    from gimark.labels.printing.layout import parse_layout

    layout = parse_layout(layout_spec)
    # Refuse before asking for the passphrase or doing any work, and outside any transaction:
    # a prompt must not hold SQLite's write lock.
    with gm.db.session() as s:
        row = batches.get_batch(s, batch_id)
        batches.check_printable(row)
        kid = row.key_kid
    assert kid is not None  # set on approval, and only approved or printed batches get here
    secret = passphrase_of(gm)
    with gm.db.session() as s:
        signer = load_signer_for(s, gm.settings, secret, kid)
    # Imported here: the sheet writers load only for a command that writes sheets.
    from gimark.labels.printing.runs import generate_run

    folder = out if out is not None else gm.settings.home / "runs" / str(batch_id)
    bars = _ProgressBars() if not as_json and sys.stderr.isatty() else None
    with contextlib.ExitStack() as stack:
        if bars is not None:
            stack.callback(bars.close)
        result = generate_run(
            gm.db,
            gm.settings,
            signer,
            batch_id,
            folder,
            formats,
            actor=gm.actor,
            progress=bars,
            layout=layout,
        )
    data = {"files": [str(f) for f in result.files], "count": result.count}
    text = "\n".join([f"{result.count} labels / 枚标签", *map(str, result.files)])
    emit(as_json, data, text)


@run_group.command("void")
@click.argument("batch_id", metavar="BATCH", type=int)
@click.argument("specs", metavar="SERIAL…", nargs=-1, required=True)
@click.option("--reason", default=VOID_REASON, show_default=True, help="Why they are void.")
@json_option
@click.pass_obj
def run_void(
    gm: Context, batch_id: int, specs: tuple[str, ...], reason: str, as_json: bool
) -> None:
    """Void labels of BATCH spoiled in printing.

    Each SERIAL is a printed serial (0000-0000-01X), a serial number (digits only) or a range
    A..B of either (two dots: printed serials contain hyphens).
    """
    ranges = [ledger.parse_serial_spec(spec) for spec in specs]
    with gm.db.session() as s:
        figures = ledger.void_serials(s, batch_id, ranges, reason=reason, actor=gm.actor)
    data = {
        "id": batch_id,
        "voided": [[first, last] for first, last in sorted(ranges)],
        "count": sum(last - first + 1 for first, last in ranges),
        "ledger": dataclasses.asdict(figures),
    }
    emit(as_json, data, f"批次 {batch_id}: {figures.line()}")


class _ProgressBars:
    """A progress bar on stderr per format of a run, for a person watching (never in pipes,
    logs or ``--json``)."""

    def __init__(self) -> None:
        self._stack = contextlib.ExitStack()
        self._update: Callable[[int], None] | None = None  # the bar being drawn
        self._fmt = ""
        self._shown = 0

    def __call__(self, progress: Progress) -> None:
        if self._update is None or progress.fmt != self._fmt:
            self.close()
            label = f"{progress.fmt:<4}"
            bar = click.progressbar(length=progress.total, label=label, file=sys.stderr)
            self._update = self._stack.enter_context(bar).update
            self._fmt, self._shown = progress.fmt, 0
        self._update(progress.done - self._shown)
        self._shown = progress.done

    def close(self) -> None:
        """Finish the bar being drawn."""
        self._stack.close()
        self._update = None


def register(root: click.Group) -> None:
    root.add_command(run_group)
