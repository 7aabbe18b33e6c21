"""Duplicate suspicion: the pattern of the scans of one serial, kept as an O(1) summary.

A genuine package is one physical thing: it sits in one shop, goes home with one household and
perhaps travels once, as a gift. A copied label is on many packages at once, in many places.
Three rules tell the two apart; each is a reason code of the verdict:

- ``many_scanners``: more distinct scanners than a household, its shop clerk and a gift
  recipient make; or fewer, but in three places or more, far apart;
- ``impossible_travel``: scans by different scanners in two places too far apart for the
  time between them, each place vouched for by two scanners (or both positions measured);
- ``outside_sales_region``: several distinct scanners, or scanners in two provinces, far
  outside the product's sales regions.

Places are coarse: an IP resolves to a city on a fixed line but only to the carrier's
provincial hub on mobile data, and a roaming SIM's data comes out in its home province.
So every distance is the shortest one the two places' precision allows, a scanner is never
judged against its own scans (one phone cannot be in two places: its jumps are IP noise),
and one scanner's place alone never makes a conflict.

The scan path cannot replay a serial's history, so :func:`assess` folds one scan into a
:class:`SerialSummary` of bounded size (one database row per scanned serial) and returns the
new summary. Whether the scanner is new comes from the database, which keeps (serial,
scanner) under a unique key: repeat scans by the same scanner count once.

Flags are sticky. A copied label stays copied, so once a serial is flagged every later scan
carries the reasons, the genuine buyer's too, and the serial stays on the inspectors' list.

Every threshold is a field of :class:`DetectionConfig`; the defaults are tuned on the market
simulator in ``tests/simulation/market.py`` (``bench/detection.py`` reports the figures).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from typing import Final

from gimark.core.errors import ConfigurationError

# The verdict is the judge's; the scan path and the market simulator still import it from here.
from gimark.labels.scanning.reasons import DUPLICATE_REASONS
from gimark.trace.errors import InvalidRegionError
from gimark.trace.regions import distance_km, lookup

__all__ = [
    "Assessment",
    "DetectionConfig",
    "Scan",
    "SerialSummary",
    "Site",
    "assess",
    "decode_sites",
    "encode_sites",
]

Point = tuple[float, float]  # (lat, lon), degrees

_MAX_PROVINCES: Final = 4  # outside provinces remembered per serial: the rule needs two


@dataclass(frozen=True)
class DetectionConfig:
    """The thresholds of the duplicate rules; the defaults are the tuned ones."""

    # many_scanners: a household of three, its shop clerk and a gift recipient make five.
    max_scanners: int = 5  # distinct scanners; one more is many_scanners
    # A package is seen at home and perhaps where it was given, not in three places.
    spread_scanners: int = 3  # distinct scanners …
    spread_sites: int = 3  # … in at least this many places (see min_travel_km)
    # impossible_travel
    max_speed_kmh: float = 900.0  # km/h: an airliner's cruise, faster than any trip
    travel_overhead_h: float = 1.0  # hours of grace: no trip is done door to door faster
    min_travel_km: float = 150.0  # km of certain distance; closer places count as one
    travel_conflicts: int = 1  # conflicting scans before flagging
    travel_confirmed_only: bool = True  # judge only places two scanners saw (or measured)
    # outside_sales_region
    outside_scanners: int = 4  # distinct scanners first seen outside before flagging …
    outside_provinces: int = 2  # … or seen outside in this many different provinces
    outside_margin_km: float = 0.0  # km beyond a sales region's radius still inside
    # How far the real place may be from the point given, by where the point came from.
    measured_radius_km: float = 5.0  # km: browser geolocation
    county_radius_km: float = 30.0  # km: a county or district centroid
    prefecture_radius_km: float = 80.0  # km: a prefecture (city) centroid
    province_radius_km: float = 350.0  # km: a province centroid (Hunan's corners are ~350 off)
    compact_provinces: tuple[str, ...] = ("110000", "120000", "310000", "810000", "820000")
    compact_radius_km: float = 80.0  # km: the municipalities and SARs above are city-sized
    max_sites: int = 4  # places remembered per serial: bounds the summary's size
    # Cookie-less scans from one address within this window count as one scanner (see
    # verify_web/scanners.py): a cleared cookie must not make a new one.
    cookieless_window_s: float = 3600.0  # seconds

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> DetectionConfig:
        """A config from a mapping (a TOML table, JSON, settings); missing keys keep defaults.

        Raises:
            ConfigurationError: an unknown key, or a value of the wrong type or negative.
        """
        defaults = cls()
        known = {f.name for f in fields(cls)}
        values: dict[str, object] = {}
        for key, value in data.items():
            if key not in known:
                raise _config_error(f"unknown detection setting {key!r}")
            values[key] = _coerce(key, value, getattr(defaults, key))
        return replace(defaults, **values)  # type: ignore[arg-type]  # checked by _coerce


def _coerce(key: str, value: object, default: object) -> object:
    ok: object = None
    if isinstance(default, bool):
        ok = value if isinstance(value, bool) else None
    elif isinstance(default, tuple):
        ok = tuple(value) if isinstance(value, list | tuple) else None
        ok = ok if ok is not None and all(isinstance(v, str) for v in ok) else None
    elif isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        ok = None  # numbers only, and no threshold or distance is negative
    elif isinstance(default, int):
        ok = value if isinstance(value, int) else None
    else:
        ok = float(value)
    if ok is None:
        raise _config_error(f"detection setting {key!r} has an invalid value {value!r}")
    return ok


def _config_error(detail: str) -> ConfigurationError:
    return ConfigurationError(detail=detail, detail_zh=f"重复码检测设置有误：{detail}")


@dataclass(frozen=True)
class Scan:
    """One scan as the rules see it.

    ``point`` is a measured position (browser geolocation), None without one; ``region`` is
    the GB/T 2260 code the client IP resolves to, given with or without a point, None when
    the IP does not resolve. Repeat scans are told apart by ``scanner`` (the gm_sid cookie).
    """

    at: datetime  # timezone-aware
    scanner: str
    point: Point | None = None
    region: str | None = None


@dataclass(frozen=True)
class Site:
    """A place where the serial was scanned: a point, how precise it is, and who was there."""

    lat: float
    lon: float
    radius_km: float  # the real place may be this far from (lat, lon)
    last_at: datetime
    scanner: str  # the first scanner seen here
    last_scanner: str
    confirmed: bool = False  # a second, different scanner was seen here
    province: str | None = None  # two-digit prefix, when a region code placed it


@dataclass(frozen=True)
class SerialSummary:
    """Everything the rules keep about one serial: bounded in size whatever the scan count."""

    scan_count: int
    scanner_count: int  # distinct scanners
    first_at: datetime
    first_region: str | None
    last_at: datetime
    last_scanner: str
    last_region: str | None
    outside_scanners: int = 0  # distinct scanners whose first scan was outside
    outside_provinces: tuple[str, ...] = ()  # their provinces (two-digit prefixes), at most 4
    travel_conflicts: int = 0  # scans too far from a confirmed place for the time
    site_count: int = 0  # distinct places ever seen (``sites`` keeps the latest few)
    sites: tuple[Site, ...] = ()  # at most DetectionConfig.max_sites
    reasons: tuple[str, ...] = ()  # flags so far, sticky, in DUPLICATE_REASONS order
    flagged_at: datetime | None = None


@dataclass(frozen=True)
class Assessment:
    """The duplicate reasons that hold after a scan (sticky: all so far) and the new summary."""

    reasons: tuple[str, ...]
    summary: SerialSummary


@dataclass(frozen=True)
class _Fix:
    """Where a scan was: a point, how far off it may be, its province when known."""

    lat: float
    lon: float
    radius_km: float
    province: str | None
    measured: bool = False


_DEFAULT: Final = DetectionConfig()


def assess(
    summary: SerialSummary | None,
    scan: Scan,
    is_new_scanner: bool,
    sales_regions: Sequence[str],
    config: DetectionConfig = _DEFAULT,
) -> Assessment:
    """Fold ``scan`` into ``summary`` (None for a serial's first scan) and judge the result.

    ``is_new_scanner`` says whether this scanner had not scanned this serial before (the
    database knows); ``sales_regions`` are GB/T 2260 codes, empty for "sold everywhere".
    """
    fix = _fix_of(scan, config)
    new = is_new_scanner or summary is None
    outside = new and fix is not None and _is_outside(fix, scan, sales_regions, config)
    if summary is None:
        summary = SerialSummary(0, 0, scan.at, scan.region, scan.at, scan.scanner, scan.region)
    sites, added, conflict = summary.sites, False, False
    if fix is not None:
        home = _home(summary.sites, fix, config)
        conflict = _conflicts(summary.sites, home, fix, scan, config)
        sites, added = _place(summary.sites, home, fix, scan, config)
    provinces = summary.outside_provinces
    if outside and fix and fix.province and fix.province not in provinces:
        provinces = (*provinces, fix.province)[-_MAX_PROVINCES:]
    summary = replace(
        summary,
        scan_count=summary.scan_count + 1,
        scanner_count=summary.scanner_count + new,
        first_at=min(summary.first_at, scan.at),
        last_at=max(summary.last_at, scan.at),
        last_scanner=scan.scanner,
        last_region=scan.region,
        outside_scanners=summary.outside_scanners + outside,
        outside_provinces=provinces,
        travel_conflicts=summary.travel_conflicts + conflict,
        site_count=summary.site_count + added,
        sites=sites,
    )
    reasons = _flags(summary, config)
    if reasons != summary.reasons:
        summary = replace(summary, reasons=reasons, flagged_at=summary.flagged_at or scan.at)
    return Assessment(reasons, summary)


def _flags(summary: SerialSummary, config: DetectionConfig) -> tuple[str, ...]:
    held = {
        "many_scanners": summary.scanner_count > config.max_scanners or _spread(summary, config),
        "impossible_travel": summary.travel_conflicts >= max(1, config.travel_conflicts),
        "outside_sales_region": summary.outside_scanners >= max(1, config.outside_scanners)
        or len(summary.outside_provinces) >= max(1, config.outside_provinces),
    }
    return tuple(r for r in DUPLICATE_REASONS if held[r] or r in summary.reasons)


def _spread(summary: SerialSummary, config: DetectionConfig) -> bool:
    return (
        summary.scanner_count >= config.spread_scanners
        and summary.site_count >= config.spread_sites
    )


# --- places ------------------------------------------------------------------------------------


def _fix_of(scan: Scan, config: DetectionConfig) -> _Fix | None:
    area = _region_fix(scan.region, config) if scan.region else None
    if scan.point is None:
        return area
    lat, lon = scan.point
    fix = _Fix(lat, lon, config.measured_radius_km, None, measured=True)
    province = _region_fix(scan.region[:2] + "0000", config) if scan.region else None
    if province is not None and _gap_km(fix, province) == 0:
        # The IP's province agrees with the measured point (only the province: a mobile IP
        # names the carrier's hub city), so the point is in that province.
        return replace(fix, province=province.province)
    return fix


def _region_fix(code: str, config: DetectionConfig) -> _Fix | None:
    centre = _centroid(code)
    if centre is None:
        return None
    resolved, lat, lon = centre
    return _Fix(lat, lon, _radius(resolved, config), resolved[:2])


@functools.lru_cache(maxsize=4096)
def _centroid(code: str) -> tuple[str, float, float] | None:
    # The resolved code, not the given one: lookup falls back to the province for prefectures
    # the table lacks, and then the point is only as good as a province's.
    try:
        region = lookup(code)
    except InvalidRegionError:
        return None  # a resolver's garbage must not break a scan: it is no place
    return region.code, region.lat, region.lon


def _radius(code: str, config: DetectionConfig) -> float:
    if code in config.compact_provinces:
        return config.compact_radius_km
    if code.endswith("0000"):
        return config.province_radius_km
    if code.endswith("00"):
        return config.prefecture_radius_km
    return config.county_radius_km


def _gap_km(a: _Fix | Site, b: _Fix | Site) -> float:
    """The shortest distance between two places that their precision allows."""
    return max(0.0, distance_km((a.lat, a.lon), (b.lat, b.lon)) - a.radius_km - b.radius_km)


def _is_outside(
    fix: _Fix, scan: Scan, sales_regions: Sequence[str], config: DetectionConfig
) -> bool:
    if not sales_regions:
        return False  # sold everywhere: nothing is outside
    if not fix.measured and scan.region:
        # Only the IP's region. Its province is reliable enough (the carriers' hubs are in
        # the province; roaming SIMs are the exception the thresholds allow for).
        return not any(_within(scan.region, sales) for sales in sales_regions)
    # A measured point: outside when it is beyond every sales region's radius.
    areas = [a for a in (_region_fix(s, config) for s in sales_regions) if a is not None]
    return bool(areas) and min(_gap_km(fix, a) for a in areas) > config.outside_margin_km


def _within(region: str, sales_region: str) -> bool:
    prefix = sales_region
    while prefix.endswith("00"):  # 430000 covers 43xxxx, 430900 covers 4309xx
        prefix = prefix[:-2]
    return region.startswith(prefix)


# --- sites and travel ---------------------------------------------------------------------------


def _conflicts(
    sites: Sequence[Site], home: int | None, fix: _Fix, scan: Scan, config: DetectionConfig
) -> bool:
    """Whether ``scan`` is too far from another recent place for the time since its last scan.

    ``home`` is the index of the site the scan joins (None: it opens one). An IP place seen
    by one scanner may be a roaming SIM's home province or a resolver's mistake, and one
    roaming phone in a household must not make a copy: unless both positions are measured,
    both places must be confirmed, each seen by two scanners.
    """
    here = sites[home] if home is not None else None
    confirmed = here is not None and (here.confirmed or here.scanner != scan.scanner)
    others = (site for index, site in enumerate(sites) if index != home)
    return any(_too_far(site, confirmed, fix, scan, config) for site in others)


def _too_far(site: Site, confirmed: bool, fix: _Fix, scan: Scan, config: DetectionConfig) -> bool:
    if scan.scanner in (site.scanner, site.last_scanner):
        return False  # one phone's jumps are IP noise, not two packages
    both_measured = fix.measured and site.radius_km <= config.measured_radius_km
    real = both_measured or (site.confirmed and confirmed)
    if config.travel_confirmed_only and not real:
        return False
    if not both_measured and fix.province is not None and fix.province == site.province:
        return False  # the carriers' hubs put any city of a province at its capital
    gap = _gap_km(fix, site)
    if gap <= config.min_travel_km:
        return False
    hours = abs((scan.at - site.last_at).total_seconds()) / 3600
    return hours < config.travel_overhead_h + gap / config.max_speed_kmh


def _home(sites: Sequence[Site], fix: _Fix, config: DetectionConfig) -> int | None:
    """The index of the site a scan at ``fix`` belongs to, None for a new place.

    That is the nearest site it could be at (no certain distance beyond min_travel_km) in the
    same province: a province code is the reliable part of an IP's place, so two provinces
    are two places even when their coarse centroids cannot be told apart.
    """
    candidates = [
        (distance_km((site.lat, site.lon), (fix.lat, fix.lon)), index)
        for index, site in enumerate(sites)
        if _gap_km(site, fix) <= config.min_travel_km
        and (site.province is None or fix.province is None or site.province == fix.province)
    ]
    return min(candidates)[1] if candidates else None


def _place(
    sites: tuple[Site, ...], home: int | None, fix: _Fix, scan: Scan, config: DetectionConfig
) -> tuple[tuple[Site, ...], bool]:
    """The sites with ``scan`` added at ``home`` (None: a new site), and whether it is new."""
    if home is not None:
        return (*sites[:home], _merge(sites[home], fix, scan), *sites[home + 1 :]), False
    site = Site(fix.lat, fix.lon, fix.radius_km, scan.at, scan.scanner, scan.scanner)
    site = replace(site, province=fix.province)
    # When full, forget the place seen longest ago: travel is judged against recent ones.
    kept = sorted(sites, key=lambda s: s.last_at)[max(0, len(sites) - config.max_sites + 1) :]
    return (*kept, site), True


def _merge(site: Site, fix: _Fix, scan: Scan) -> Site:
    precise = fix.radius_km < site.radius_km  # a measured point beats a province's centroid
    return Site(
        fix.lat if precise else site.lat,
        fix.lon if precise else site.lon,
        fix.radius_km if precise else site.radius_km,
        max(site.last_at, scan.at),
        site.scanner,
        scan.scanner,
        site.confirmed or scan.scanner != site.scanner,
        site.province or fix.province,
    )


def encode_sites(sites: Sequence[Site]) -> str:
    """The sites as compact JSON, for the summary's text column."""
    rows = [_site_row(s) for s in sites]
    return json.dumps(rows, separators=(",", ":"), ensure_ascii=False)


def _site_row(s: Site) -> list[object]:
    when = s.last_at.timestamp()
    return [s.lat, s.lon, s.radius_km, when, s.scanner, s.last_scanner, s.confirmed, s.province]


def decode_sites(text: str | None) -> tuple[Site, ...]:
    """The sites stored by :func:`encode_sites` (None or "" for none)."""
    return tuple(
        Site(lat, lon, radius, datetime.fromtimestamp(at, UTC), first, last, confirmed, province)
        for lat, lon, radius, at, first, last, confirmed, province in json.loads(text or "[]")
    )
