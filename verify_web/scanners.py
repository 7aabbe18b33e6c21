"""Who is scanning, as far as the page may know: a first-party cookie, a coarse place, the
browser family. Never the IP address itself (personal-information law): a keyed hash at most.

What the client sends is a claim, and the duplicate rules must not be steerable by claims:

- The cookie is the service's own: ``<random id>.<MAC>``, the MAC keyed by the app's secret.
  A cookie it never issued counts as none, so inventing cookies makes no new scanners.
- A scan without a valid cookie is judged as the address it came from within a time window
  (:func:`cookieless`): one address clearing its cookies 30 times is still one scanner.
- A measured point (``lat``/``lon``) counts only where it agrees with the address's region
  (:func:`agreed_point`): invented places far apart cannot make "impossible travel".
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import replace
from typing import Final

from flask import Flask, Request, current_app, g
from werkzeug.wrappers import Response

from gimark.core.settings import Settings
from gimark.labels.scanning.service import Scanning
from gimark.trace.ip_regions import load_resolver
from gimark.trace.places import (
    IPAddress,
    RegionResolver,
    client_ip,
    ip_hash,
    place_from_request,
)
from gimark.trace.regions import distance_km, lookup, province_of
from gimark.trace.regions_data import PROVINCES
from gimark.verify_web.headers import served_over_https

SCANNER_COOKIE: Final = "gm_sid"
COOKIE_MAX_AGE: Final = 2 * 365 * 24 * 3600  # seconds: a package lives on a shelf for months
_TOKEN: Final = re.compile(r"([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{22})")  # id.MAC, 16 bytes each
MAC_BYTES: Final = 16  # 128 bits: forging one is out of reach, and the cookie stays short
# How far a claimed point may be from the centre of the address's province and still agree:
# generous, since a province spans up to ~1,000 km and an address may resolve to a hub.
CLAIM_RADIUS_KM: Final = 500.0
_ATTRIBUTES: Final = f"; Max-Age={COOKIE_MAX_AGE}; Path=/; HttpOnly; SameSite=Lax"
# First match wins: in-app browsers say "Safari" and "Chrome" too.
_FAMILIES: Final = (
    ("MicroMessenger", "wechat"),
    ("AlipayClient", "alipay"),
    ("DingTalk", "dingtalk"),
    (" QQ/", "qq"),
    ("MQQBrowser", "qqbrowser"),
    ("UCBrowser", "uc"),
    ("Edg/", "edge"),
    ("Firefox/", "firefox"),
    ("Chrome/", "chrome"),
    ("Chromium/", "chrome"),
    ("Safari/", "safari"),
    ("curl/", "curl"),
)
RESOLVER_EXTENSION: Final = "gimark_resolver"
IP_KEY_EXTENSION: Final = "gimark_ip_key"
_ADDRESS: Final = "gimark_client_address"  # flask.g: this request's (address, keyed hash)
COOKIE_KEY_EXTENSION: Final = "gimark_cookie_key"


def ua_family(user_agent: str | None) -> str:
    """The browser family (never the full string: it fingerprints people)."""
    text = user_agent or ""
    return next((family for marker, family in _FAMILIES if marker in text), "other")


def scanner_id(request: Request) -> tuple[str, bool]:
    """The scanner's id from its cookie, and whether it is new (then the response must set it).

    Only a cookie this service issued counts: a missing, malformed or tampered one (its MAC
    does not match) is as good as none, and a fresh id is returned to be issued.
    """
    found = _TOKEN.fullmatch(request.cookies.get(SCANNER_COOKIE, ""))
    if found is not None and hmac.compare_digest(found.group(2), _mac(found.group(1))):
        return found.group(1), False
    return secrets.token_urlsafe(16), True


def _mac(scanner: str) -> str:
    key: bytes = current_app.extensions[COOKIE_KEY_EXTENSION]
    digest = hmac.digest(key, scanner.encode(), "sha256")[:MAC_BYTES]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def remember_scanner(response: Response, scanner: str, settings: Settings) -> None:
    """Set the scanner cookie: first-party, long-lived, not readable by scripts.

    Written by hand, not with ``set_cookie``: it is set on most scans (a first visit), and
    its attributes never change. Max-Age without Expires, which every browser that runs
    the page (WeChat's included) honours; the value is a token of URL-safe characters.
    """
    secure = "; Secure" if served_over_https(settings) else ""
    value = f"{scanner}.{_mac(scanner)}"
    response.headers.add("Set-Cookie", f"{SCANNER_COOKIE}={value}{_ATTRIBUTES}{secure}")


def client_address(request: Request) -> tuple[IPAddress | None, str | None]:
    """The request's client address (as the trusted proxies pass it on) and its keyed hash;
    (None, None) without one. Worked out once per request: a scan needs it for the scan
    limit's key and again for the scan's record."""
    found: tuple[IPAddress | None, str | None] | None = g.get(_ADDRESS)
    if found is None:
        settings: Settings = current_app.config["GIMARK_SETTINGS"]
        ip = client_ip(
            request.remote_addr, request.headers.get("X-Forwarded-For"), settings.trusted_proxies
        )
        key: bytes = current_app.extensions[IP_KEY_EXTENSION]
        found = (ip, ip_hash(ip, key) if ip is not None else None)
        setattr(g, _ADDRESS, found)
    return found


def scanning_of(request: Request, scanner: str) -> Scanning:
    """The scan's who and where, from the request."""
    resolver: RegionResolver = current_app.extensions[RESOLVER_EXTENSION]
    ip, hashed = client_address(request)
    place = place_from_request(request.args.get("lat"), request.args.get("lon"), ip, resolver)
    # The IP's region is kept beside a measured point: it tells the point's province cheaply.
    region = place.region or (resolver.region_for(ip) if ip is not None else None)
    coarse = place.coarse()
    claimed = None if coarse.lat is None or coarse.lon is None else (coarse.lat, coarse.lon)
    point = agreed_point(claimed, region)
    return Scanning(
        scanner=scanner,
        region=region,
        point=point,
        # A claim set aside leaves the address's region as the place, as if none was sent.
        place_source=place.source if point is not None or claimed is None else _source(region),
        ua_family=ua_family(request.headers.get("User-Agent")),
        ip_hash=hashed,
    )


def _source(region: str | None) -> str:
    return "ip" if region is not None else "none"


def agreed_point(
    point: tuple[float, float] | None, region: str | None
) -> tuple[float, float] | None:
    """``point`` if it may weigh in the rules: it agrees with ``region`` (the address's), or
    no region is known; else None.

    The query string is the client's to write, so a point is only a claim. It agrees when it
    lies in the region's province: nearer its centre than :data:`CLAIM_RADIUS_KM`, or nearer
    it than any other province's (for the vast western provinces). A traveller on a roaming
    SIM loses a true point to the home province's region, which is coarse but not wrong.
    """
    if point is None or region is None:
        return point
    province = province_of(region)
    if distance_km(point, lookup(province)) <= CLAIM_RADIUS_KM:
        return point
    nearest = min(PROVINCES, key=lambda row: distance_km(point, (row[3], row[4])))
    return point if nearest[0] == province else None


def cookieless(who: Scanning, now: dt.datetime, window_s: float) -> Scanning:
    """``who`` as judged without a valid cookie: one id per address (its keyed hash) and
    window of ``window_s`` seconds, so every cookie-less scan from one address in one window
    is one scanner. Without an address (or with no window), ``who`` as is.

    The id is the one the answer's cookie issues, not a separate ``ip:`` name: a shopper's
    first scan is always cookie-less, and their next, with the cookie, must be the same
    scanner, not a second one. It is a MAC of the hash and the window, as opaque as a random
    id. The cost: people whose first scan came from one address in one window (a household,
    a carrier's shared address) share a scanner, which the rules only under-count.
    """
    if who.ip_hash is None or window_s <= 0:
        return who
    window = int(now.timestamp() // window_s)
    return replace(who, scanner=_keyed_id(f"ip\0{who.ip_hash}\0{window}"))


def _keyed_id(text: str) -> str:
    key: bytes = current_app.extensions[COOKIE_KEY_EXTENSION]
    digest = hmac.digest(key, b"id\0" + text.encode(), "sha256")[:MAC_BYTES]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def init_app(app: Flask) -> None:
    """Load the IP-region resolver once and derive the IP hashing key from the app's secret."""
    settings: Settings = app.config["GIMARK_SETTINGS"]
    app.extensions[RESOLVER_EXTENSION] = load_resolver(settings.ip_regions)
    secret = str(app.config["SECRET_KEY"]).encode()
    app.extensions[IP_KEY_EXTENSION] = hashlib.sha256(b"gimark ip hash\0" + secret).digest()
    # A key of its own (a salt): a MAC of the cookie is never an IP hash, nor the reverse.
    app.extensions[COOKIE_KEY_EXTENSION] = hashlib.sha256(b"gimark scanner\0" + secret).digest()
