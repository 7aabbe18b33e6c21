"""What every command that unlocks or shows keys shares (keys, runs, verify, init, demo):
the passphrase, turned into the keys' own error when none can be had, and a key as the
commands show it."""

from __future__ import annotations

from typing import Any

from gimark.core.context import Context, PassphraseUnavailableError
from gimark.keys.errors import MissingPassphraseError
from gimark.keys.models import SigningKey

__all__ = ["key_summary", "passphrase_of"]


def passphrase_of(gm: Context, *, confirm: bool = False) -> str:
    """The key passphrase, or the error that says how to give one.

    Raises:
        MissingPassphraseError: none set and no terminal to ask on.
    """
    try:
        return gm.passphrase(confirm=confirm)
    except PassphraseUnavailableError:
        raise MissingPassphraseError() from None


def key_summary(row: SigningKey) -> dict[str, Any]:
    """What ``keys list`` shows of a key (never anything private)."""
    return {
        "kid": row.kid,
        "key_id": row.key_id.upper(),
        "issuer": row.issuer,
        "own": row.own,
        "status": row.status.value,
        "created_at": row.created_at,
        "retired_at": row.retired_at,
        "compromised_at": row.compromised_at,
    }
