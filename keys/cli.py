"""``gimark keys …``: the issuer key lifecycle from the command line."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click

from gimark.core.context import Context
from gimark.core.output import emit, json_option, to_json
from gimark.keys import services
from gimark.keys.commands import key_summary, passphrase_of
from gimark.keys.errors import JwksError
from gimark.keys.jwks import MAX_JWKS_BYTES


@click.group("keys")
def keys_group() -> None:
    """Issuer signing keys (Ed25519): create, rotate, retire, compromise, export, import."""


@keys_group.command("create")
@click.option("--note", default="", help="Why this key exists (kept with it).")
@json_option
@click.pass_obj
def create(gm: Context, note: str, as_json: bool) -> None:
    """Create the active issuer key (encrypted with GIMARK_KEY_PASSPHRASE)."""
    secret = passphrase_of(gm, confirm=True)
    with gm.db.session() as s:
        row = services.create_key(s, gm.settings, secret, note=note)
        emit(as_json, key_summary(row))


@keys_group.command("rotate")
@click.option("--note", default="")
@json_option
@click.pass_obj
def rotate(gm: Context, note: str, as_json: bool) -> None:
    """Retire the active key (it keeps verifying) and create a new active one."""
    secret = passphrase_of(gm, confirm=True)
    with gm.db.session() as s:
        row = services.rotate_key(s, gm.settings, secret, note=note)
        emit(as_json, key_summary(row))


@keys_group.command("list")
@json_option
@click.pass_obj
def list_(gm: Context, as_json: bool) -> None:
    """List every key, ours and imported."""
    with gm.db.session() as s:
        rows = [key_summary(r) for r in services.list_keys(s)]
    text = "\n".join(
        f"{r['key_id']}  {r['status']:<11} {'own' if r['own'] else r['issuer']:<10} {r['kid']}"
        for r in rows
    )
    emit(as_json, {"keys": rows}, text or "no keys / 没有密钥")


@keys_group.command("retire")
@click.argument("kid")
@json_option
@click.pass_obj
def retire(gm: Context, kid: str, as_json: bool) -> None:
    """Stop signing with KID; its codes keep verifying."""
    with gm.db.session() as s:
        emit(as_json, key_summary(services.retire_key(s, kid)))


@keys_group.command("compromise")
@click.argument("kid")
@click.option("--at", "at", default=None, help="ISO time the key was compromised (default now).")
@click.option("--note", default="")
@json_option
@click.pass_obj
def compromise(gm: Context, kid: str, at: str | None, note: str, as_json: bool) -> None:
    """Declare KID compromised: codes it signed after that time are unauthorized."""
    when = _parse_at(at)
    with gm.db.session() as s:
        emit(as_json, key_summary(services.compromise_key(s, kid, at=when, note=note)))


def _parse_at(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"not an ISO time: {value!r}", param_hint="--at") from None
    return parsed.astimezone(dt.UTC) if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


@keys_group.command("export")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the JWKS to this file instead of stdout.",
)
@json_option
@click.pass_obj
def export(gm: Context, out: Path | None, as_json: bool) -> None:
    """Print the public key set as JWKS (RFC 7517/8037)."""
    with gm.db.session() as s:
        document = services.export_jwks(s)
    if out is None:
        click.echo(to_json(document))
        return
    out.write_text(to_json(document) + "\n", encoding="utf-8")
    emit(as_json, {"file": str(out), "keys": len(document["keys"])})  # type: ignore[arg-type]


@keys_group.command("import")
@click.argument("jwks_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--issuer", required=True, help="Whose keys these are (e.g. a province's issuer).")
@json_option
@click.pass_obj
def import_(gm: Context, jwks_file: Path, issuer: str, as_json: bool) -> None:
    """Trust another issuer's public keys from a JWKS file.

    Entries that are not usable Ed25519 keys are left out and reported: one line each on
    stderr, or under "skipped" with --json.
    """
    if jwks_file.stat().st_size > MAX_JWKS_BYTES:
        raise JwksError(detail=f"the file is larger than {MAX_JWKS_BYTES} bytes")
    try:
        document = json.loads(jwks_file.read_bytes())
    except (ValueError, UnicodeDecodeError):
        raise JwksError(detail="the file is not JSON") from None
    with gm.db.session() as s:
        result = services.import_key_set(s, document, issuer=issuer)
        imported = [key_summary(r) for r in result.rows]
    if as_json:
        emit(True, {"imported": imported, "skipped": [k.as_json() for k in result.skipped]})
        return
    for skipped in result.skipped:
        click.echo(skipped.line(), err=True)
    emit(False, {"imported": imported})


def register(root: click.Group) -> None:
    """Add ``gimark keys`` to the root group."""
    root.add_command(keys_group)
