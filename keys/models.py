"""The issuer key table: public halves and lifecycle; private halves live only in files."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from gimark.core.db import Base, UTCDateTime, utcnow, value_enum
from gimark.core.generation import watch


class KeyStatus(enum.StrEnum):
    """Lifecycle: active (signs and verifies) → retired (verifies only) → compromised."""

    ACTIVE = "active"
    RETIRED = "retired"
    COMPROMISED = "compromised"


class SigningKey(Base):
    """An Ed25519 issuer key: ours (private half in an encrypted file) or imported (public only)."""

    __tablename__ = "signing_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True)  # RFC 7638 thumbprint, base64url
    key_id: Mapped[str] = mapped_column(String(8), unique=True)  # the 4 bytes in codes, hex
    public_x: Mapped[str] = mapped_column(String(64))  # raw public key, base64url (JWK "x")
    issuer: Mapped[str] = mapped_column(String(200))
    own: Mapped[bool] = mapped_column(default=True)  # False: imported from another issuer
    private_file: Mapped[str | None] = mapped_column(String(200))  # name inside keys_dir
    status: Mapped[KeyStatus] = mapped_column(value_enum(KeyStatus), default=KeyStatus.ACTIVE)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    compromised_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(String(500), default="")


# Verification caches the key set; a retired or compromised key must show on the next scan.
watch(SigningKey)
