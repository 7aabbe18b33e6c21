"""Fixtures of the trace tests: the sample CIDR table, and ip2region files made to order."""

from __future__ import annotations

import struct
from collections.abc import Callable
from ipaddress import ip_address
from pathlib import Path

import pytest

from gimark.trace.ip_regions import CidrTableResolver

SAMPLE = Path(__file__).parent.parent / "data" / "cidr_sample.csv"
Segments = list[tuple[str, str, str]]  # (first address, last address, region text)


@pytest.fixture(scope="session")
def sample() -> CidrTableResolver:
    """The CIDR table the tests ship (tests/data/cidr_sample.csv)."""
    return CidrTableResolver.from_csv(SAMPLE)


@pytest.fixture(scope="session")
def make_xdb() -> Callable[..., Path]:
    """``make_xdb(path, segments, structure=2)``: an ip2region file, laid out as ip2region's
    own maker writes one (maker/python/xdb/maker.py there)."""
    return write_xdb


def write_xdb(path: Path, segments: Segments, structure: int = 2) -> Path:
    """Header, vector index, region texts, then segment entries split per first two bytes."""
    v6 = ip_address(segments[0][0]).version == 6
    bits = 128 if v6 else 32
    size = 38 if v6 else 14
    data = bytearray(256 + 256 * 256 * 8)
    texts: dict[str, int] = {}
    for *_, text in segments:
        if text not in texts:
            texts[text] = len(data)
            data += text.encode()
    index_start = len(data)
    cells: dict[int, list[int]] = {}  # vector cell -> [first entry, one past the last]
    for first, last, text in segments:
        start, end = int(ip_address(first)), int(ip_address(last))
        while start <= end:  # one entry per vector cell, as ip2region's maker splits them
            cell_end = min(end, start | (1 << (bits - 16)) - 1)
            at = len(data)
            if v6:
                data += start.to_bytes(16, "big") + cell_end.to_bytes(16, "big")
            else:
                data += struct.pack("<II", start, cell_end)
            data += struct.pack("<HI", len(text.encode()), texts[text])
            cells.setdefault(start >> (bits - 16), [at, 0])[1] = at + size
            start = cell_end + 1
    for cell, (first_at, end_at) in cells.items():
        struct.pack_into("<II", data, 256 + cell * 8, first_at, end_at)
    struct.pack_into("<HHIII", data, 0, structure, 1, 1_700_000_000, index_start, len(data) - size)
    if structure == 3:
        struct.pack_into("<HH", data, 16, 6 if v6 else 4, 4)
    path.write_bytes(bytes(data))
    return path
