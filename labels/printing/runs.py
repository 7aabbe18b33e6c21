"""Label runs: a batch's signed codes written as the files a printer prints from.

A run writes, into one folder:

- ``manifest.csv`` and ``manifest.jsonl`` (format ``csv``): one row per label, see
  :mod:`gimark.labels.printing.manifest`;
- ``sheets.pdf`` (``pdf``), ``sheet-NNNNNN.png`` (``png``) and ``sheet-NNNNNN.svg`` (``svg``):
  print-ready sheets, see :mod:`gimark.labels.printing.sheets`;
- ``run.json``, last: the batch, its serial range, the key, the formats and every file's
  SHA-256 and size. Its presence means the run completed.

A run covers the batch's whole serial range (labels voided later are a ledger fact, not a
change to the files), and is deterministic: Ed25519 signatures are, and the batch names its
key, so regenerating a run (after a crash, or for a reprint before delivery) gives the same
bytes in every file. Files are written under temporary names and renamed only once every
format is complete and the run is recorded on the batch (with the digests), so an
interrupted run leaves nothing that looks finished. Codes are produced and written one at a
time: memory does not grow with the run.

``run.json`` lists the files of the run; other files in the folder (sheets of an earlier run
with another layout, say) are not part of it.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.context import BaseContext
from multiprocessing.pool import AsyncResult
from pathlib import Path
from typing import Final, TypeVar

from gimark.core.db import Database
from gimark.core.settings import Settings
from gimark.keys.keyring import Signer
from gimark.labels.issuing import batches
from gimark.labels.printing.errors import RunError, RunKeyMismatchError, UnknownFormatError
from gimark.labels.printing.layout import A4_3x8, Layout
from gimark.labels.printing.manifest import ManifestRow, manifest_rows, write_manifest
from gimark.labels.printing.qr import QrMatrix, qr_matrix
from gimark.labels.printing.sheets import LabelData, chunks, write_pdf, write_png, write_svg
from gimark.labels.printing.staging import RunFile, Staging, prepare, write_atomic
from gimark.trace.services import get_enterprise, get_product

__all__ = [
    "FORMATS",
    "SUMMARY",
    "Progress",
    "ProgressCallback",
    "RunFile",
    "RunResult",
    "generate_run",
    "parse_formats",
]

FORMATS: Final = ("csv", "pdf", "png", "svg")
SUMMARY: Final = "run.json"
MANIFEST_CSV: Final = "manifest.csv"
MANIFEST_JSONL: Final = "manifest.jsonl"
SHEETS_PDF: Final = "sheets.pdf"
PROGRESS_STEP: Final = 1000  # labels between progress reports: a redrawn bar costs more
PARALLEL_MIN: Final = 1000  # labels; a smaller run is done before worker processes would start
CHUNK: Final = 250  # labels a worker task: passing a task costs about one QR symbol
IN_FLIGHT: Final = 4  # tasks queued per worker: enough to keep it busy, few enough to stay small

T = TypeVar("T")


@dataclass(frozen=True)
class RunResult:
    """What :func:`generate_run` wrote."""

    batch_id: int
    serial_first: int
    serial_last: int
    key_kid: str
    formats: tuple[str, ...]
    files: list[Path]  # every file of the run, ``run.json`` last
    written: tuple[RunFile, ...]  # the files before ``run.json``, with their digests
    count: int  # labels

    @property
    def digests(self) -> dict[str, str]:
        """File name → SHA-256 (hex) of every file but ``run.json``."""
        return {f.name: f.sha256 for f in self.written}


@dataclass(frozen=True)
class _Plan:
    """What a run needs from the database, read once in a short transaction."""

    batch_id: int
    first: int
    last: int
    kid: str
    uscc: str
    product_name: str
    base: str
    layout: Layout
    workers: int  # processes encoding QR symbols; 1: none, all in this process

    @property
    def count(self) -> int:
        return self.last - self.first + 1

    @property
    def serials(self) -> range:
        return range(self.first, self.last + 1)


def generate_run(
    db: Database,
    settings: Settings,
    signer: Signer,
    batch_id: int,
    out_dir: Path,
    formats: Sequence[str],
    *,
    actor: str,
    progress: ProgressCallback | None = None,
    layout: Layout | None = None,
    workers: int | None = None,
) -> RunResult:
    """Sign the batch's codes and write its run into ``out_dir``; record it on the batch.

    ``formats`` are any of :data:`FORMATS` (names may also be comma-separated). ``layout``
    places the labels on sheets (default: A4, 3 × 8). ``progress`` is told how far each format
    has come, every :data:`PROGRESS_STEP` labels and at its end. ``workers`` is the number of
    processes that encode QR symbols for the sheets (default: one per CPU, none for runs of
    under 1,000 labels; 1: none); every choice gives the same bytes.

    Raises:
        UnknownFormatError: a format is not one of :data:`FORMATS`, or none is given.
        NotFoundError: no such batch.
        BatchNotPrintableError: the batch is requested, rejected, revoked or delivered.
        RunKeyMismatchError: ``signer`` holds another key than the batch's.
        LayoutError: a QR text does not fit the label (a QR base URL that is too long).
        RunError: a file cannot be written; no file of the run is left then.
    """
    chosen = parse_formats(formats)
    plan = _plan(db, settings, signer, batch_id, layout or A4_3x8, workers)
    prepare(out_dir, batch_id, stale=SUMMARY)
    with Staging(out_dir, batch_id) as staging:
        for fmt in chosen:
            _WRITERS[fmt](plan, signer, staging, _reporter(progress, fmt, plan.count))
        written = staging.digests()
        summary = _summary(plan, chosen, written)
        # Recorded before the files take their final names: if the batch was revoked while
        # the run was written, mark_printed refuses and no file of the run appears.
        with db.session() as session:
            batches.mark_printed(session, batch_id, actor=actor, detail=_ledger_detail(summary))
        staging.commit()
    summary_path = write_atomic(out_dir / SUMMARY, _json_bytes(summary), batch_id)
    return RunResult(
        batch_id=batch_id,
        serial_first=plan.first,
        serial_last=plan.last,
        key_kid=plan.kid,
        formats=chosen,
        files=[*(out_dir / f.name for f in written), summary_path],
        written=written,
        count=plan.count,
    )


def parse_formats(formats: Sequence[str]) -> tuple[str, ...]:
    """The formats asked for, lower-cased, in the order given, each once.

    Raises:
        UnknownFormatError: one is not in :data:`FORMATS`, or there are none.
    """
    names = (part.strip().lower() for item in formats for part in item.split(","))
    chosen = tuple(dict.fromkeys(name for name in names if name))
    unknown = [name for name in chosen if name not in FORMATS]
    if unknown or not chosen:
        raise UnknownFormatError(formats=", ".join(unknown) or "-", known=", ".join(FORMATS))
    return chosen


# --- reading the batch -----------------------------------------------------------------


def _plan(
    db: Database,
    settings: Settings,
    signer: Signer,
    batch_id: int,
    layout: Layout,
    workers: int | None,
) -> _Plan:
    # One short transaction: on SQLite a transaction holds the write lock, which a run of
    # minutes must not keep from everyone else.
    with db.session() as session:
        batch = batches.get_batch(session, batch_id)
        batches.check_printable(batch)
        if batch.serial_first is None or batch.serial_last is None or batch.key_kid is None:
            # Only approved and printed batches pass check_printable; approval sets all three.
            raise RunError(
                batch_id=batch_id,
                detail="the batch has no serial range or signing key",
                detail_zh="批次没有序列号范围或签名密钥",
            )
        if batch.key_kid != signer.kid:
            raise RunKeyMismatchError(batch_id=batch_id, batch_kid=batch.key_kid, kid=signer.kid)
        enterprise = get_enterprise(session, batch.enterprise_id)
        product = get_product(session, batch.product_id)
        return _Plan(
            batch_id=batch_id,
            first=batch.serial_first,
            last=batch.serial_last,
            kid=batch.key_kid,
            uscc=enterprise.uscc,
            product_name=product.name_zh,
            base=settings.base_url,
            layout=layout,
            workers=workers or _default_workers(batch.serial_last - batch.serial_first + 1),
        )


# --- the writers ---------------------------------------------------------------------------


def _write_csv(plan: _Plan, signer: Signer, staging: Staging, advance: _Advance) -> None:
    rows = _counted(manifest_rows(signer, plan.serials, plan.base), advance)
    write_manifest(rows, staging.file(MANIFEST_CSV), staging.file(MANIFEST_JSONL))


def _write_pdf(plan: _Plan, signer: Signer, staging: Staging, advance: _Advance) -> None:
    write_pdf(_counted(_labels(plan, signer), advance), staging.file(SHEETS_PDF), plan.layout)


def _write_png(plan: _Plan, signer: Signer, staging: Staging, advance: _Advance) -> None:
    labels = _counted(_labels(plan, signer), advance)
    staging.adopt(write_png(labels, staging.folder("png"), plan.layout, per="sheet"))


def _write_svg(plan: _Plan, signer: Signer, staging: Staging, advance: _Advance) -> None:
    labels = _counted(_labels(plan, signer), advance)
    staging.adopt(write_svg(labels, staging.folder("svg"), plan.layout, per="sheet"))


def _labels(plan: _Plan, signer: Signer) -> Iterator[LabelData]:
    """The labels in serial order; their QR symbols encoded by worker processes if useful.

    Encoding a QR costs ten times what signing and drawing a label cost, so that is what the
    workers do. This process signs (the key never leaves it) and writes, in order; a bounded
    number of chunks is in flight, so memory stays flat however far the workers run ahead.
    """
    rows = manifest_rows(signer, plan.serials, plan.base)
    context = _fork_context() if plan.workers > 1 else None
    if context is None:
        for row in rows:
            yield _label(plan, row, None)
        return
    with context.Pool(plan.workers) as pool:
        pending: deque[tuple[list[ManifestRow], AsyncResult[list[QrMatrix | None]]]] = deque()
        for chunk in chunks(rows, CHUNK):
            texts = [row.qr_text for row in chunk]
            pending.append((chunk, pool.apply_async(_matrices, (texts,))))
            if len(pending) >= IN_FLIGHT * plan.workers:
                yield from _ready(plan, pending.popleft())
        while pending:
            yield from _ready(plan, pending.popleft())


def _ready(
    plan: _Plan, job: tuple[list[ManifestRow], AsyncResult[list[QrMatrix | None]]]
) -> Iterator[LabelData]:
    rows, matrices = job
    for row, matrix in zip(rows, matrices.get(), strict=True):
        yield _label(plan, row, matrix)


def _label(plan: _Plan, row: ManifestRow, matrix: QrMatrix | None) -> LabelData:
    return LabelData(row.qr_text, row.printed_serial, plan.uscc, plan.product_name, matrix)


def _matrices(texts: list[str]) -> list[QrMatrix | None]:
    """QR symbols, in a worker process. None where encoding fails: the writer encodes that
    text again in the parent and raises the real error there (our errors do not unpickle)."""
    matrices: list[QrMatrix | None] = []
    for text in texts:
        try:
            matrices.append(qr_matrix(text))
        except Exception:  # noqa: BLE001 - reported by the parent, see the docstring
            matrices.append(None)
    return matrices


def _fork_context() -> BaseContext | None:
    # fork: workers start in milliseconds and need nothing passed to them. Where there is no
    # fork (Windows, or macOS's default), the run stays in this process.
    try:
        return multiprocessing.get_context("fork")
    except ValueError:
        return None


def _default_workers(count: int) -> int:
    """One worker process per CPU this process may run on; none for a small run."""
    if count < PARALLEL_MIN:
        return 1
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on every platform
        return os.cpu_count() or 1


_Advance = Callable[[int], None]
_WRITERS: Final[dict[str, Callable[[_Plan, Signer, Staging, _Advance], None]]] = {
    "csv": _write_csv,
    "pdf": _write_pdf,
    "png": _write_png,
    "svg": _write_svg,
}


# --- the summary -----------------------------------------------------------------------


def _summary(
    plan: _Plan, formats: tuple[str, ...], files: tuple[RunFile, ...]
) -> dict[str, object]:
    # No timestamp: a regenerated run's summary is byte-identical too; the ledger has the time.
    return {
        "batch_id": plan.batch_id,
        "serial_first": plan.first,
        "serial_last": plan.last,
        "count": plan.count,
        "key_kid": plan.kid,
        "base_url": plan.base,
        "formats": list(formats),
        "files": [{"name": f.name, "sha256": f.sha256, "bytes": f.size} for f in files],
    }


def _ledger_detail(summary: dict[str, object]) -> dict[str, object]:
    # batch_id is the event's own column; the rest is what was printed, digests included.
    return {key: value for key, value in summary.items() if key != "batch_id"}


def _json_bytes(data: object) -> bytes:
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


# --- progress --------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    """How far a run has come: ``done`` of ``total`` labels written in format ``fmt``."""

    fmt: str
    done: int
    total: int


ProgressCallback = Callable[[Progress], None]


def _reporter(progress: ProgressCallback | None, fmt: str, total: int) -> _Advance:
    """What the writers call with each step's count: tells ``progress`` the running total."""
    done = 0

    def advance(step: int) -> None:
        nonlocal done
        done += step
        if progress is not None:
            progress(Progress(fmt, done, total))

    return advance


def _counted(items: Iterable[T], advance: _Advance) -> Iterator[T]:
    """``items``, reporting every :data:`PROGRESS_STEP` of them to ``advance``."""
    pending = 0
    for item in items:
        yield item
        pending += 1
        if pending == PROGRESS_STEP:
            advance(pending)
            pending = 0
    if pending:
        advance(pending)
