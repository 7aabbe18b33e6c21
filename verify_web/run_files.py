"""The files of a batch's completed label run, as the printer portal offers them.

``gimark run generate`` writes ``<home>/runs/<batch_id>/`` and, last, ``run.json`` listing the
files with their digests (see :mod:`gimark.labels.printing.runs`). Only a run with a
``run.json`` is complete, and only the files it lists are offered: a name from a URL is looked
up in that list, never joined onto a path as given, and every listed path must resolve inside
the run folder (symlinks included).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from gimark.core.settings import Settings

RUN_INDEX = "run.json"


@dataclass(frozen=True)
class RunFile:
    """One downloadable file of a run."""

    name: str  # as listed in run.json, relative to the run folder
    path: Path  # resolved, inside the run folder
    size: int  # bytes
    sha256: str | None


def run_folder(settings: Settings, batch_id: int) -> Path:
    """Where ``gimark run generate`` writes a batch's run by default."""
    return settings.home / "runs" / str(batch_id)


def _entries(document: object) -> list[tuple[str, str | None]]:
    # {"files": [{"name": …, "sha256": …, "bytes": …}, …], …}; anything else lists nothing.
    files = document.get("files") if isinstance(document, dict) else None
    entries: list[tuple[str, str | None]] = []
    for item in files if isinstance(files, list) else []:
        name = item.get("name") if isinstance(item, dict) else None
        if isinstance(name, str):
            digest = item.get("sha256")
            entries.append((name, digest if isinstance(digest, str) else None))
    return entries


def _inside(folder: Path, name: str) -> Path | None:
    relative = PurePosixPath(name)
    if not name or relative.is_absolute() or ".." in relative.parts or "\\" in name:
        return None
    path = (folder / relative).resolve()
    if not path.is_relative_to(folder) or not path.is_file() or path.name == RUN_INDEX:
        return None
    return path


def run_files(settings: Settings, batch_id: int) -> list[RunFile]:
    """The files of the batch's completed run, in run.json's order; [] if there is none."""
    folder = run_folder(settings, batch_id).resolve()
    try:
        document = json.loads((folder / RUN_INDEX).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []  # no run yet, or one still being written
    found: list[RunFile] = []
    for name, digest in _entries(document):
        path = _inside(folder, name)
        if path is not None and all(f.name != name for f in found):
            found.append(RunFile(name, path, path.stat().st_size, digest))
    return found


def find_run_file(settings: Settings, batch_id: int, name: str) -> RunFile | None:
    """The listed file called ``name``, or None (not listed, missing, or outside the folder)."""
    return next((f for f in run_files(settings, batch_id) if f.name == name), None)
