"""``gimark keys`` from the command line: one JSON document, or one error line."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gimark.core.settings import Settings


def test_create_list_rotate_export(run: Callable[..., Any], settings: Settings) -> None:
    created = run("keys", "create", "--json").json()
    assert created["status"] == "active"
    rotated = run("keys", "rotate", "--json").json()
    listed = run("keys", "list", "--json").json()["keys"]
    assert [k["status"] for k in listed] == ["retired", "active"]
    assert listed[1]["kid"] == rotated["kid"]
    jwks = run("keys", "export", "--json").json()
    assert [k["kid"] for k in jwks["keys"]] == [created["kid"], rotated["kid"]]
    assert all("d" not in k for k in jwks["keys"])


def test_wrong_passphrase_is_one_line_and_changes_nothing(run: Callable[..., Any]) -> None:
    run("keys", "create")
    result = run("keys", "rotate", ok=False, env={"GIMARK_KEY_PASSPHRASE": "typo"})
    assert result.exit_code == 77
    assert result.stderr.count("\n") == 1 and "wrong passphrase" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(run("keys", "list", "--json").json()["keys"]) == 1


def test_missing_passphrase_says_how_to_give_one(run: Callable[..., Any]) -> None:
    result = run("keys", "create", "--json", ok=False, env={"GIMARK_KEY_PASSPHRASE": None})
    error = json.loads(result.stderr)["error"]
    assert error["code"] == "missing_passphrase" and "GIMARK_KEY_PASSPHRASE" in error["en"]


def test_import_another_issuers_keys(
    run: Callable[..., Any], settings: Settings, tmp_path: Path
) -> None:
    run("keys", "create")
    exported = tmp_path / "ours.jwks.json"
    run("keys", "export", "--out", str(exported))
    key = json.loads(exported.read_text())["keys"][0]
    other = tmp_path / "other.jwks.json"
    # Another issuer's key: a fresh public key, as its JWKS would publish it.
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from gimark.keys.keyring import b64url, kid_of, raw_public

    public = Ed25519PrivateKey.generate().public_key()
    other.write_text(
        json.dumps(
            {
                "keys": [
                    {
                        "kty": "OKP",
                        "crv": "Ed25519",
                        "x": b64url(raw_public(public)),
                        "kid": kid_of(public),
                    }
                ]
            }
        )
    )
    imported = run("keys", "import", str(other), "--issuer", "四川省", "--json").json()["imported"]
    assert imported[0]["issuer"] == "四川省" and imported[0]["own"] is False
    kids = {k["kid"] for k in run("keys", "list", "--json").json()["keys"]}
    assert kids == {key["kid"], kid_of(public)}


def test_import_garbage_is_refused(run: Callable[..., Any], tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.json"
    garbage.write_bytes(b"\xff\xfe not json")
    result = run("keys", "import", str(garbage), "--issuer", "x", ok=False)
    assert result.exit_code == 1 and "not JSON" in result.stderr


def test_import_reports_the_entries_it_skips(run: Callable[..., Any], tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from gimark.keys.keyring import b64url, kid_of, raw_public

    public = Ed25519PrivateKey.generate().public_key()
    jwks = tmp_path / "mixed.jwks.json"
    jwks.write_text(
        json.dumps(
            {
                "keys": [
                    {"kty": "RSA", "kid": "rsa-2024", "n": "0vx7", "e": "AQAB"},
                    {"kty": "OKP", "crv": "Ed25519", "x": b64url(raw_public(public))},
                ]
            }
        )
    )
    text = run("keys", "import", str(jwks), "--issuer", "四川省")
    assert text.stderr.count("\n") == 1
    assert "skipped keys[0] (kid rsa-2024)" in text.stderr and "OKP/Ed25519" in text.stderr
    again = run("keys", "import", str(jwks), "--issuer", "四川省", "--json").json()
    assert [k["kid"] for k in again["imported"]] == [kid_of(public)]
    assert again["skipped"] == [
        {
            "index": 0,
            "kid": "rsa-2024",
            "reason": "not_ed25519",
            "en": "kty 'RSA' / crv null is not an OKP/Ed25519 key",
            "zh": "kty 'RSA' / crv null 不是 OKP/Ed25519 密钥",
        }
    ]
