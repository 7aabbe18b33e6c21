"""Bringing an instance up: the schema, the home folder and the first issuer key."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import make_url

from gimark.core.context import Context, ensure_home
from gimark.core.migrate import current_revision, upgrade
from gimark.keys import services as keys
from gimark.keys.commands import key_summary, passphrase_of


def initialize(gm: Context) -> dict[str, Any]:
    """Create or upgrade the database; create an issuer key when there is none.

    Raises:
        MissingPassphraseError: a key must be created and no passphrase is available.
        DatabaseUnavailableError: the database cannot be reached.
    """
    ensure_home(gm.settings)
    before = current_revision(gm.db)
    upgrade(gm.db)
    created = False
    with gm.db.session() as s:
        row = keys.active_key(s)
        if row is None:
            row = keys.create_key(s, gm.settings, passphrase_of(gm, confirm=True))
            created = True
        key = key_summary(row)
    return {
        "database": make_url(gm.db.url).render_as_string(hide_password=True),
        "revision_before": before,
        "revision": current_revision(gm.db),
        "key": key,
        "key_created": created,
        "home": str(gm.settings.home.resolve()),
    }
