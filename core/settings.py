"""Settings read from the environment, as one typed value passed around explicitly."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from gimark.core.errors import ConfigurationError

# For development only: codes printed under it open on the machine that issued them alone.
DEFAULT_BASE_URL = "HTTP://127.0.0.1:8000/V"
# The QR alphanumeric set without the space: a URL of these stays in alphanumeric mode.
_QR_ALPHANUMERIC_URL = re.compile(r"HTTPS?://[0-9A-Z$%*+\-.:][0-9A-Z$%*+\-./:]*")
_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


@dataclass(frozen=True)
class Settings:
    """Where gimark keeps its state and how it names its codes.

    ``home`` holds the SQLite database, the encrypted private keys and uploaded files.
    """

    home: Path = Path("instance")
    database_url: str = ""  # empty: the SQLite file inside ``home``
    base_url: str = DEFAULT_BASE_URL  # the QR URL base, as printed_base() accepts it
    # Other bases whose codes this service also accepts (a domain moved, a second issuer).
    extra_bases: tuple[str, ...] = field(default_factory=tuple)
    key_passphrase: str | None = field(default=None, repr=False)
    max_batch_quantity: int = 10_000_000  # labels
    # X-Forwarded-For is believed only for this many proxies in front of the app.
    trusted_proxies: int = 0
    ip_regions: Path | None = None  # CIDR table (.csv) or ip2region file (.xdb) for IP places
    detection: Path | None = None  # JSON file of duplicate-detection thresholds
    # Signs portal sessions; None: a random key kept in ``home`` (see verify_web.app).
    secret_key: str | None = field(default=None, repr=False)
    # What ``gimark serve`` writes per request: "private" (method, path without its query,
    # status, duration), "full" (gunicorn's combined format: adds client address, query,
    # referrer, User-Agent: personal information), or "off".
    access_log: str = "private"
    # Abuse limits, counted in the database for every worker and server alike. Generous: a
    # shop scanning its shelf or an office behind one address is not an attack. 0 switches
    # one limit off.
    limit_login_failures: int = 5  # sign-in attempts per username before a lockout
    limit_login_window: int = 900  # seconds in which those attempts count
    limit_login_lockout: int = 60  # seconds of the first lockout; each next one doubles
    limit_login_lockout_max: int = 3600  # seconds: the longest lockout
    limit_login_per_address: int = 100  # sign-in attempts per address per login window
    limit_reports_per_address: int = 30  # reports per address per report window
    limit_reports_per_scanner: int = 10  # reports per scanner cookie per report window
    limit_photos_per_address: int = 10  # reports with a photo, per address per report window
    limit_photos_per_scanner: int = 5  # reports with a photo, per scanner per report window
    limit_report_window: int = 3600  # seconds
    # Typed serials only (a scanned code carries a signature; a typed serial can be guessed).
    limit_typed_lookups_per_address: int = 600  # lookups per address per lookup window
    limit_typed_lookup_window: int = 3600  # seconds
    # Every scan a person makes (HEADs and previews are not scans): a flood stopper, far above
    # a shop's clerks scanning a shelf or a carrier's shared address at a busy hour.
    limit_scans_per_address: int = 3000  # scans per address per scan window
    limit_scan_window: int = 600  # seconds
    # One scan in this many is counted, with this weight: the count is a write, and on every
    # scan it cost 40 % of verification throughput (bench/verify.py). 1: count every scan.
    limit_scan_sample: int = 16
    limit_upload_bytes: int = 20_000_000_000  # bytes of reporters' photos kept in all; 0: no cap

    @property
    def effective_database_url(self) -> str:
        """The configured database URL, or the SQLite file in ``home``."""
        return self.database_url or f"sqlite:///{(self.home / 'gimark.sqlite3').resolve()}"

    @property
    def keys_dir(self) -> Path:
        """Folder of the encrypted private key files (mode 0700)."""
        return self.home / "keys"

    @property
    def published_status_list(self) -> Path:
        """The signed status list ``gimark status publish`` writes and the web tier serves.

        A fixed place, not a setting: the signing timer and the web workers share ``home``.
        """
        return self.home / "published" / "status.json"

    @property
    def bases(self) -> tuple[str, ...]:
        """Every URL base a scanned code may start with, the primary one first."""
        return (self.base_url, *self.extra_bases)

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with some fields replaced (tests and the CLI's options use this)."""
        return replace(self, **changes)


def printed_base(base: str) -> str:
    """``base`` without its trailing slashes, if codes can be printed under it: an
    ``HTTP://`` or ``HTTPS://`` URL with a host, written only in the QR alphanumeric set
    (``0-9 A-Z $ % * + - . / :``, so upper case and no space). The rule of
    ``docs/code-format.md``, section 1.4, for the configured base and for every QR text.

    Raises:
        ConfigurationError: ``base`` is anything else.
    """
    trimmed = base.rstrip("/")
    if not _QR_ALPHANUMERIC_URL.fullmatch(trimmed):
        raise _not_printable(base)
    return trimmed


def _not_printable(base: str) -> ConfigurationError:
    return ConfigurationError(
        detail=(
            f"the QR base URL (GIMARK_BASE_URL) {base!r} must be an http:// or https://"
            " URL in upper-case letters, digits and $%*+-./: only (QR alphanumeric mode),"
            " e.g. HTTPS://GI.EXAMPLE.CN/V"
        ),
        detail_zh=(
            f"二维码基础网址（GIMARK_BASE_URL）{base!r} 必须是 http:// 或 https:// 网址，"
            "且只能含大写字母、数字和 $%*+-./:（二维码字母数字模式），例如 HTTPS://GI.EXAMPLE.CN/V"
        ),
    )


def _normalize_base(url: str) -> str:
    # Friendly to a lower-case setting: scheme and host are case-insensitive and the app
    # serves the path case-insensitively. Only ASCII is upper-cased: "ß".upper() is "SS",
    # which would quietly print another host.
    try:
        return printed_base(url.strip().translate(_ASCII_UPPER))
    except ConfigurationError:
        raise _not_printable(url) from None


def _normalize_extra_base(url: str) -> str:
    # Bases only read, never printed: codes issued under one (by another system, perhaps
    # in byte mode) must keep verifying, so only the scheme is required of them.
    base = url.strip().rstrip("/").translate(_ASCII_UPPER)
    if not base.startswith(("HTTP://", "HTTPS://")):
        raise ConfigurationError(
            detail=f"each of GIMARK_EXTRA_BASE_URLS must be an http(s) URL, got {url!r}",
            detail_zh=f"GIMARK_EXTRA_BASE_URLS 中每一项都必须是 http(s) 地址，实为 {url!r}",
        )
    return base


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read ``GIMARK_*`` variables.

    Raises:
        ConfigurationError: a variable is set to something unusable.
    """
    env = os.environ if environ is None else environ
    extra = tuple(
        _normalize_extra_base(b)
        for b in env.get("GIMARK_EXTRA_BASE_URLS", "").split(",")
        if b.strip()
    )
    max_quantity = _whole_number(env, "GIMARK_MAX_BATCH_QUANTITY", Settings.max_batch_quantity)
    proxies = _whole_number(env, "GIMARK_TRUSTED_PROXIES", 0)
    return Settings(
        trusted_proxies=proxies,
        ip_regions=_optional_path(env, "GIMARK_IP_REGIONS"),
        detection=_optional_path(env, "GIMARK_DETECTION_CONFIG"),
        home=Path(env.get("GIMARK_HOME", "instance")),
        database_url=env.get("GIMARK_DATABASE_URL", ""),
        base_url=_normalize_base(env.get("GIMARK_BASE_URL", DEFAULT_BASE_URL)),
        extra_bases=extra,
        key_passphrase=env.get("GIMARK_KEY_PASSPHRASE"),
        max_batch_quantity=max_quantity,
        secret_key=env.get("GIMARK_SECRET_KEY", "").strip() or None,
        access_log=_access_log(env),
        **_limits(env),
    )


_LIMITS = (
    "login_failures",
    "login_window",
    "login_lockout",
    "login_lockout_max",
    "login_per_address",
    "reports_per_address",
    "reports_per_scanner",
    "photos_per_address",
    "photos_per_scanner",
    "report_window",
    "typed_lookups_per_address",
    "typed_lookup_window",
    "scans_per_address",
    "scan_window",
    "scan_sample",
    "upload_bytes",
)


def _limits(env: Mapping[str, str]) -> dict[str, int]:
    # GIMARK_LIMIT_LOGIN_FAILURES sets limit_login_failures, and so on.
    return {
        f"limit_{name}": _whole_number(
            env, f"GIMARK_LIMIT_{name.upper()}", getattr(Settings, f"limit_{name}")
        )
        for name in _LIMITS
    }


def _whole_number(env: Mapping[str, str], name: str, default: int) -> int:
    value = env.get(name, "").strip()
    try:
        number = int(value) if value else default
    except ValueError:
        number = -1
    if number < 0:
        raise ConfigurationError(
            detail=f"{name} must be a whole number, got {value!r}",
            detail_zh=f"{name} 必须是非负整数，实为 {value!r}",
        )
    return number


def _optional_path(env: Mapping[str, str], name: str) -> Path | None:
    value = env.get(name, "").strip()
    return Path(value) if value else None


ACCESS_LOG_CHOICES = ("private", "full", "off")


def _access_log(env: Mapping[str, str]) -> str:
    value = env.get("GIMARK_ACCESS_LOG", "").strip().lower() or Settings.access_log
    if value not in ACCESS_LOG_CHOICES:
        raise ConfigurationError(
            detail=f"GIMARK_ACCESS_LOG must be private, full or off, got {value!r}",
            detail_zh=f"GIMARK_ACCESS_LOG 必须是 private、full 或 off，实为 {value!r}",
        )
    return value
