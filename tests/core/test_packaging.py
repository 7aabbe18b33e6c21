"""The built wheel installs into a fresh venv and its ``gimark`` command runs anywhere.

This is what catches the stdlib ``trace`` shadowing and missing package data.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("gimark-*.whl")
    return built


def test_wheel_holds_the_namespace_and_its_data(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "gimark/trace/models.py" in names
    assert "gimark/core/migrations/env.py" in names
    assert "gimark/core/migrations/script.py.mako" in names
    assert any(n.startswith("gimark/core/migrations/versions/0001") for n in names)
    assert "gimark/verify_web/templates/index.html" in names
    assert "gimark/verify_web/templates/verify.html" in names
    assert "gimark/verify_web/static/gimark.css" in names
    assert any(n.endswith("zh_Hans_CN/LC_MESSAGES/messages.mo") for n in names)
    assert not any(n.startswith(("trace/", "tests/")) for n in names)
    for job in ("issuing", "printing", "scanning", "offline"):
        assert f"gimark/labels/{job}/__init__.py" in names
    assert "gimark/verify_web/accounts/models.py" in names
    assert "gimark/verify_web/reports/models.py" in names


def test_wheel_carries_no_test_or_bench_code(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert not any("pgcluster" in n or "simulation" in n or "seeding" in n for n in names)
    (metadata,) = (n for n in names if n.endswith(".dist-info/METADATA"))
    required = [
        line.removeprefix("Requires-Dist: ")
        for line in zipfile.ZipFile(wheel).read(metadata).decode().splitlines()
        if line.startswith("Requires-Dist: ")
    ]
    # The reference QR encoders are the benchmarks' and tests' (labels use zxing-cpp).
    runtime = [r for r in required if "extra ==" not in r]
    assert not [r for r in runtime if r.startswith(("qrcode", "segno"))]
    assert any(r.startswith("segno") and 'extra == "bench"' in r for r in required)


@pytest.mark.slow
def test_installed_command_runs_from_anywhere(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--quiet", str(wheel)],
        check=True,
        capture_output=True,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shown = subprocess.run(
        [str(venv / "bin" / "gimark"), "--help"],
        cwd=elsewhere,
        check=True,
        capture_output=True,
        text=True,
    )
    assert "keys" in shown.stdout and "init" in shown.stdout
    env = {
        "GIMARK_HOME": str(elsewhere / "home"),
        "GIMARK_KEY_PASSPHRASE": "p",
        "PATH": "/usr/bin:/bin",
    }
    initialized = subprocess.run(
        [str(venv / "bin" / "gimark"), "init", "--json"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
    )
    assert initialized.returncode == 0, initialized.stderr
    report = json.loads(initialized.stdout)
    assert report["revision"] is not None and report["key_created"] is True
