"""Label runs: the files a printer prints from, written whole or not at all (both databases)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gimark.core.db import Database
from gimark.core.settings import Settings
from gimark.keys.keyring import Signer
from gimark.keys.services import load_signer_for, public_key_set, rotate_key
from gimark.labels.issuing import batches
from gimark.labels.issuing.codes import decode_and_verify
from gimark.labels.issuing.errors import BatchNotPrintableError
from gimark.labels.issuing.models import BatchAction, BatchStatus
from gimark.labels.issuing.serials import parse_serial
from gimark.labels.printing.errors import (
    LayoutError,
    RunError,
    RunKeyMismatchError,
    UnknownFormatError,
)
from gimark.labels.printing.manifest import manifest_rows, write_manifest
from gimark.labels.printing.runs import Progress, RunResult, generate_run, parse_formats

PRINTER = "printer:test"
MakeBatch = Callable[..., int]


@pytest.fixture
def signer(db: Database, settings: Settings, signing_key: str) -> Signer:
    assert settings.key_passphrase is not None
    with db.session() as s:
        return load_signer_for(s, settings, settings.key_passphrase, signing_key)


@pytest.fixture
def generate(db: Database, settings: Settings, signer: Signer) -> Callable[..., RunResult]:
    def run(batch_id: int, out_dir: Path, formats: str = "csv,pdf", **kwargs: Any) -> RunResult:
        options: dict[str, Any] = {"actor": PRINTER} | kwargs
        chosen = formats.split(",")
        return generate_run(
            db, settings, options.pop("signer", signer), batch_id, out_dir, chosen, **options
        )

    return run


class FailingSigner(Signer):
    """A signer that breaks down after ``calls`` signatures, as a crash half-way through would."""

    def __init__(self, signer: Signer, calls: int) -> None:
        self.kid = signer.kid
        self._key_id = signer.key_id
        self._inner = signer
        self._left = calls

    def sign(self, message: bytes) -> bytes:
        if self._left == 0:
            raise RuntimeError("signing device lost")
        self._left -= 1
        return self._inner.sign(message)


def _read_manifest(out_dir: Path) -> list[dict[str, str]]:
    with (out_dir / "manifest.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _events(db: Database, batch_id: int, action: BatchAction) -> list[dict[str, Any]]:
    with db.session() as s:
        batch = batches.get_batch(s, batch_id)
        return [json.loads(e.detail) for e in batch.events if e.action is action]


def test_a_run_writes_the_manifest_the_sheets_and_a_summary_last(
    db: Database, make_batch: MakeBatch, generate: Callable[..., RunResult], tmp_path: Path
) -> None:
    batch_id = make_batch(quantity=30)

    result = generate(batch_id, tmp_path / "run")

    names = [p.name for p in result.files]
    assert names == ["manifest.csv", "manifest.jsonl", "sheets.pdf", "run.json"]
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == sorted(names)
    assert result.count == 30 == result.serial_last - result.serial_first + 1
    raw = (tmp_path / "run" / "manifest.csv").read_bytes()
    assert raw.startswith(b"serial,printed_serial,qr_text\n") and b"\r" not in raw
    rows = _read_manifest(tmp_path / "run")
    assert [int(r["serial"]) for r in rows] == list(
        range(result.serial_first, result.serial_last + 1)
    )
    jsonl = (tmp_path / "run" / "manifest.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in jsonl] == [
        {"serial": int(r["serial"]), "printed_serial": r["printed_serial"], "qr_text": r["qr_text"]}
        for r in rows
    ]
    assert (tmp_path / "run" / "sheets.pdf").read_bytes().startswith(b"%PDF-")


def test_the_run_marks_the_batch_printed_with_the_digests_of_its_files(
    db: Database, make_batch: MakeBatch, generate: Callable[..., RunResult], tmp_path: Path
) -> None:
    batch_id = make_batch(quantity=10)

    out = tmp_path / "run"
    result = generate(batch_id, out, "csv")

    actual = {
        name: hashlib.sha256((out / name).read_bytes()).hexdigest()
        for name in ("manifest.csv", "manifest.jsonl")
    }
    assert result.digests == actual
    summary = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert summary["batch_id"] == batch_id and summary["count"] == 10
    assert {f["name"]: f["sha256"] for f in summary["files"]} == actual
    [event] = _events(db, batch_id, BatchAction.GENERATE)
    assert {f["name"]: f["sha256"] for f in event["files"]} == actual
    assert event["reprint"] is False and event["key_kid"] == result.key_kid
    with db.session() as s:
        assert batches.get_batch(s, batch_id).status is BatchStatus.PRINTED


def test_regenerating_a_run_gives_the_same_bytes(
    db: Database, make_batch: MakeBatch, generate: Callable[..., RunResult], tmp_path: Path
) -> None:
    batch_id = make_batch(quantity=40)
    first = generate(batch_id, tmp_path / "first")

    again = generate(batch_id, tmp_path / "again")  # a reprint: the batch is printed now

    for path in first.files:
        assert path.read_bytes() == (tmp_path / "again" / path.name).read_bytes(), path.name
    assert again.digests == first.digests
    reprints = [e["reprint"] for e in _events(db, batch_id, BatchAction.GENERATE)]
    assert reprints == [False, True]


def test_every_code_in_the_manifest_verifies_against_the_published_keys(
    db: Database,
    settings: Settings,
    make_batch: MakeBatch,
    generate: Callable[..., RunResult],
    tmp_path: Path,
) -> None:
    batch_id = make_batch(quantity=50)
    generate(batch_id, tmp_path / "run", "csv")

    with db.session() as s:
        keys = public_key_set(s)
    for row in _read_manifest(tmp_path / "run"):
        code = decode_and_verify(row["qr_text"], settings.bases, keys)
        assert code.serial == int(row["serial"]) == parse_serial(row["printed_serial"])


def test_an_interrupted_run_leaves_no_file_and_no_record(
    db: Database,
    signer: Signer,
    make_batch: MakeBatch,
    generate: Callable[..., RunResult],
    tmp_path: Path,
) -> None:
    batch_id = make_batch(quantity=60)
    # The manifest completes (60 signatures); the sheets break down half-way.
    failing = FailingSigner(signer, calls=90)

    with pytest.raises(RuntimeError, match="signing device lost"):
        generate(batch_id, tmp_path / "run", signer=failing)

    assert list((tmp_path / "run").iterdir()) == []
    assert _events(db, batch_id, BatchAction.GENERATE) == []
    with db.session() as s:
        assert batches.get_batch(s, batch_id).status is BatchStatus.APPROVED


def test_a_failed_reprint_leaves_the_earlier_files_but_no_summary(
    make_batch: MakeBatch, signer: Signer, generate: Callable[..., RunResult], tmp_path: Path
) -> None:
    batch_id = make_batch(quantity=20)
    out = tmp_path / "run"
    first = generate(batch_id, out, "csv")
    manifest = first.files[0].read_bytes()

    with pytest.raises(RuntimeError):
        generate(batch_id, out, "csv", signer=FailingSigner(signer, calls=5))

    # The manifest left is the complete one of the first run; without run.json nothing
    # claims that the second run completed.
    assert sorted(p.name for p in out.iterdir()) == ["manifest.csv", "manifest.jsonl"]
    assert (out / "manifest.csv").read_bytes() == manifest


@pytest.mark.parametrize("formats", ["csv,tiff", "", " , "])
def test_an_unknown_format_is_refused_before_anything_is_written(
    make_batch: MakeBatch, generate: Callable[..., RunResult], tmp_path: Path, formats: str
) -> None:
    batch_id = make_batch(quantity=5)

    with pytest.raises(UnknownFormatError, match="known formats: csv, pdf, png, svg"):
        generate(batch_id, tmp_path / "run", formats)

    assert not (tmp_path / "run").exists()


def test_formats_are_read_forgivingly() -> None:
    assert parse_formats(["PDF", "csv, pdf"]) == ("pdf", "csv")
    with pytest.raises(UnknownFormatError, match="tiff"):
        parse_formats(["tiff"])


def test_a_revoked_batch_is_refused_before_anything_is_written(
    db: Database, make_batch: MakeBatch, generate: Callable[..., RunResult], tmp_path: Path
) -> None:
    batch_id = make_batch(quantity=5)
    with db.session() as s:
        batches.revoke_batch(s, batch_id, reason="recalled", actor="admin:test")

    with pytest.raises(BatchNotPrintableError, match="revoked"):
        generate(batch_id, tmp_path / "run")

    assert not (tmp_path / "run").exists()


def test_a_delivered_batch_is_not_printed_again(
    make_batch: MakeBatch, generate: Callable[..., RunResult], tmp_path: Path
) -> None:
    batch_id = make_batch(quantity=5, status=BatchStatus.DELIVERED)

    with pytest.raises(BatchNotPrintableError, match="delivered"):
        generate(batch_id, tmp_path / "run")


def test_a_key_other_than_the_batchs_is_refused(
    db: Database,
    settings: Settings,
    make_batch: MakeBatch,
    generate: Callable[..., RunResult],
    tmp_path: Path,
) -> None:
    batch_id = make_batch(quantity=5)
    assert settings.key_passphrase is not None
    with db.session() as s:
        new_kid = rotate_key(s, settings, settings.key_passphrase).kid
    with db.session() as s:
        other = load_signer_for(s, settings, settings.key_passphrase, new_kid)

    with pytest.raises(RunKeyMismatchError, match="is signed with key"):
        generate(batch_id, tmp_path / "run", signer=other)

    assert not (tmp_path / "run").exists()


def test_png_and_svg_sheets_are_listed_in_the_summary(
    make_batch: MakeBatch, generate: Callable[..., RunResult], tmp_path: Path
) -> None:
    batch_id = make_batch(quantity=30)  # two A4 sheets of 24

    out = tmp_path / "run"
    result = generate(batch_id, out, "svg,png")

    names = [p.name for p in result.files]
    assert names == [
        "sheet-000001.svg",
        "sheet-000002.svg",
        "sheet-000001.png",
        "sheet-000002.png",
        "run.json",
    ]
    assert sorted(p.name for p in out.iterdir()) == sorted(names)  # no staging left
    assert (out / "sheet-000002.png").read_bytes().startswith(b"\x89PNG")


def test_progress_is_told_how_far_each_format_has_come(
    make_batch: MakeBatch,
    generate: Callable[..., RunResult],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    told: list[Progress] = []

    generate(make_batch(quantity=5), tmp_path / "run", "csv,pdf", progress=told.append)

    assert told == [Progress("csv", 5, 5), Progress("pdf", 5, 5)]  # steps of PROGRESS_STEP
    assert capsys.readouterr() == ("", "")  # the run itself draws nothing


def test_the_manifest_streams_in_constant_memory(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    signer = Signer(Ed25519PrivateKey.from_private_bytes(bytes(range(32))))
    count = 30_000  # ~6 MB of rows, ~12 MB as objects if they were all kept
    tracemalloc.start()
    try:
        rows = manifest_rows(signer, range(1, count + 1), "HTTPS://GI.EXAMPLE.CN/V")
        written = write_manifest(rows, tmp_path / "m.csv", tmp_path / "m.jsonl")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert written == count
    assert peak < 4_000_000  # bytes: the two write buffers and one row, whatever the count
    with (tmp_path / "m.csv").open(encoding="utf-8", newline="") as handle:
        assert sum(1 for _ in csv.reader(io.StringIO(handle.read()))) == count + 1


def test_a_folder_that_cannot_be_written_is_a_run_error(
    make_batch: MakeBatch, generate: Callable[..., RunResult], tmp_path: Path
) -> None:
    batch_id = make_batch(quantity=5)
    blocker = tmp_path / "run"
    blocker.write_text("a file where the folder should be")

    with pytest.raises(RunError, match="cannot write the files"):
        generate(batch_id, blocker)


def test_the_sheets_are_the_same_whether_workers_encode_the_qr_or_not(
    make_batch: MakeBatch, generate: Callable[..., RunResult], tmp_path: Path
) -> None:
    batch_id = make_batch(quantity=120)

    alone = generate(batch_id, tmp_path / "alone", "pdf,svg", workers=1)
    shared = generate(batch_id, tmp_path / "shared", "pdf,svg", workers=2)

    assert shared.digests == alone.digests


def test_a_qr_text_too_long_for_the_label_is_reported_from_the_workers(
    db: Database,
    settings: Settings,
    signer: Signer,
    make_batch: MakeBatch,
    tmp_path: Path,
) -> None:
    batch_id = make_batch(quantity=30)
    long_base = settings.with_overrides(base_url="HTTPS://" + "GI." * 40 + "EXAMPLE.CN/V")

    with pytest.raises(LayoutError):
        generate_run(
            db,
            long_base,
            signer,
            batch_id,
            tmp_path / "run",
            ["pdf"],
            actor=PRINTER,
            workers=2,
        )

    assert list((tmp_path / "run").iterdir()) == []
