"""Who is scanning, as far as the page may know: a first-party cookie, a coarse place, the
browser family. Never the IP address itself (personal-information law): a keyed hash at most.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import Final

from flask import Flask, Request, current_app
from werkzeug.wrappers import Response

from gimark.core.settings import Settings
from gimark.labels.scanning.service import Scanning
from gimark.trace.ip_regions import load_resolver
from gimark.trace.places import RegionResolver, client_ip, ip_hash, place_from_request
from gimark.verify_web.headers import served_over_https

SCANNER_COOKIE: Final = "gm_sid"
COOKIE_MAX_AGE: Final = 2 * 365 * 24 * 3600  # seconds: a package lives on a shelf for months
_TOKEN: Final = re.compile(r"[A-Za-z0-9_-]{22}")  # secrets.token_urlsafe(16)
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


def ua_family(user_agent: str | None) -> str:
    """The browser family (never the full string: it fingerprints people)."""
    text = user_agent or ""
    return next((family for marker, family in _FAMILIES if marker in text), "other")


def scanner_id(request: Request) -> tuple[str, bool]:
    """The scanner's cookie value, and whether it is new (then the response must set it)."""
    current = request.cookies.get(SCANNER_COOKIE, "")
    if _TOKEN.fullmatch(current):
        return current, False
    return secrets.token_urlsafe(16), True


def remember_scanner(response: Response, scanner: str, settings: Settings) -> None:
    """Set the scanner cookie: first-party, long-lived, not readable by scripts.

    Written by hand, not with ``set_cookie``: it is set on most scans (a first visit), and
    its attributes never change. Max-Age without Expires, which every browser that runs
    the page (WeChat's included) honours; the value is a token of URL-safe characters.
    """
    secure = "; Secure" if served_over_https(settings) else ""
    response.headers.add("Set-Cookie", f"{SCANNER_COOKIE}={scanner}{_ATTRIBUTES}{secure}")


def scanning_of(request: Request, scanner: str) -> Scanning:
    """The scan's who and where, from the request."""
    settings: Settings = current_app.config["GIMARK_SETTINGS"]
    resolver: RegionResolver = current_app.extensions[RESOLVER_EXTENSION]
    ip = client_ip(
        request.remote_addr, request.headers.get("X-Forwarded-For"), settings.trusted_proxies
    )
    place = place_from_request(request.args.get("lat"), request.args.get("lon"), ip, resolver)
    # The IP's region is kept beside a measured point: it tells the point's province cheaply.
    region = place.region or (resolver.region_for(ip) if ip is not None else None)
    coarse = place.coarse()
    point = (coarse.lat, coarse.lon) if coarse.lat is not None and coarse.lon is not None else None
    return Scanning(
        scanner=scanner,
        region=region,
        point=point,
        place_source=place.source,
        ua_family=ua_family(request.headers.get("User-Agent")),
        ip_hash=ip_hash(ip, current_app.extensions[IP_KEY_EXTENSION]) if ip is not None else None,
    )


def init_app(app: Flask) -> None:
    """Load the IP-region resolver once and derive the IP hashing key from the app's secret."""
    settings: Settings = app.config["GIMARK_SETTINGS"]
    app.extensions[RESOLVER_EXTENSION] = load_resolver(settings.ip_regions)
    secret = str(app.config["SECRET_KEY"]).encode()
    app.extensions[IP_KEY_EXTENSION] = hashlib.sha256(b"gimark ip hash\0" + secret).digest()
