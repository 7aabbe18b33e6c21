"""``gimark status export`` and ``gimark verify``: an inspector's offline check, end to end."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from support.pgcluster import free_port

from gimark.core.db import Database, utcnow
from gimark.core.settings import Settings
from gimark.keys import services as keys
from gimark.keys.keyring import Signer
from gimark.labels.issuing import batches
from gimark.labels.issuing.models import BatchStatus
from gimark.labels.issuing.serials import format_serial
from gimark.labels.offline.statuslist import build_status_list, sign_status_list

ISSUER_BASE = "HTTPS://GI.EXAMPLE.CN/V"
MakeBatch = Callable[..., int]
Run = Callable[..., Any]
# The installed console script, as an inspector runs it.
GIMARK = str(Path(sys.executable).with_name("gimark"))


def first_serial(db: Database, batch_id: int) -> int:
    with db.session() as s:
        first = batches.get_batch(s, batch_id).serial_first
    assert first is not None
    return first


def exported(run: Run, folder: Path) -> tuple[Path, Path]:
    """The two files an inspector downloads: the key set and the signed status list."""
    jwks, status = folder / "jwks.json", folder / "status.json"
    run("keys", "export", "--out", str(jwks))
    summary = run(
        "status", "export", "--out", str(status), "--json", env={"GIMARK_BASE_URL": ISSUER_BASE}
    ).json()
    assert summary["file"] == str(status) and summary["batches"] >= 1
    return jwks, status


def offline(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    """``gimark ARGS`` in a fresh process whose database is unreachable and never configured."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "GIMARK_HOME": str(home),
        "GIMARK_DATABASE_URL": f"postgresql://nobody@127.0.0.1:{free_port()}/gone",
    }
    return subprocess.run(
        [GIMARK, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_an_inspector_verifies_offline_with_two_files_and_no_database(
    db: Database,
    make_batch: MakeBatch,
    code_of: Callable[..., str],
    run: Run,
    tmp_path: Path,
) -> None:
    live = first_serial(db, make_batch(status=BatchStatus.DELIVERED))
    revoked = make_batch(status=BatchStatus.DELIVERED)
    with db.session() as s:
        batches.revoke_batch(s, revoked, reason="假冒投诉核实", actor="admin")
    jwks, status = exported(run, tmp_path)
    home = tmp_path / "inspector"  # never created: nothing local is opened
    files = ("--jwks", str(jwks), "--status", str(status))

    genuine = offline("verify", code_of(live, ISSUER_BASE), *files, "--json", home=home)
    assert genuine.returncode == 0, genuine.stderr
    report = json.loads(genuine.stdout)
    assert (report["verdict"], report["reasons"]) == ("genuine", [])
    assert report["serial"] == format_serial(live)
    assert report["product"]["name_zh"] == "沅江芦笋"
    assert report["enterprise"]["name"] == "沅江市芦笋合作社"
    assert report["batch"]["state"] == "active"
    assert report["status_list"]["stale"] is False and report["status_list"]["age_hours"] < 1

    typed = offline("verify", format_serial(first_serial(db, revoked)), *files, home=home)
    assert typed.returncode == 0, typed.stderr
    assert "未经授权的标签 / Unauthorized label" in typed.stdout
    assert "batch_revoked: 此标签所在的批次已被撤销" in typed.stdout
    assert not home.exists()


def write_list(db: Database, settings: Settings, path: Path, generated_at: dt.datetime) -> None:
    assert settings.key_passphrase is not None
    with db.session() as s:
        signer = keys.load_signer(s, settings, settings.key_passphrase)
        payload = build_status_list(s, generated_at, bases=[ISSUER_BASE])
    path.write_text(json.dumps(sign_status_list(payload, signer)), encoding="utf-8")


def test_a_stale_list_answers_cannot_verify_and_says_why(
    db: Database,
    settings: Settings,
    make_batch: MakeBatch,
    code_of: Callable[..., str],
    run: Run,
    tmp_path: Path,
) -> None:
    text = code_of(first_serial(db, make_batch(status=BatchStatus.DELIVERED)), ISSUER_BASE)
    jwks, status = exported(run, tmp_path)
    write_list(db, settings, status, utcnow() - dt.timedelta(days=8))
    files = ("--jwks", str(jwks), "--status", str(status))
    report = run("verify", text, *files, "--json").json()
    assert report["verdict"] == "cannot_verify"
    assert [r["code"] for r in report["reasons"]] == ["state_unavailable"]
    assert report["product"] is None and report["enterprise"] is None
    listed = report["status_list"]
    assert listed["stale"] is True and 191 < listed["age_hours"] < 193
    assert "out of date" in listed["note"]["en"] and "已过期" in listed["note"]["zh"]
    people = run("verify", text, *files).stdout
    assert "暂时无法核验 / Cannot be verified right now" in people and "out of date" in people
    # The inspector may accept an older list, on their own responsibility.
    assert run("verify", text, *files, "--max-age-days", "10", "--json").json()["verdict"] == (
        "genuine"
    )


def test_unusable_files_are_one_line_errors_not_verdicts(
    db: Database,
    settings: Settings,
    make_batch: MakeBatch,
    code_of: Callable[..., str],
    run: Run,
    tmp_path: Path,
) -> None:
    text = code_of(first_serial(db, make_batch(status=BatchStatus.DELIVERED)), ISSUER_BASE)
    jwks, status = exported(run, tmp_path)
    document = json.loads(status.read_text(encoding="utf-8"))
    document["payload"]["batches"][0]["state"] = "revoked"
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(document), encoding="utf-8")
    with db.session() as s:
        payload = build_status_list(s, utcnow())
    forged = tmp_path / "forged.json"
    stranger = Signer(Ed25519PrivateKey.generate())
    forged.write_text(json.dumps(sign_status_list(payload, stranger)), encoding="utf-8")
    garbage = tmp_path / "garbage.json"
    garbage.write_text("not json", encoding="utf-8")
    cases = [
        (("--jwks", str(jwks), "--status", str(tampered)), 65, "status_list_bad_signature"),
        (("--jwks", str(jwks), "--status", str(forged)), 65, "status_list_unknown_key"),
        (("--jwks", str(jwks), "--status", str(garbage)), 65, "status_list_malformed"),
        (("--jwks", str(garbage), "--status", str(status)), 1, "bad_jwks"),
        (("--jwks", str(jwks), "--status", str(tmp_path / "missing.json")), 2, "usage"),
    ]
    for files, exit_code, code in cases:
        result = run("verify", text, *files, "--json", ok=False)
        assert (result.exit_code, result.stdout) == (exit_code, ""), files
        (line,) = result.stderr.splitlines()
        assert json.loads(line)["error"]["code"] == code


def test_status_export_needs_the_key_passphrase(
    make_batch: MakeBatch, run: Run, signing_key: str
) -> None:
    make_batch(status=BatchStatus.DELIVERED)
    refused = run("status", "export", env={"GIMARK_KEY_PASSPHRASE": None}, ok=False)
    assert refused.exit_code == 77 and "GIMARK_KEY_PASSPHRASE" in refused.stderr
    document = json.loads(run("status", "export").stdout)
    assert document["signature"].count(".") == 2 and document["payload"]["version"] == 1


def test_status_publish_writes_the_signed_list_for_the_owner_alone(
    make_batch: MakeBatch, run: Run, settings: Settings
) -> None:
    make_batch(status=BatchStatus.DELIVERED)
    summary = run("status", "publish", "--json").json()
    path = settings.published_status_list
    assert summary["file"] == str(path) and summary["batches"] == 1
    assert set(summary) == {"file", "generated_at", "batches", "kid"}
    document = json.loads(path.read_bytes())
    assert document["payload"]["generated_at"] == summary["generated_at"]
    assert document["signature"].count(".") == 2
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    # Published again (the timer's next run): replaced whole, nothing left beside it.
    again = run("status", "publish", "--json").json()
    assert again["generated_at"] > summary["generated_at"]
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_status_publish_without_the_passphrase_is_one_line_and_writes_nothing(
    make_batch: MakeBatch, run: Run, settings: Settings
) -> None:
    make_batch(status=BatchStatus.DELIVERED)
    refused = run("status", "publish", "--json", env={"GIMARK_KEY_PASSPHRASE": None}, ok=False)
    assert (refused.exit_code, refused.stdout) == (77, "")
    (line,) = refused.stderr.splitlines()
    assert "GIMARK_KEY_PASSPHRASE" in line
    assert not settings.published_status_list.exists()


# The contract's reason codes (DESIGN.md) and not_authorized, which verification adds.
CONTRACT_REASONS = {
    "malformed",
    "not_ours",
    "bad_signature",
    "unknown_key",
    "key_compromised",
    "serial_not_issued",
    "batch_not_active",
    "batch_revoked",
    "serial_voided",
    "authorization_suspended",
    "authorization_revoked",
    "authorization_expired",
    "many_scanners",
    "impossible_travel",
    "outside_sales_region",
    "state_unavailable",
    "not_authorized",
}


def test_every_reason_and_verdict_has_words_in_both_languages() -> None:
    from gimark.labels.scanning.reasons import REASONS, VERDICTS, reason_json, verdict_json

    assert set(REASONS) == CONTRACT_REASONS
    for code in CONTRACT_REASONS:
        words = reason_json(code)
        assert words["code"] == code and words["zh"] and words["en"].isascii()
        assert any("\u4e00" <= char <= "\u9fff" for char in words["zh"]), code
    assert set(VERDICTS) == {
        "genuine",
        "duplicate_suspected",
        "unauthorized",
        "not_ours",
        "cannot_verify",
    }
    assert verdict_json("genuine") == {"code": "genuine", "zh": "正品标签", "en": "Genuine label"}
    with pytest.raises(KeyError):
        reason_json("no_such_reason")


def test_a_key_set_with_an_entry_of_another_kind_still_verifies_and_says_what_it_skipped(
    db: Database,
    make_batch: MakeBatch,
    code_of: Callable[..., str],
    run: Run,
    tmp_path: Path,
) -> None:
    live = first_serial(db, make_batch(status=BatchStatus.DELIVERED))
    jwks, status = exported(run, tmp_path)
    published = json.loads(jwks.read_text(encoding="utf-8"))
    published["keys"].append({"kty": "RSA", "kid": "their-rsa-key", "n": "AQAB", "e": "AQAB"})
    jwks.write_text(json.dumps(published), encoding="utf-8")
    home = tmp_path / "inspector"
    files = ("--jwks", str(jwks), "--status", str(status))

    as_json = offline("verify", code_of(live, ISSUER_BASE), *files, "--json", home=home)
    assert as_json.returncode == 0, as_json.stderr
    report = json.loads(as_json.stdout)
    assert report["verdict"] == "genuine"
    assert [(k["index"], k["kid"]) for k in report["skipped_keys"]] == [(1, "their-rsa-key")]

    for_people = offline("verify", code_of(live, ISSUER_BASE), *files, home=home)
    assert for_people.returncode == 0
    assert "skipped keys[1] (kid their-rsa-key)" in for_people.stderr
