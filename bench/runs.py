"""Benchmark: label runs of 10,000 and 100,000 labels — manifest and PDF rates, peak memory.

Usage: ``.venv/bin/python bench/runs.py [--sizes 10000,100000]``

Sets up a throwaway SQLite instance in a temporary folder (migrations, an issuer key, a
product, an enterprise and its authorization, a printer, one approved batch per size), then
generates each run in a fresh subprocess, so that every peak-memory figure is that run's
alone: the child reports its own ``ru_maxrss`` plus its children's (worker processes, if
any). The bare QR-matrix rate of the encoder the sheets use is measured on one core in this
process, on the run's own QR texts, just before and just after the PDF runs (the mean of the
two), so that it sees the same machine load as they do.

Prints a table, the ratios against the targets, then one JSON line of the figures.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from seeding import ACTOR, PASSPHRASE, approved_batch, seed

from gimark.core.db import Database
from gimark.core.settings import Settings
from gimark.keys.services import active_key, load_signer_for
from gimark.labels.printing.qr import qr_matrix
from gimark.labels.printing.runs import generate_run

BASE_URL = "HTTPS://GI.EXAMPLE.CN/V"
QR_SAMPLE = 3000  # QR texts encoded per measurement of the bare matrix rate
TARGETS = {"manifest": 12_000.0, "pdf": 600.0, "pdf_vs_qr": 0.5, "rss_mb": 300.0}


@dataclass(frozen=True)
class Measured:
    """One run, as its subprocess reports it."""

    size: int
    fmt: str
    seconds: float
    rss_mb: float  # the run's own peak plus its worker processes' peak

    @property
    def per_s(self) -> float:
        return self.size / self.seconds


def settings_for(home: Path) -> Settings:
    return Settings(home=home, base_url=BASE_URL, key_passphrase=PASSPHRASE)


# --- the instance ------------------------------------------------------------------------


def set_up(home: Path, sizes: list[int]) -> dict[int, int]:
    """A fresh instance with one approved batch per size; returns size → batch id."""
    settings = settings_for(home)
    db, ids = seed(settings)
    batch_ids = {size: _approved_batch(db, size, ids) for size in sizes}
    db.dispose()
    return batch_ids


def _approved_batch(db: Database, size: int, ids: tuple[int, int, int]) -> int:
    with db.session() as s:
        return approved_batch(s, size, ids).id


# --- one run, in a subprocess ----------------------------------------------------------


def child(home: Path, batch_id: int, fmt: str, out: Path) -> None:
    """Generate one run and print its wall time and peak memory as JSON."""
    settings = settings_for(home)
    db = Database(settings.effective_database_url)
    with db.session() as s:
        key = active_key(s)
        assert key is not None
        signer = load_signer_for(s, settings, PASSPHRASE, key.kid)
    start = time.perf_counter()
    result = generate_run(db, settings, signer, batch_id, out, [fmt], actor=ACTOR)
    seconds = time.perf_counter() - start
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    report = {"seconds": seconds, "count": result.count, "rss_kb": own + workers}
    print(json.dumps(report))


def measure_run(home: Path, batch_id: int, size: int, fmt: str, out: Path) -> Measured:
    command = [sys.executable, __file__, "--child", str(home), str(batch_id), fmt, str(out)]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["count"] == size
    return Measured(size, fmt, report["seconds"], report["rss_kb"] / 1024)


def qr_rate(texts: list[str]) -> float:
    """QR matrices a second on one core, with the sheets' encoder."""
    start = time.perf_counter()
    for text in texts:
        qr_matrix(text)
    return len(texts) / (time.perf_counter() - start)


def qr_texts(manifest: Path, count: int) -> list[str]:
    with manifest.open(encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(handle)
        return [row["qr_text"] for _, row in zip(range(count), rows, strict=False)]


# --- the report --------------------------------------------------------------------------


def report(runs: list[Measured], qr_per_s: float) -> dict[str, float]:
    """Print the runs and the figures against the targets; return the figures."""
    print(f"{'run':<18} {'labels/s':>10} {'seconds':>9} {'peak RSS MB':>12}")
    for m in runs:
        name = f"{m.fmt} {m.size:,}"
        print(f"{name:<18} {m.per_s:>10,.0f} {m.seconds:>9.2f} {m.rss_mb:>12.1f}")
    print(f"{'QR matrix, 1 core':<18} {qr_per_s:>10,.0f}")
    largest = max(m.size for m in runs)
    manifest = next(m for m in runs if m.fmt == "csv" and m.size == largest)
    pdf = next(m for m in runs if m.fmt == "pdf" and m.size == largest)
    peaks = {m.size: max(n.rss_mb for n in runs if n.size == m.size) for m in runs}
    print(f"\n{'against targets':<28} {'figure':>10} {'target':>10} {'ratio':>7}")
    against("manifest labels/s", manifest.per_s, TARGETS["manifest"])
    against("PDF labels/s", pdf.per_s, TARGETS["pdf"])
    against("PDF / bare QR rate", pdf.per_s / qr_per_s, TARGETS["pdf_vs_qr"])
    for size, peak in sorted(peaks.items()):
        against(f"peak RSS MB, {size:,} labels", peak, TARGETS["rss_mb"], ceiling=True)
    return {
        "manifest_labels_per_s": round(manifest.per_s),
        "pdf_labels_per_s": round(pdf.per_s),
        "qr_matrix_per_s": round(qr_per_s),
        "peak_rss_mb_10k": round(peaks.get(10_000, 0.0), 1),
        "peak_rss_mb_100k": round(peaks.get(100_000, 0.0), 1),
    }


def against(name: str, figure: float, target: float, *, ceiling: bool = False) -> None:
    """One line of figure, target and ratio; the ratio is above 1 when the target is met."""
    ratio = target / figure if ceiling else figure / target
    print(f"{name:<28} {figure:>10,.2f} {target:>10,.2f} {ratio:>7.2f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated run sizes")
    parser.add_argument(
        "--child", nargs=4, metavar=("HOME", "BATCH", "FORMAT", "OUT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.child:
        home, batch_id, fmt, out = args.child
        child(Path(home), int(batch_id), fmt, Path(out))
        return
    sizes = sorted(int(s) for s in args.sizes.split(","))
    with tempfile.TemporaryDirectory(prefix="gimark-bench-runs-") as tmp:
        home = Path(tmp) / "home"
        batch_ids = set_up(home, sizes)
        runs = [measure_run(home, batch_ids[n], n, "csv", Path(tmp) / f"csv-{n}") for n in sizes]
        texts = qr_texts(Path(tmp) / f"csv-{sizes[0]}" / "manifest.csv", QR_SAMPLE)
        before = qr_rate(texts)
        runs += [measure_run(home, batch_ids[n], n, "pdf", Path(tmp) / f"pdf-{n}") for n in sizes]
        after = qr_rate(texts)
    figures = report(runs, (before + after) / 2)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
