"""Publishing the status list: signed away from the web tier, written where it serves from.

``gimark status publish`` (on a timer) and ``gimark demo`` call :func:`publish_status_list`;
the web workers only read the file it wrote, so they never need the key passphrase.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from sqlalchemy.orm import Session

from gimark.labels.offline.statuslist import (
    ListSigner,
    build_status_list,
    canonical_json,
    sign_status_list,
)

__all__ = ["PUBLISHED_MODE", "publish_status_list"]

PUBLISHED_MODE: Final = 0o600  # the service user's alone, as everything in GIMARK_HOME


def publish_status_list(
    session: Session,
    signer: ListSigner,
    path: Path,
    now: dt.datetime,
    *,
    bases: Sequence[str] = (),
) -> dict[str, Any]:
    """Build the list at ``now``, sign it and write it to ``path``; the signed document.

    The file appears whole or not at all (a temporary file in the same folder, then a rename),
    so a web worker serving it never reads half a list, and it is the owner's alone (0600 in a
    0700 folder).

    Raises:
        OSError: the file cannot be written (the previous one, if any, is left as it was).
    """
    document = sign_status_list(build_status_list(session, now, bases=bases), signer)
    _write_atomically(path, canonical_json(document) + b"\n")
    return document


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, draft = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    try:
        os.fchmod(fd, PUBLISHED_MODE)  # mkstemp's own, said outright: whatever the umask
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())  # the rename must not land before the bytes it names
        os.replace(draft, path)
    except BaseException:
        Path(draft).unlink(missing_ok=True)
        raise
