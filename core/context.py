"""What a command needs to run: settings, the database, and how to get the key passphrase."""

from __future__ import annotations

import getpass
import os
import sys
from dataclasses import dataclass, field

from gimark.core.db import Database
from gimark.core.settings import Settings


class PassphraseUnavailableError(Exception):
    """No passphrase configured and nobody to ask (keys code turns this into its own error)."""


@dataclass
class Context:
    """Settings plus a lazily opened database, shared by the CLI commands of one run."""

    settings: Settings
    interactive: bool = False  # may we prompt on the terminal?
    actor: str = field(default_factory=lambda: f"cli:{getpass.getuser()}")
    _db: Database | None = None

    @property
    def db(self) -> Database:
        """The database, opened on first use."""
        if self._db is None:
            self._db = Database(self.settings.effective_database_url)
        return self._db

    def passphrase(self, *, confirm: bool = False) -> str:
        """The key passphrase: from the settings, else asked on the terminal.

        Raises:
            PassphraseUnavailableError: none configured and no terminal to ask on.
        """
        if self.settings.key_passphrase is not None:
            return self.settings.key_passphrase
        if not (self.interactive and sys.stdin.isatty()):
            raise PassphraseUnavailableError()
        first = getpass.getpass("gimark key passphrase / 密钥口令: ")
        if confirm and getpass.getpass("again / 再输一次: ") != first:
            raise PassphraseUnavailableError()
        return first

    def close(self) -> None:
        """Release the database connections."""
        if self._db is not None:
            self._db.dispose()
            self._db = None


def ensure_home(settings: Settings) -> None:
    """Create the home folder (and the private keys folder, owner-only)."""
    settings.home.mkdir(parents=True, exist_ok=True)
    settings.keys_dir.mkdir(mode=0o700, exist_ok=True)
    os.chmod(settings.keys_dir, 0o700)
