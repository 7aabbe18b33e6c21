"""Benchmark: QR encoders and the label-sheet writers, on one core.

Usage: ``.venv/bin/python bench/sheets.py [--labels N] [--seconds S]``: N labels for the PDF
(default 2,000), S seconds for each encoder (default 1).

Measures the bare QR-matrix rate of every candidate encoder (segno and qrcode with their own
mask search, and with version and mask fixed; zxing-cpp's writer, which gimark uses), then
``qr_matrix``, then whole PDF sheets of N labels, QR encoding included, and its ratio to the bare
rate of the encoder in use, measured in the same run; then PNG and SVG sheets, and the peak
Python heap of a PDF run at two lengths (flat means streaming). Prints a table, then one JSON
line. ``bench/runs.py`` imports the helpers.

Rates are per second of this process's CPU time (user + system), so that other processes on
the machine do not skew them: one core's worth, which is what a one-process run gets.
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import qrcode
import segno
import zxingcpp

from gimark.labels.printing.layout import A4_3x8, Layout
from gimark.labels.printing.qr import qr_matrix
from gimark.labels.printing.sheets import LabelData, write_pdf, write_png, write_svg

BASE = "HTTPS://LABELS.GI.EXAMPLE.CN/V"  # 30 characters: QR texts of 151, as in production
USCC = "91350100M000100Y43"


def qr_texts(count: int, seed: int = 7) -> list[str]:
    """Code URLs of the production length, with random (unsigned) payloads."""
    rng = random.Random(seed)
    return [f"{BASE}/{base64.b32encode(rng.randbytes(75)).decode()}" for _ in range(count)]


def labels(texts: Sequence[str], count: int) -> Iterator[LabelData]:
    """``count`` labels cycling through ``texts``, made as they are consumed."""
    for i in range(count):
        yield LabelData(texts[i % len(texts)], f"{i:04d}-0000-000", USCC, "Longjing Tea")


def _segno_auto(text: str) -> object:
    return segno.make(text, error="m", boost_error=False).matrix


def _segno_fixed(text: str) -> object:
    return segno.make(text, error="m", boost_error=False, version=6, mask=0).matrix


def _qrcode_auto(text: str) -> object:
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    qr.add_data(text)
    qr.make(fit=True)
    return qr.modules


def _qrcode_fixed(text: str) -> object:
    qr = qrcode.QRCode(
        version=6, error_correction=qrcode.constants.ERROR_CORRECT_M, mask_pattern=0, border=0
    )
    qr.add_data(qrcode.util.QRData(text, mode=qrcode.util.MODE_ALPHA_NUM))
    qr.make(fit=False)
    return qr.modules


def _zxing(text: str) -> object:
    barcode = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    return barcode.to_image(add_quiet_zones=False)


ENCODERS: dict[str, Callable[[str], object]] = {
    "segno (mask search)": _segno_auto,
    "segno (version 6, mask 0)": _segno_fixed,
    "qrcode (mask search)": _qrcode_auto,
    "qrcode (version 6, mask 0)": _qrcode_fixed,
    "zxing-cpp (in use)": _zxing,
}
IN_USE = "zxing-cpp (in use)"


def rate(encode: Callable[[str], object], texts: Sequence[str], seconds: float) -> float:
    """Symbols a second, over at least ``seconds`` and at least 20 symbols."""
    encode(texts[0])  # warm-up
    done, start = 0, time.process_time()
    while done < 20 or time.process_time() - start < seconds:
        encode(texts[done % len(texts)])
        done += 1
    return done / (time.process_time() - start)


def timed(write: Callable[[], object], count: int) -> float:
    """Labels a second of one call of ``write`` that handles ``count`` labels."""
    start = time.process_time()
    write()
    return count / (time.process_time() - start)


def pdf_rate(texts: Sequence[str], count: int, layout: Layout = A4_3x8) -> tuple[float, float]:
    """(labels a second, bytes a label) of a PDF run of ``count`` labels."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "run.pdf"
        per_s = timed(lambda: write_pdf(labels(texts, count), path, layout), count)
        return per_s, path.stat().st_size / count


def pdf_peak_heap(texts: Sequence[str], count: int) -> float:
    """Peak Python heap (MB) while writing a PDF of ``count`` labels."""
    with tempfile.TemporaryDirectory() as folder:
        tracemalloc.start()
        write_pdf(labels(texts, count), Path(folder) / "run.pdf", A4_3x8)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak / 1e6


def image_rates(texts: Sequence[str], count: int) -> dict[str, float]:
    """Labels a second of PNG (600 dpi) and SVG sheets."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        return {
            "png": timed(lambda: write_png(labels(texts, count), out / "png", A4_3x8), count),
            "svg": timed(lambda: write_svg(labels(texts, count), out / "svg", A4_3x8), count),
        }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--labels", type=int, default=2000, help="labels in the PDF (2000)")
    parser.add_argument("--seconds", type=float, default=1.0, help="seconds an encoder (1)")
    args = parser.parse_args(argv)
    texts = qr_texts(500)

    print(f"{'measurement':<40} {'per s':>10}")
    bare = {name: rate(encode, texts, args.seconds) for name, encode in ENCODERS.items()}
    for name, per_s in bare.items():
        print(f"{'QR matrix, ' + name:<40} {per_s:>10,.0f}")
    ours = rate(qr_matrix, texts, args.seconds)
    print(f"{'qr_matrix (gimark)':<40} {ours:>10,.0f}")
    pdf_per_s, pdf_bytes = pdf_rate(texts, args.labels)
    bare_again = rate(ENCODERS[IN_USE], texts, args.seconds)  # either side of the PDF run
    in_use = (bare[IN_USE] + bare_again) / 2
    ratio = pdf_per_s / in_use
    print(f"{f'PDF A4 sheets, {args.labels} labels':<40} {pdf_per_s:>10,.0f}")
    print(f"{'  vs bare zxing-cpp matrix':<40} {ratio:>10.2f}")
    print(f"{'  bytes a label':<40} {pdf_bytes:>10,.0f}")
    images = image_rates(texts, 48)
    print(f"{'PNG A4 sheets at 600 dpi, 48 labels':<40} {images['png']:>10,.0f}")
    print(f"{'SVG A4 sheets, 48 labels':<40} {images['svg']:>10,.0f}")
    heap = {n: pdf_peak_heap(texts, n) for n in (1000, 5000)}
    print(f"{'PDF peak Python heap, 1000 labels (MB)':<40} {heap[1000]:>10.1f}")
    print(f"{'PDF peak Python heap, 5000 labels (MB)':<40} {heap[5000]:>10.1f}")

    figures: dict[str, Any] = {
        "encoder": "zxing-cpp",
        "bare_matrix_per_s": round(in_use),
        "qr_matrix_per_s": round(ours),
        "pdf_labels_per_s": round(pdf_per_s),
        "pdf_vs_bare": round(ratio, 3),
        "pdf_bytes_per_label": round(pdf_bytes),
        "png_labels_per_s": round(images["png"]),
        "svg_labels_per_s": round(images["svg"]),
        "pdf_peak_heap_mb": {str(n): round(mb, 2) for n, mb in heap.items()},
        "candidates_per_s": {name: round(per_s) for name, per_s in bare.items()},
    }
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
