"""The web layer's side of the rate limits: keys for an address, a username or a scanner
cookie, and a check that raises the caller's 429 error (counts: :mod:`gimark.core.limits`).

No key holds what it counts by in the clear: addresses go through the keyed
:func:`~gimark.trace.places.ip_hash` of the scan log, other values through an HMAC under the
same key (a username field sometimes holds a mistyped password).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from typing import Final

from flask import current_app, request

from gimark.core.errors import DatabaseUnavailableError, GimarkError
from gimark.core.limits import Backoff, RateLimitedError, hit
from gimark.core.settings import Settings
from gimark.labels.issuing.serials import looks_like_serial
from gimark.verify_web.extensions import database
from gimark.verify_web.scanners import IP_KEY_EXTENSION, client_address

REFUSED_EXTENSION: Final = "gimark_refused_scans"  # app.extensions: address key -> until
MAX_REFUSED: Final = 10_000  # addresses remembered as over the scan limit, per process

__all__ = ["address_key", "check", "limit_scans", "limit_typed_lookup", "value_key"]


def address_key(kind: str) -> str:
    """The key of the request's client address for the limit ``kind``."""
    _ip, digest = client_address(request)
    # No address at all (a unix socket with no proxy header): those requests share one key.
    return f"{kind}:ip:{digest or 'none'}"


def value_key(kind: str, value: str) -> str:
    """The key of ``value`` (a username, a scanner cookie) for the limit ``kind``."""
    digest = hmac.digest(current_app.extensions[IP_KEY_EXTENSION], value.encode(), hashlib.sha256)
    return f"{kind}:v:{digest.hex()[:32]}"


def check(
    key: str,
    limit: int,
    window: int,
    *,
    backoff: Backoff | None = None,
    error: type[GimarkError] = RateLimitedError,
) -> None:
    """Count one attempt on ``key``; a limit or window of 0 is a limit switched off.

    Raises:
        RateLimitedError: (or ``error``, given ``retry_after``) the attempt is over the limit.
        DatabaseUnavailableError: the database is away.
    """
    if limit <= 0 or window <= 0:
        return
    decision = hit(database(current_app), key, limit, window, backoff=backoff)
    if not decision.allowed:
        raise error(retry_after=decision.retry_after_seconds)


def limit_typed_lookup(text: str) -> None:
    """Count a lookup of ``text`` against its address if it is a typed serial.

    Only typed serials: serials are short and sequential, so a run of them maps which labels
    exist, while a scanned code must carry a valid signature to tell anything. A text with a
    "/" is a QR URL even if it is short, as the verifier reads it too.

    Raises:
        RateLimitedError: too many typed serials from this address.
        DatabaseUnavailableError: the database is away.
    """
    if "/" in text or not looks_like_serial(text):
        return
    settings: Settings = current_app.config["GIMARK_SETTINGS"]
    limit, window = settings.limit_typed_lookups_per_address, settings.limit_typed_lookup_window
    check(address_key("lookup"), limit, window)


def limit_scans() -> None:
    """Count a scan against its address.

    Sampled: one scan in ``limit_scan_sample`` is counted, with that weight, so most scans
    cost no write; the count stays the database's, shared by every worker and server. A
    sampled count that goes over the limit is remembered by this process until the window
    ends (a decision, not a count), so every later scan from the address is refused here at
    once, and another process learns it from its own next sampled scan of that address.

    With the database away the scan is let through: it is answered from what can be said
    without the database and records nothing, so there is nothing for a flood to fill.

    Raises:
        RateLimitedError: too many scans from this address.
    """
    settings: Settings = current_app.config["GIMARK_SETTINGS"]
    limit, window = settings.limit_scans_per_address, settings.limit_scan_window
    if limit <= 0 or window <= 0:
        return
    key, now = address_key("scan"), int(time.time())
    refused: dict[str, int] = current_app.extensions.setdefault(REFUSED_EXTENSION, {})
    until = refused.get(key)
    if until is not None:
        if until > now:
            raise RateLimitedError(retry_after=until - now)
        refused.pop(key, None)  # pop, not del: another thread may have done it
    sample = max(settings.limit_scan_sample, 1)
    if sample > 1 and secrets.randbelow(sample):
        return
    try:
        decision = hit(database(current_app), key, limit, window, weight=sample)
    except DatabaseUnavailableError:
        return
    if not decision.allowed:
        _remember(refused, key, now + decision.retry_after_seconds, now)
        raise RateLimitedError(retry_after=decision.retry_after_seconds)


def _remember(refused: dict[str, int], key: str, until: int, now: int) -> None:
    # Bounded: a flood from many addresses must not grow a worker without end.
    if len(refused) >= MAX_REFUSED:
        for stale in [k for k, end in list(refused.items()) if end <= now]:
            refused.pop(stale, None)
        if len(refused) >= MAX_REFUSED:
            refused.clear()  # they are counted again, one sampled scan each
    refused[key] = until
