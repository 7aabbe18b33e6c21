"""``gimark verify`` (offline, from a key set and a status list), ``gimark status export`` and
``gimark status publish``.

``verify`` opens no database and no network connection: an inspector in a market hall answers
from two files fetched earlier. Any verdict is an answer (exit 0); only unusable files are
errors. A list older than ``--max-age-days`` still proves nothing false, but it cannot prove a
label genuine either: the answer is then ``cannot_verify`` with a note saying why.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import click

from gimark.core.context import Context
from gimark.core.db import utcnow
from gimark.core.errors import ConfigurationError, GimarkError
from gimark.core.output import emit, json_option, to_json
from gimark.core.settings import Settings
from gimark.keys.commands import passphrase_of
from gimark.keys.errors import JwksError
from gimark.keys.jwks import MAX_JWKS_BYTES, read_jwks
from gimark.keys.keyring import PublicKeySet
from gimark.keys.services import load_signer
from gimark.labels.issuing.serials import format_serial
from gimark.labels.offline.errors import StaleStatusListError, StatusListFormatError
from gimark.labels.offline.judge import BATCH_ID, check_offline
from gimark.labels.offline.publish import publish_status_list
from gimark.labels.offline.statuslist import (
    DEFAULT_MAX_AGE,
    BatchEntry,
    StatusList,
    build_status_list,
    check_fresh,
    read_status_list,
    sign_status_list,
)
from gimark.labels.scanning.judge import Finding
from gimark.labels.scanning.reasons import reason_json, verdict_json

# bytes; a list entry is about 400 bytes, so this holds a million batches with room to spare
MAX_STATUS_BYTES = 1_000_000_000
_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
STALE_NOTE = {
    "zh": "状态清单已过期：生成于 {generated_at}，已超过 {days} 天，无法据此判断标签的当前状态；"
    "请下载最新的状态清单后重新核验。",
    "en": "The status list is out of date: it was generated at {generated_at}, more than {days} "
    "days ago, so this label's current state cannot be judged from it. Download a fresh status "
    "list and verify again.",
}


@click.command("verify")
@click.argument("code")
@click.option("--jwks", "jwks_file", type=_FILE, required=True, help="The published key set.")
@click.option("--status", "status_file", type=_FILE, required=True, help="A signed status list.")
@click.option(
    "--max-age-days",
    type=click.FloatRange(min=0, min_open=True),
    default=DEFAULT_MAX_AGE.days,
    show_default=True,
    help="An older status list cannot confirm a label as genuine.",
)
@json_option
@click.pass_obj
def verify_command(
    gm: Context, code: str, jwks_file: Path, status_file: Path, max_age_days: float, as_json: bool
) -> None:
    """Verify CODE (a scanned QR text or a typed serial) offline, without any database."""
    now = utcnow()
    published = read_jwks(_read_json(jwks_file, MAX_JWKS_BYTES, JwksError))
    keys = PublicKeySet(published.keys)
    status = read_status_list(
        _read_json(status_file, MAX_STATUS_BYTES, StatusListFormatError), keys
    )
    max_age = dt.timedelta(days=max_age_days)
    try:
        check_fresh(status, now, max_age)
        stale = False
    except StaleStatusListError:
        stale = True
    finding = check_offline(code, _bases(status, gm.settings), keys, None if stale else status, now)
    report = verdict_report(finding, status, now, max_age, stale=stale)
    # Entries a verifier cannot use are left out, not the set refused (docs/code-format.md
    # section 3.2); the person checking hears which.
    report["skipped_keys"] = [entry.as_json() for entry in published.skipped]
    if not as_json:
        for entry in published.skipped:
            click.echo(entry.line(), err=True)
    emit(as_json, report, verdict_text(report))


def _read_json(path: Path, limit: int, error: type[GimarkError]) -> object:
    try:
        if path.stat().st_size > limit:
            raise _invalid(
                error, f"{path} is larger than {limit} bytes", f"{path} 超过 {limit} 字节"
            )
        return json.loads(path.read_bytes())
    except OSError as exc:
        detail = exc.strerror or type(exc).__name__
        raise _invalid(
            error, f"cannot read {path}: {detail}", f"无法读取 {path}：{detail}"
        ) from None
    except (ValueError, UnicodeDecodeError):
        raise _invalid(error, f"{path} is not JSON", f"{path} 不是 JSON 文件") from None


def _invalid(error: type[GimarkError], detail: str, detail_zh: str) -> GimarkError:
    return error(detail=detail, detail_zh=detail_zh)


def _bases(status: StatusList, settings: Settings) -> tuple[str, ...]:
    # The list names its issuer's QR bases (signed): an inspector needs no configuration.
    return tuple(dict.fromkeys((*status.bases, *settings.bases)))


def verdict_report(
    finding: Finding,
    status: StatusList,
    now: dt.datetime,
    max_age: dt.timedelta,
    *,
    stale: bool,
) -> dict[str, Any]:
    """The verdict in the shape of the API's JSON, with the list it was judged from."""
    entry = _entry(finding, status)
    return {
        "verdict": finding.outcome,
        "reasons": [reason_json(code) for code in finding.reasons],
        "serial": None if finding.serial is None else format_serial(finding.serial),
        "product": None if entry is None else _product(entry),
        "enterprise": None
        if entry is None
        else {"name": entry.enterprise.name, "uscc": entry.enterprise.uscc},
        "batch": None if entry is None else _batch(entry),
        "status_list": _list_summary(status, now, max_age, stale=stale),
    }


def _entry(finding: Finding, status: StatusList) -> BatchEntry | None:
    # Only the entry the finding rests on: a forged code's serial says nothing about a batch.
    batch_id = finding.extra.get(BATCH_ID)
    if batch_id is None or finding.serial is None:
        return None
    return status.find(finding.serial)


def _product(entry: BatchEntry) -> dict[str, Any]:
    product = entry.product
    return {
        "name_zh": product.name_zh,
        "name_en": product.name_en,
        "kind": product.kind,
        "region": product.region,
        "reg_no": product.reg_no,
    }


def _batch(entry: BatchEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "first": format_serial(entry.first),
        "last": format_serial(entry.last),
        "state": entry.state.value,
        "approved_at": entry.approved_at,
    }


def _list_summary(
    status: StatusList, now: dt.datetime, max_age: dt.timedelta, *, stale: bool
) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "generated_at": status.generated_at,
        "age_hours": round(status.age(now).total_seconds() / 3600, 1),
        "max_age_hours": round(max_age.total_seconds() / 3600, 1),
        "stale": stale,
        "kid": status.kid,
    }
    if stale:
        when = status.generated_at.isoformat(timespec="seconds")
        days = f"{max_age.total_seconds() / 86400:g}"
        summary["note"] = {
            lang: text.format(generated_at=when, days=days) for lang, text in STALE_NOTE.items()
        }
    return summary


def verdict_text(report: dict[str, Any]) -> str:
    """What a person reads: the verdict, its reasons, what the label claims, the list used."""
    words = verdict_json(report["verdict"])
    lines = [f"{words['zh']} / {words['en']}  [{report['verdict']}]"]
    for reason in report["reasons"]:
        lines += [f"  - {reason['code']}: {reason['zh']}", f"    {reason['en']}"]
    if report["serial"]:
        lines.append(f"序列号 Serial: {report['serial']}")
    if report["product"]:
        product = report["product"]
        lines.append(f"产品 Product: {product['name_zh']} / {product['name_en']}")
    if report["enterprise"]:
        enterprise = report["enterprise"]
        lines.append(f"企业 Enterprise: {enterprise['name']} ({enterprise['uscc']})")
    if report["batch"]:
        batch = report["batch"]
        lines.append(f"批次 Batch: {batch['id']} ({batch['first']} … {batch['last']})")
    listed = report["status_list"]
    when, age = listed["generated_at"].isoformat(timespec="seconds"), listed["age_hours"]
    lines.append(f"状态清单 Status list: {when}（{age} 小时前 / {age} h old）")
    if "note" in listed:
        lines += [f"  ! {listed['note']['zh']}", f"    {listed['note']['en']}"]
    return "\n".join(lines)


@click.group("status")
def status_group() -> None:
    """Signed status lists: what offline verifiers judge codes from."""


@status_group.command("export")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the signed list to this file instead of stdout.",
)
@json_option
@click.pass_obj
def export_command(gm: Context, out: Path | None, as_json: bool) -> None:
    """Build the status list now and sign it with the active key (GIMARK_KEY_PASSPHRASE)."""
    secret = passphrase_of(gm)
    with gm.db.session() as s:
        signer = load_signer(s, gm.settings, secret)
        payload = build_status_list(s, utcnow(), bases=gm.settings.bases)
    document = sign_status_list(payload, signer)
    if out is None:
        click.echo(to_json(document))
        return
    out.write_text(to_json(document) + "\n", encoding="utf-8")
    emit(as_json, _written(out, payload, signer.kid))


@status_group.command("publish")
@json_option
@click.pass_obj
def publish_command(gm: Context, as_json: bool) -> None:
    """Sign the status list now and write it where the web service serves it from.

    Meant for a timer (docs/deployment.md): the web workers then serve the file as it is and
    never hold GIMARK_KEY_PASSPHRASE, so code running on a web server cannot sign anything.

    Raises:
        MissingPassphraseError: no GIMARK_KEY_PASSPHRASE and no terminal to ask on.
        KeyringError: the active key cannot be loaded with that passphrase.
        ConfigurationError: the file cannot be written into GIMARK_HOME.
    """
    secret = passphrase_of(gm)
    path = gm.settings.published_status_list
    with gm.db.session() as s:
        signer = load_signer(s, gm.settings, secret)
        try:
            document = publish_status_list(s, signer, path, utcnow(), bases=gm.settings.bases)
        except OSError as exc:
            detail = exc.strerror or type(exc).__name__
            raise ConfigurationError(
                detail=f"cannot write {path}: {detail}", detail_zh=f"无法写入 {path}：{detail}"
            ) from None
    emit(as_json, _written(path, document["payload"], signer.kid))


def _written(path: Path, payload: dict[str, Any], kid: str) -> dict[str, Any]:
    """What ``status sign --out`` and ``status publish`` say about the list they wrote."""
    return {
        "file": str(path),
        "generated_at": payload["generated_at"],
        "batches": len(payload["batches"]),
        "kid": kid,
    }


def register(root: click.Group) -> None:
    """Add ``gimark verify`` and ``gimark status`` to the root group."""
    root.add_command(verify_command)
    root.add_command(status_group)
