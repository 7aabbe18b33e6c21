"""Where a scan happened: the page's geolocation, else the region of the client's IP address.

A raw IP address is personal information (个人信息保护法), so nothing here keeps one: an address is
resolved to a GB/T 2260 region and forgotten, and :func:`ip_hash` is the only IP-derived value
anyone may store. Coordinates are rounded to about 1 km before they leave
:func:`place_from_request`.

The operator chooses the :class:`RegionResolver`
(:func:`~gimark.trace.ip_regions.load_resolver`): a CIDR table of their own (``.csv``) or an
ip2region database (``.xdb``); without one, scans have a place only when the page's
geolocation was allowed.
"""

from __future__ import annotations

import hmac
import ipaddress
import math
import re
from dataclasses import dataclass, replace
from typing import Final, Literal, Protocol

from gimark.trace.regions import lookup

__all__ = [
    "IPAddress",
    "IPNetwork",
    "Place",
    "RegionResolver",
    "client_ip",
    "ip_hash",
    "place_from_request",
    "unmapped",
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
    return hmac.digest(key, unmapped(ip).packed, "sha256").hex()[:IP_HASH_HEX_CHARS]


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
        return unmapped(ipaddress.ip_address(text))
    except ValueError:
        return None


def unmapped(ip: IPAddress) -> IPAddress:
    """``::ffff:a.b.c.d`` (a dual-stack socket's view of an IPv4 client) as the IPv4 address."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip
