"""What gimark's commands create in GIMARK_HOME is readable by its owner alone, whatever
umask the shell or service manager started it with (the CLI root sets 077).

The commands run as real processes: a umask is process-wide, so the in-process test
runner does not set one (see ``gimark.core.cli.main``).
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

GIMARK = str(Path(sys.executable).with_name("gimark"))
LOOSE_UMASK = 0o002  # what a careless start would give: group- and world-readable


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home made by ``gimark demo --no-serve``: database, key, a label run."""
    folder = tmp_path_factory.mktemp("modes") / "home"
    env = {**os.environ, "GIMARK_HOME": str(folder)}
    env.pop("GIMARK_DATABASE_URL", None)  # the SQLite file in home, the embedded default
    done = subprocess.run(
        [GIMARK, "demo", "--no-serve", "--json"],
        env=env,
        capture_output=True,
        text=True,
        umask=LOOSE_UMASK,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return folder


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize(
    ("what", "pattern", "expected"),
    [
        ("the home folder", ".", 0o700),
        ("the SQLite database", "gimark.sqlite3", 0o600),
        ("the keys folder", "keys", 0o700),
        ("a private key", "keys/*.pem", 0o600),
        ("the runs folder", "runs", 0o700),
        ("a run folder", "runs/*", 0o700),
        ("a run's manifest", "runs/*/manifest.csv", 0o600),
        ("a run's sheets", "runs/*/sheets.pdf", 0o600),
    ],
)
def test_what_the_commands_create_is_the_owners_alone(
    home: Path, what: str, pattern: str, expected: int
) -> None:
    paths = [home] if pattern == "." else sorted(home.glob(pattern))
    assert paths, f"{what}: nothing at {pattern}"
    for path in paths:
        assert mode(path) == expected, f"{what} {path}: {oct(mode(path))}"


def test_nothing_in_home_is_open_to_group_or_others(home: Path) -> None:
    loose = [p for p in [home, *home.rglob("*")] if mode(p) & 0o077]
    assert not loose, [f"{p}: {oct(mode(p))}" for p in loose]
