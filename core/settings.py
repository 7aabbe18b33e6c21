"""Settings read from the environment, as one typed value passed around explicitly."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from gimark.core.errors import ConfigurationError

DEFAULT_BASE_URL = "HTTP://127.0.0.1:8000/V"


@dataclass(frozen=True)
class Settings:
    """Where gimark keeps its state and how it names its codes.

    ``home`` holds the SQLite database, the encrypted private keys and uploaded files.
    """

    home: Path = Path("instance")
    database_url: str = ""  # empty: the SQLite file inside ``home``
    base_url: str = DEFAULT_BASE_URL  # the QR URL base; upper-case keeps the QR alphanumeric
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

    @property
    def effective_database_url(self) -> str:
        """The configured database URL, or the SQLite file in ``home``."""
        return self.database_url or f"sqlite:///{(self.home / 'gimark.sqlite3').resolve()}"

    @property
    def keys_dir(self) -> Path:
        """Folder of the encrypted private key files (mode 0700)."""
        return self.home / "keys"

    @property
    def bases(self) -> tuple[str, ...]:
        """Every URL base a scanned code may start with, the primary one first."""
        return (self.base_url, *self.extra_bases)

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with some fields replaced (tests and the CLI's options use this)."""
        return replace(self, **changes)


def _normalize_base(url: str) -> str:
    url = url.strip().rstrip("/")
    if not url.lower().startswith(("http://", "https://")):
        raise ConfigurationError(
            detail=f"GIMARK_BASE_URL must be an http(s) URL, got {url!r}",
            detail_zh=f"GIMARK_BASE_URL 必须是 http(s) 地址，实为 {url!r}",
        )
    # QR alphanumeric mode has no lower-case letters; scheme and host are case-insensitive,
    # and the app serves the path case-insensitively.
    return url.upper()


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read ``GIMARK_*`` variables.

    Raises:
        ConfigurationError: a variable is set to something unusable.
    """
    env = os.environ if environ is None else environ
    extra = tuple(
        _normalize_base(b) for b in env.get("GIMARK_EXTRA_BASE_URLS", "").split(",") if b.strip()
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
    )


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
