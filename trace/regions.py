"""GB/T 2260 administrative region codes: validation, lookup and distances.

A code is six digits: province (2), prefecture (2), county (2); ``XX0000`` is the province
itself and ``XXXX00`` the prefecture. Every province-level division is known; below that the
table (:mod:`gimark.trace.regions_data`) is partial, and codes change when districts are
redrawn, so a code is valid when its province is known and :func:`lookup` answers with the
most specific place it knows.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Final

from gimark.trace.errors import InvalidRegionError
from gimark.trace.regions_data import PLACES, PROVINCES

__all__ = ["Region", "distance_km", "lookup", "province_of", "validate_region_code"]

EARTH_RADIUS_KM: Final = 6371.0088  # mean radius (IUGG), km

_SIX_DIGITS: Final = re.compile(r"[0-9]{6}")  # not \d: that also matches other scripts' digits


@dataclass(frozen=True)
class Region:
    """A place in the GB/T 2260 table, with an approximate centre for distance estimates."""

    code: str
    name_zh: str
    name_en: str
    lat: float  # degrees north
    lon: float  # degrees east


_REGIONS: Final[dict[str, Region]] = {row[0]: Region(*row) for row in (*PROVINCES, *PLACES)}
_PROVINCE_PREFIXES: Final = frozenset(code[:2] for code, *_ in PROVINCES)


def validate_region_code(code: str) -> str:
    """Return ``code`` normalized (spaces removed, full-width digits folded) if it is valid.

    Valid means six digits whose first two name a province-level division.

    Raises:
        InvalidRegionError: the code is not six digits, or names no known province.
    """
    text = "".join(unicodedata.normalize("NFKC", code).split())
    if len(text) != 6:
        raise InvalidRegionError(
            region=text,
            reason_zh=f"应为6位数字，实为{len(text)}位",
            reason=f"it must be 6 digits, got {len(text)} characters",
        )
    if not _SIX_DIGITS.fullmatch(text):
        raise InvalidRegionError(
            region=text, reason_zh="只能由数字组成", reason="it must consist of digits only"
        )
    if text[:2] not in _PROVINCE_PREFIXES:
        raise InvalidRegionError(
            region=text,
            reason_zh=f"前两位“{text[:2]}”不是省级行政区代码",
            reason=f"'{text[:2]}' (the first two digits) is not a province-level code",
        )
    return text


def province_of(code: str) -> str:
    """The province-level code (``XX0000``) that ``code`` belongs to.

    Raises:
        InvalidRegionError: ``code`` is not a valid region code.
    """
    return validate_region_code(code)[:2] + "0000"


def lookup(code: str) -> Region:
    """The most specific known place for ``code``: itself, else its prefecture, else its province.

    Every valid code resolves, at worst to its province, so a county that is missing from the
    table or was renumbered still gets a name and a position.

    Raises:
        InvalidRegionError: ``code`` is not a valid region code.
    """
    text = validate_region_code(code)
    for candidate in (text, text[:4] + "00"):
        region = _REGIONS.get(candidate)
        if region is not None:
            return region
    return _REGIONS[text[:2] + "0000"]  # validation made sure the province row exists


def distance_km(a: Region | tuple[float, float], b: Region | tuple[float, float]) -> float:
    """Great-circle (haversine) distance in km between two regions or (lat, lon) points."""
    lat1, lon1 = _point(a)
    lat2, lon2 = _point(b)
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    half_dphi = (phi2 - phi1) / 2
    half_dlambda = math.radians(lon2 - lon1) / 2
    h = math.sin(half_dphi) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(half_dlambda) ** 2
    # min() guards asin against rounding just above 1 for antipodal points.
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def _point(place: Region | tuple[float, float]) -> tuple[float, float]:
    if isinstance(place, Region):
        return place.lat, place.lon
    return place
