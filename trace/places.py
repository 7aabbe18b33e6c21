"""Where a scan happened: the page's geolocation, else the region of the client's IP address.

A raw IP address is personal information (个人信息保护法), so nothing here keeps one: an address is
resolved to a GB/T 2260 region and forgotten, and :func:`ip_hash` is the only IP-derived value
anyone may store. Coordinates are rounded to about 1 km before they leave
:func:`place_from_request`.

The operator chooses the resolver (:func:`load_resolver`): a CIDR table of their own (``.csv``)
or an ip2region database (``.xdb``); without one, scans have a place only when the page's
geolocation was allowed.
"""

from __future__ import annotations

import bisect
import hmac
import ipaddress
import math
import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final, Literal, Protocol

from gimark.trace.errors import InvalidRegionError, PlaceDataError
from gimark.trace.regions import lookup, validate_region_code
from gimark.trace.regions_data import PLACES, PROVINCES

__all__ = [
    "CidrTableResolver",
    "IPAddress",
    "IPNetwork",
    "NullResolver",
    "Place",
    "RegionResolver",
    "XdbResolver",
    "client_ip",
    "ip_hash",
    "load_resolver",
    "place_from_request",
    "region_code_for_ip2region",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

COARSE_DECIMALS: Final = 2  # 0.01° is about 1.1 km: tells towns apart, not houses
IP_HASH_HEX_CHARS: Final = 32  # 128 bits: collisions stay out of reach at any scan volume


@dataclass(frozen=True)
class Place:
    """The coarse place of one scan; ``source`` says where it came from."""

    region: str | None  # GB/T 2260 code, when known from the IP address
    lat: float | None  # degrees north, when the page's geolocation was allowed
    lon: float | None  # degrees east
    source: Literal["gps", "ip", "none"]

    def coarse(self) -> Place:
        """This place with lat/lon rounded to 2 decimals (about 1 km): what gets stored."""
        if self.lat is None or self.lon is None:
            return self
        return replace(
            self, lat=round(self.lat, COARSE_DECIMALS), lon=round(self.lon, COARSE_DECIMALS)
        )

    def point(self) -> tuple[float, float] | None:
        """(lat, lon) for distances: the coordinates, else the region's centre, else None.

        Raises:
            InvalidRegionError: ``region`` is not a valid GB/T 2260 code.
        """
        if self.lat is not None and self.lon is not None:
            return self.lat, self.lon
        if self.region is not None:
            region = lookup(self.region)
            return region.lat, region.lon
        return None


NOWHERE: Final = Place(None, None, None, "none")


class RegionResolver(Protocol):
    """Anything that maps an IP address to a GB/T 2260 region code (None when unknown)."""

    def region_for(self, ip: IPAddress) -> str | None: ...


class NullResolver:
    """The resolver when the operator configured none: every address is unknown."""

    def region_for(self, ip: IPAddress) -> str | None:
        return None


def load_resolver(path: Path | None) -> RegionResolver:
    """The resolver for the operator's file: ``.csv`` CIDR table, ``.xdb`` ip2region database.

    Raises:
        PlaceDataError: the file is missing, of another kind, or not valid.
    """
    if path is None:
        return NullResolver()
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return CidrTableResolver.from_csv(path)
    if suffix == ".xdb":
        return XdbResolver(path)
    raise PlaceDataError(
        path=path,
        detail_zh="只支持 .csv（CIDR 表）和 .xdb（ip2region）文件",
        detail="only .csv (CIDR table) and .xdb (ip2region) files are supported",
    )


# --- the client's address and place ----------------------------------------------------------


def client_ip(
    remote_addr: str | None, x_forwarded_for: str | None, trusted_proxies: int
) -> IPAddress | None:
    """The client's address behind ``trusted_proxies`` reverse proxies (rightmost-minus-N).

    Each trusted proxy appends the address it saw to X-Forwarded-For, so with N proxies the
    client is the Nth entry from the right; everything further left was written by the client
    and is never believed. With 0 the header is ignored and ``remote_addr`` is the client.

    Walking from the right, a malformed or missing entry stops the walk and the last good hop
    is returned (the proxy that wrote garbage, or ``remote_addr`` when the header is absent):
    a hop we saw is safer than a guess. The app must be reachable only through its proxies,
    or a client that bypasses them chooses its own address. Ports ("a.b.c.d:p", "[v6]:p") are
    dropped, and an IPv4-mapped IPv6 address is returned as IPv4.

    Raises:
        ValueError: ``trusted_proxies`` is negative (a settings bug, caught at start-up).
    """
    if trusted_proxies < 0:
        raise ValueError("trusted_proxies must be 0 or more")
    nearest = _parse_address(remote_addr) if remote_addr else None
    if nearest is None or trusted_proxies == 0 or not x_forwarded_for:
        return nearest
    for entry in reversed(x_forwarded_for.split(",")[-trusted_proxies:]):
        address = _parse_address(entry)
        if address is None:
            break
        nearest = address
    return nearest


def place_from_request(
    lat: str | None, lon: str | None, ip: IPAddress | None, resolver: RegionResolver
) -> Place:
    """The scan's place: valid lat/lon (rounded), else the IP's region, else nowhere.

    Coordinates must both be finite decimal numbers within ±90 / ±180; anywhere on Earth is
    a real place (a tourist abroad scans too). Anything else is ignored, not an error: the
    query string is the scanner's to write.
    """
    latitude, longitude = _coordinate(lat, 90.0), _coordinate(lon, 180.0)
    if latitude is not None and longitude is not None:
        return Place(None, latitude, longitude, "gps")
    region = resolver.region_for(ip) if ip is not None else None
    return Place(region, None, None, "ip") if region is not None else NOWHERE


def ip_hash(ip: IPAddress, key: bytes) -> str:
    """HMAC-SHA256 of the address under a secret key, truncated: the only IP value to store.

    Keyed because the IPv4 space is small enough to hash exhaustively: without the key the
    hash would be the address. Rotating the key unlinks old hashes from new ones. An
    IPv4-mapped IPv6 address hashes as its IPv4 address.

    Raises:
        ValueError: ``key`` is empty.
    """
    if not key:
        raise ValueError("ip_hash needs a non-empty secret key")
    return hmac.digest(key, _unmapped(ip).packed, "sha256").hex()[:IP_HASH_HEX_CHARS]


# Browsers send plain decimals; JavaScript writes tiny values with an exponent (1e-7).
_DECIMAL: Final = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_MAX_NUMBER_CHARS: Final = 40  # a coordinate needs about 12; longer is noise, not parsed


def _coordinate(text: str | None, limit: float) -> float | None:
    if text is None or len(text) > _MAX_NUMBER_CHARS or not _DECIMAL.fullmatch(text.strip()):
        return None
    value = float(text)
    if not math.isfinite(value) or abs(value) > limit:  # 1e999 parses as inf
        return None
    return round(value, COARSE_DECIMALS)


def _parse_address(text: str) -> IPAddress | None:
    text = text.strip()
    if text.startswith("["):  # "[2001:db8::1]:443": some proxies add the port
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:  # "203.0.113.7:51234"; an IPv6 address has two colons or more
        text = text.partition(":")[0]
    try:
        return _unmapped(ipaddress.ip_address(text))
    except ValueError:
        return None


def _unmapped(ip: IPAddress) -> IPAddress:
    """``::ffff:a.b.c.d`` (a dual-stack socket's view of an IPv4 client) as the IPv4 address."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


# --- CIDR table ------------------------------------------------------------------------------


class CidrTableResolver:
    """Longest-prefix match over the operator's CIDR ranges, IPv4 and IPv6.

    Nested ranges are flattened once into disjoint intervals, each owned by its most specific
    range, so a lookup is one binary search over sorted integer starts.
    """

    def __init__(self, table: Mapping[IPNetwork, str]) -> None:
        self._intervals = {
            version: _Intervals(
                [(int(n[0]), int(n[-1]), r) for n, r in table.items() if n.version == version]
            )
            for version in (4, 6)
        }

    @classmethod
    def from_csv(cls, path: Path) -> CidrTableResolver:
        """Load ``cidr,region`` lines; ``#`` starts a comment; an optional header line.

        Raises:
            PlaceDataError: the file cannot be read, is empty, or has invalid lines (all of
                them are listed, with line numbers).
        """
        try:
            text = path.read_text(encoding="utf-8-sig")  # spreadsheets save CSV with a BOM
        except (OSError, UnicodeDecodeError) as exc:
            raise PlaceDataError(path=path, detail_zh=str(exc), detail=str(exc)) from exc
        table, problems = _parse_cidr_lines(text.splitlines())
        if problems:
            raise PlaceDataError(
                path=path,
                detail_zh="；".join(zh for zh, _ in problems),
                detail="; ".join(en for _, en in problems),
            )
        if not table:
            raise PlaceDataError(path=path, detail_zh="没有任何网段", detail="it lists no ranges")
        return cls(table)

    def region_for(self, ip: IPAddress) -> str | None:
        ip = _unmapped(ip)
        return self._intervals[ip.version].find(int(ip))


class _Intervals:
    """Disjoint [start, end] intervals with a region each, sorted by start."""

    def __init__(self, ranges: list[tuple[int, int, str]]) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.regions: list[str] = []
        # CIDR ranges nest or are disjoint. Sorting outer-first and keeping a stack of the
        # ranges that contain the cursor, each stretch goes to the innermost open range.
        stack: list[tuple[int, str]] = []  # (end, region), innermost last
        cursor = 0
        for start, end, region in sorted(ranges, key=lambda r: (r[0], -r[1])):
            cursor = self._close_before(stack, cursor, start)
            if stack:
                self._emit(cursor, start - 1, stack[-1][1])
            stack.append((end, region))
            cursor = start
        self._close_before(stack, cursor, math.inf)

    def _close_before(self, stack: list[tuple[int, str]], cursor: int, start: float) -> int:
        while stack and stack[-1][0] < start:
            end, region = stack.pop()
            self._emit(cursor, end, region)
            cursor = end + 1
        return cursor

    def _emit(self, start: int, end: int, region: str) -> None:
        if start <= end:  # a child that starts or ends where its parent does leaves nothing
            self.starts.append(start)
            self.ends.append(end)
            self.regions.append(region)

    def find(self, value: int) -> str | None:
        i = bisect.bisect_right(self.starts, value) - 1
        return self.regions[i] if i >= 0 and value <= self.ends[i] else None


_MAX_PROBLEMS: Final = 20  # listed in the error; a file with more is wrong throughout


def _parse_cidr_lines(lines: list[str]) -> tuple[dict[IPNetwork, str], list[tuple[str, str]]]:
    """The table and the refused lines as (zh, en) messages, each with its line number."""
    table: dict[IPNetwork, str] = {}
    seen_on: dict[IPNetwork, int] = {}
    problems: list[tuple[str, str]] = []
    for number, raw in enumerate(lines, start=1):
        line = raw.partition("#")[0].strip()
        if not line or (not seen_on and not problems and line.replace(" ", "") == "cidr,region"):
            continue
        try:
            network, region = _parse_cidr_row(line)
            if network in seen_on:
                raise _BadRowError(
                    f"网段 {network} 已在第 {seen_on[network]} 行列出",
                    f"{network} is already listed on line {seen_on[network]}",
                )
        except _BadRowError as exc:
            problems.append((f"第 {number} 行：{exc.zh}", f"line {number}: {exc.en}"))
            continue
        table[network], seen_on[network] = region, number
    if len(problems) > _MAX_PROBLEMS:
        more = len(problems) - _MAX_PROBLEMS
        problems[_MAX_PROBLEMS:] = [(f"另有 {more} 行无效", f"and {more} more invalid lines")]
    return table, problems


class _BadRowError(Exception):
    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh, self.en = zh, en


def _parse_cidr_row(line: str) -> tuple[IPNetwork, str]:
    fields = [field.strip() for field in line.split(",")]
    if len(fields) != 2:
        raise _BadRowError("应为“网段,区划代码”", "expected 'cidr,region'")
    try:
        network = ipaddress.ip_network(fields[0])  # strict: host bits set is a typo
    except ValueError as exc:
        raise _BadRowError(f"网段无效：{exc}", str(exc)) from exc
    try:
        return network, validate_region_code(fields[1])
    except InvalidRegionError as exc:
        raise _BadRowError(exc.message("zh"), exc.message("en")) from exc


# --- ip2region .xdb --------------------------------------------------------------------------

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
        ip = _unmapped(ip)
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
