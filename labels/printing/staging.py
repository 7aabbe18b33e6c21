"""A run's files on disk: written under temporary names, then renamed into place together,
so that a failed or interrupted run leaves no file that looks complete."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Final

from gimark.labels.printing.errors import RunError

__all__ = ["PARTIAL", "RunFile", "Staging", "prepare", "write_atomic"]

PARTIAL: Final = ".partial"


@dataclass(frozen=True)
class RunFile:
    """One file of a run, as ``run.json`` and the batch's ledger record it."""

    name: str
    sha256: str  # hex
    size: int  # bytes


def prepare(out_dir: Path, batch_id: int, *, stale: str) -> None:
    """Make ``out_dir`` and remove its file ``stale`` (an earlier run's summary).

    Raises:
        RunError: the folder cannot be made or the file removed.
    """
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        # A summary left by an earlier run would vouch for files this run is about to replace.
        (out_dir / stale).unlink(missing_ok=True)
    except OSError as exc:
        raise _write_error(batch_id, exc) from exc


class Staging:
    """The run's files under temporary names, renamed into place together by :meth:`commit`.

    Leaving the ``with`` block by an exception removes them all; an ``OSError`` becomes a
    :class:`RunError` naming the batch.
    """

    def __init__(self, out_dir: Path, batch_id: int) -> None:
        self._out_dir = out_dir
        self._batch_id = batch_id
        self._files: dict[str, Path] = {}  # final name → where it is written first
        self._folders: list[Path] = []

    def __enter__(self) -> Staging:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc is None:
            return
        self.discard()
        if isinstance(exc, OSError):
            raise _write_error(self._batch_id, exc) from exc

    def file(self, name: str) -> Path:
        """Where to write the file ``name`` until the run commits."""
        path = self._out_dir / (name + PARTIAL)
        self._files[name] = path
        return path

    def folder(self, fmt: str) -> Path:
        """A hidden folder for writers that name their own files (one per sheet)."""
        path = self._out_dir / f".{fmt}{PARTIAL}"
        shutil.rmtree(path, ignore_errors=True)  # a crashed run's leftovers
        path.mkdir()
        self._folders.append(path)
        return path

    def adopt(self, paths: Iterable[Path]) -> None:
        """Take files written into a :meth:`folder` as files of the run, under their names."""
        for path in paths:
            self._files[path.name] = path

    def digests(self) -> tuple[RunFile, ...]:
        """The SHA-256 and size of every staged file, in the order they were written."""
        return tuple(_digest(name, path) for name, path in self._files.items())

    def commit(self) -> None:
        """Rename every file to its final name."""
        for name, path in self._files.items():
            os.replace(path, self._out_dir / name)
        self._remove_folders()

    def discard(self) -> None:
        """Remove everything staged (final files of earlier runs are left alone)."""
        for path in self._files.values():
            path.unlink(missing_ok=True)
        self._remove_folders()

    def _remove_folders(self) -> None:
        for path in self._folders:
            shutil.rmtree(path, ignore_errors=True)


def _digest(name: str, path: Path) -> RunFile:
    with path.open("rb") as handle:
        sha256 = hashlib.file_digest(handle, "sha256").hexdigest()
    return RunFile(name=name, sha256=sha256, size=path.stat().st_size)


def write_atomic(path: Path, data: bytes, batch_id: int) -> Path:
    """Write ``data`` to ``path`` under a temporary name, then rename it into place.

    Raises:
        RunError: the file cannot be written.
    """
    partial = path.with_name(path.name + PARTIAL)
    try:
        partial.write_bytes(data)
        os.replace(partial, path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise _write_error(batch_id, exc) from exc
    return path


def _write_error(batch_id: int, exc: OSError) -> RunError:
    where = f" ({exc.filename})" if exc.filename else ""
    reason = exc.strerror or type(exc).__name__
    return RunError(
        batch_id=batch_id,
        detail=f"cannot write the files{where}: {reason}",
        detail_zh=f"无法写入文件{where}：{reason}",
    )
