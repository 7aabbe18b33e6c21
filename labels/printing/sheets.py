"""Print-ready sheets of labels: PDF, PNG and SVG.

Each label carries its QR code (with the 4-module quiet zone), a reserved area for the official
special-mark artwork with the user's 统一社会信用代码 right under it (CNIPA announcement No. 354
of 2020 requires the credit code to be marked with the special mark), the printed serial and,
room permitting, the product name. Sheets carry crop marks when the layout asks for them.
:mod:`gimark.labels.printing.layout` says where everything goes; ``sheet_pdf`` and
``sheet_images`` draw.

Every writer streams: it holds one page of labels at a time, so memory stays flat however long
the run. Every writer writes under a temporary name and renames when it is complete, so an
interrupted run leaves nothing that looks finished. The same labels and layout give the same
bytes.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Literal, TypeVar

from gimark.labels.printing.layout import Layout
from gimark.labels.printing.qr import QrMatrix
from gimark.labels.printing.sheet_images import Raster, Svg
from gimark.labels.printing.sheet_pdf import PdfDocument

__all__ = ["LabelData", "Per", "write_pdf", "write_png", "write_svg"]

T = TypeVar("T")
Per = Literal["sheet", "label"]


@dataclass(frozen=True)
class LabelData:
    """What one label shows: the QR text, the printed serial and the user's credit code."""

    qr_text: str
    printed_serial: str
    uscc: str  # the user's 统一社会信用代码, printed under the mark
    product_name: str = ""
    # The QR symbol of qr_text when the caller has encoded it already (in worker processes:
    # see labels/runs.py); None: the writer encodes it.
    matrix: QrMatrix | None = field(default=None, compare=False, repr=False)


def write_pdf(labels: Iterable[LabelData], path: Path, layout: Layout) -> int:
    """Write the labels as a PDF of ``layout`` pages to ``path``; return how many were written.

    Raises:
        LayoutError: a QR text is too long for the label (see ``qr.qr_matrix``).
        ValueError: there are no labels (a PDF cannot have no pages).
        OSError: the file cannot be written.
        Whatever the labels' iterator raises. In every case nothing is left at ``path``.
    """
    count = 0
    with _atomic_file(path) as out:
        document = PdfDocument(out, layout)
        for page in chunks(labels, layout.per_page):
            document.add_page(page)
            count += len(page)
        if not count:
            raise ValueError("no labels to write: a PDF needs at least one page")
        document.finish()
    return count


def write_png(
    labels: Iterable[LabelData], out_dir: Path, layout: Layout, *, per: Per = "sheet"
) -> list[Path]:
    """Write PNG files at ``layout.dpi``, one a sheet or one a label; return their paths.

    Files are named ``sheet-000001.png`` or ``label-00000001.png``. Their text is Latin only
    (raster output carries no Chinese font): a Chinese product name is left out.

    Raises:
        LayoutError: a QR text is too long for the label.
        OSError: a file cannot be written.
        Whatever the labels' iterator raises. In every case no file of this call is left.
    """
    raster = Raster(layout)
    return _write_files(labels, out_dir, layout, per, "png", raster.sheet, raster.label)


def write_svg(
    labels: Iterable[LabelData], out_dir: Path, layout: Layout, *, per: Per = "sheet"
) -> list[Path]:
    """Write SVG files in millimetres, one a sheet or one a label; return their paths.

    Files are named like :func:`write_png`'s; each label is a ``<g class="label">``.

    Raises:
        LayoutError: a QR text is too long for the label.
        OSError: a file cannot be written.
        Whatever the labels' iterator raises. In every case no file of this call is left.
    """
    svg = Svg(layout)
    return _write_files(labels, out_dir, layout, per, "svg", svg.sheet, svg.label)


@contextlib.contextmanager
def _atomic_file(path: Path) -> Iterator[BinaryIO]:
    """A file that appears at ``path`` only once the block completes without an exception."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            yield out
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise


def _write_files(
    labels: Iterable[LabelData],
    out_dir: Path,
    layout: Layout,
    per: Per,
    suffix: str,
    render_sheet: Callable[[list[LabelData]], bytes],
    render_label: Callable[[LabelData], bytes],
) -> list[Path]:
    """Render into a hidden staging directory, then move every file into place at the end.

    A run cut short leaves only the staging directory (``.gimark-partial-*``), never a set of
    files that looks complete.
    """
    if per not in ("sheet", "label"):
        raise ValueError(f"per must be 'sheet' or 'label', not {per!r}")
    out_dir.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".gimark-partial-", dir=out_dir))
    try:
        if per == "sheet":
            parts = map(render_sheet, chunks(labels, layout.per_page))
            names = (f"sheet-{n:06d}.{suffix}" for n in itertools.count(1))
        else:
            parts = map(render_label, labels)
            names = (f"label-{n:08d}.{suffix}" for n in itertools.count(1))
        written = []
        for name, data in zip(names, parts, strict=False):
            (stage / name).write_bytes(data)
            written.append(name)
        for name in written:
            os.replace(stage / name, out_dir / name)
        stage.rmdir()
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return [out_dir / name for name in written]


def chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """``items`` in lists of ``size`` (the last one shorter); ``itertools.batched`` is 3.12's."""
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk
