"""IP address → GB/T 2260 region: the resolvers an operator can load.

A CIDR table of the operator's own (``.csv``: ``cidr,region`` lines, longest prefix wins) or
an ip2region database (``.xdb``, :mod:`gimark.trace.ip2region`); without either, every address
is unknown. Files are read once at start-up and refused whole when invalid.
"""

from __future__ import annotations

import bisect
import ipaddress
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from gimark.trace.errors import InvalidRegionError, PlaceDataError
from gimark.trace.ip2region import XdbResolver
from gimark.trace.places import IPAddress, IPNetwork, RegionResolver, unmapped
from gimark.trace.regions import validate_region_code

__all__ = ["CidrTableResolver", "NullResolver", "load_resolver"]


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
        ip = unmapped(ip)
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
