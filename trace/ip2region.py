"""ip2region's ``.xdb`` databases: the reader, and its region texts as GB/T 2260 codes.

The layout is ip2region's own (its maker and searcher, structures 2 and 3); the texts name a
country, province and city in Chinese, which are matched to the codes of
:mod:`gimark.trace.regions_data`.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from pathlib import Path
from typing import Final, Literal

from gimark.trace.errors import PlaceDataError
from gimark.trace.places import IPAddress, unmapped
from gimark.trace.regions_data import PLACES, PROVINCES

__all__ = ["XdbResolver", "region_code_for_ip2region"]

_XDB_HEADER: Final = 256  # bytes
_XDB_VECTOR_CELLS: Final = 256 * 256  # one cell per first two bytes of the address
_XDB_VECTOR_END: Final = _XDB_HEADER + _XDB_VECTOR_CELLS * 8  # a cell: (first, end) u32 LE


class XdbResolver:
    """Reads an ip2region ``.xdb`` file (structure 2: IPv4; structure 3: IPv4 or IPv6).

    Layout, all little-endian: a 256-byte header (u16 structure version at 0; for version 3,
    u16 IP version 4 or 6 at 16); a vector index of 256×256 cells of (first, end) u32 offsets,
    cell = the address's first two bytes, ``end`` one past the cell's last segment entry;
    segment entries of (start ip, end ip, u16 text length, u32 text offset), with IPv4
    addresses as u32 LE (14 bytes) and IPv6 as 16 bytes big-endian (38 bytes). The whole file
    is read into memory once; lookups never touch the disk.
    """

    def __init__(self, path: Path) -> None:
        try:
            self._data = path.read_bytes()
        except OSError as exc:
            raise PlaceDataError(path=path, detail_zh=str(exc), detail=str(exc)) from exc
        self._version = _xdb_ip_version(self._data, path)
        self._width = 4 if self._version == 4 else 16  # bytes per address
        self._entry = 2 * self._width + 6  # start, end, u16 text length, u32 text offset
        # IPv4 is stored as u32 LE (compatibility with structure 2), IPv6 in network order.
        self._order: Literal["little", "big"] = "little" if self._version == 4 else "big"
        _check_vector(self._data, self._entry, path)
        self._codes: dict[int, str | None] = {}  # text offset -> code: few distinct texts

    def region_for(self, ip: IPAddress) -> str | None:
        ip = unmapped(ip)
        if ip.version != self._version:
            return None
        found = self._search(ip.packed)
        if found is None:
            return None
        length, offset = found
        if offset not in self._codes:
            text = self._data[offset : offset + length].decode("utf-8", errors="replace")
            self._codes[offset] = region_code_for_ip2region(text)
        return self._codes[offset]

    def _search(self, packed: bytes) -> tuple[int, int] | None:
        """(text length, text offset) of the segment holding the address, by binary search."""
        data, width, order = self._data, self._width, self._order
        cell = _XDB_HEADER + 8 * (packed[0] * 256 + packed[1])
        first, end = struct.unpack_from("<II", data, cell)
        key = int.from_bytes(packed, "big")
        low, high = 0, (end - first) // self._entry - 1
        while low <= high:
            middle = (low + high) // 2
            at = first + middle * self._entry
            if key < int.from_bytes(data[at : at + width], order):
                high = middle - 1
            elif key > int.from_bytes(data[at + width : at + 2 * width], order):
                low = middle + 1
            else:
                length, offset = struct.unpack_from("<HI", data, at + 2 * width)
                return length, offset
        return None


def _xdb_ip_version(data: bytes, path: Path) -> int:
    if len(data) < _XDB_VECTOR_END:
        raise PlaceDataError(
            path=path, detail_zh="文件太短，不是 xdb 文件", detail="too short for an xdb file"
        )
    structure, ip_version = struct.unpack_from("<H14xH", data)  # u16 at 0, u16 at 16
    if structure == 2:
        return 4
    if structure == 3 and ip_version in (4, 6):
        return int(ip_version)  # struct gives Any
    raise PlaceDataError(
        path=path,
        detail_zh=f"不支持的 xdb 结构版本 {structure}（IP 版本 {ip_version}）",
        detail=f"unsupported xdb structure {structure} (IP version {ip_version})",
    )


def _check_vector(data: bytes, entry: int, path: Path) -> None:
    """Refuse a corrupt index at load time, so that a lookup can never read out of bounds."""
    vector = data[_XDB_HEADER:_XDB_VECTOR_END]
    for cell, (first, end) in enumerate(struct.iter_unpack("<II", vector)):
        if first > end or end > len(data) or (end - first) % entry:
            raise PlaceDataError(
                path=path,
                detail_zh=f"向量索引第 {cell} 项损坏",
                detail=f"vector index cell {cell} is corrupt",
            )


# ip2region texts are "国家|区域|省份|城市|ISP" (data before 2025-09, 区域 mostly "0") or
# "国家|省份|城市|ISP|ISO" (structure 3 data). The province is whichever of the second and third
# fields names one; the city follows it. Provinces come short for autonomous regions (新疆),
# autonomous prefectures short (湘西), other names with 省/市/地区; see data/README_zh.md there.
_SUFFIXES: Final = ("特别行政区", "自治区", "自治州", "地区", "省", "市", "盟")


def _short(name: str) -> str:
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def _city_codes() -> dict[str, dict[str, str]]:
    """Short name -> code of the cities ip2region names, per two-digit province prefix.

    Those are the prefecture-level places, and the county-level cities that the province
    governs directly (code XX90XX, such as 济源市).
    """
    cities: dict[str, dict[str, str]] = {}
    for code, name, *_ in PLACES:
        if code[4:] == "00" or code[2:4] == "90":
            cities.setdefault(code[:2], {})[_short(name)] = code
    return cities


_PROVINCE_CODES: Final = {_short(name): code for code, name, *_ in PROVINCES}
_CITY_CODES: Final = _city_codes()


def _match(name: str, codes: Mapping[str, str]) -> str | None:
    """Exact short name, else the one name it is a prefix of (广西 → 广西壮族自治区)."""
    short = _short(name)
    if short in codes:
        return codes[short]
    if len(short) < 2:  # "0" and "" mean unknown in ip2region; one character says too little
        return None
    found = {code for key, code in codes.items() if key.startswith(short)}
    return found.pop() if len(found) == 1 else None


def region_code_for_ip2region(text: str) -> str | None:
    """The GB/T 2260 code for an ip2region region text: the city's when known, else the province's.

    None outside China and when the text names no province ("中国|0|0|0|0", "0|0|0|内网IP|内网IP").
    """
    fields = text.split("|")
    if fields[0] != "中国":
        return None
    for i in (1, 2):
        province = _match(fields[i], _PROVINCE_CODES) if i < len(fields) else None
        if province is not None:
            city_name = fields[i + 1] if i + 1 < len(fields) else ""
            city = _match(city_name, _CITY_CODES.get(province[:2], {})) if city_name else None
            return city or province
    return None
