"""The run manifest: one row per label, the data file variable-data printing presses take.

Two files carry the same rows, in serial order:

``manifest.csv``
    Header ``serial,printed_serial,qr_text``; ``serial`` is the integer serial number,
    ``printed_serial`` the human-readable form printed under the QR (``XXXX-XXXX-XXX``),
    ``qr_text`` the exact text to encode in the QR. UTF-8, ``\\n`` line endings, **no BOM**:
    every value is ASCII (digits, the serial alphabet, the QR alphanumeric set), so Excel and
    RIP software read the file the same with or without one, while a BOM would glue itself to
    the first header name (``\\ufeffserial``) in tools that match columns by name.
``manifest.jsonl``
    One compact JSON object per line with the same three members, for scripts.

Rows are produced and written one at a time, so a run of any size uses constant memory.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from gimark.labels.issuing.codes import CodeSigner, encode_url, sign_codes
from gimark.labels.issuing.serials import format_serial

__all__ = ["COLUMNS", "ManifestRow", "manifest_rows", "write_manifest"]

COLUMNS: Final = ("serial", "printed_serial", "qr_text")
_BUFFER: Final = 1 << 20  # bytes; large writes keep the manifest well above 12,000 rows/s


@dataclass(frozen=True, slots=True)
class ManifestRow:
    """One label: its serial, the serial as printed, and the QR text."""

    serial: int
    printed_serial: str
    qr_text: str


def manifest_rows(signer: CodeSigner, serials: Iterable[int], base: str) -> Iterator[ManifestRow]:
    """Sign ``serials`` in order and yield their rows (lazily: nothing is kept).

    Ed25519 signatures are deterministic, so the same signer, serials and base always give
    the same rows: a reprint is byte-identical.

    Raises:
        SerialRangeError: a serial is not in 1 … 2**48 − 1.
        ConfigurationError: ``base`` cannot be put in a QR in alphanumeric mode.
    """
    for code in sign_codes(signer, serials):
        yield ManifestRow(code.serial, format_serial(code.serial), encode_url(code, base))


def write_manifest(rows: Iterable[ManifestRow], csv_path: Path, jsonl_path: Path) -> int:
    """Write ``rows`` to both manifest files (created or truncated); return the row count.

    The caller owns atomicity: pass temporary names and rename them once this returns.
    """
    count = 0
    with (
        csv_path.open("w", encoding="utf-8", newline="", buffering=_BUFFER) as csv_file,
        jsonl_path.open("w", encoding="utf-8", newline="\n", buffering=_BUFFER) as jsonl_file,
    ):
        writer = csv.writer(csv_file, lineterminator="\n")
        writer.writerow(COLUMNS)
        write_json = jsonl_file.write
        for row in rows:
            writer.writerow((row.serial, row.printed_serial, row.qr_text))
            write_json(_json_line(row))
            count += 1
    return count


def _json_line(row: ManifestRow) -> str:
    # Compact separators and a fixed member order: the bytes are the same on every reprint.
    record = {"serial": row.serial, "printed_serial": row.printed_serial, "qr_text": row.qr_text}
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n"
