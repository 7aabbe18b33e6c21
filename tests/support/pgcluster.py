"""A throwaway PostgreSQL cluster on a temp dir and a free loopback port.

Used by the tests and the benchmarks: ``initdb`` + ``pg_ctl`` from the server binaries. initdb
refuses to run as root, so as root the cluster runs as the ``postgres`` system user that
Debian's package creates.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg


class ClusterUnavailableError(Exception):
    """The server binaries or the unprivileged user are missing."""


def find_bindir() -> Path | None:
    """The folder of ``pg_ctl``/``initdb``: on PATH, or Debian's versioned folder."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).resolve().parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    return versions[0].parent if versions else None


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Cluster:
    """A running cluster; ``url(dbname)`` gives a SQLAlchemy URL."""

    bindir: Path
    root: Path
    port: int
    user: str | None  # the system user the server runs as (None: ourselves)

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql+psycopg://gimark@127.0.0.1:{self.port}/{dbname}"

    def socket_url(self, dbname: str = "postgres") -> str:
        """The URL over the server's Unix socket: what a client on the same machine uses
        (no TCP on either side: each round trip costs less than over loopback)."""
        return f"postgresql+psycopg://gimark@/{dbname}?host={self.root}&port={self.port}"

    def admin(self) -> psycopg.Connection[tuple[object, ...]]:
        """An autocommit connection for CREATE/DROP DATABASE."""
        return psycopg.connect(
            host="127.0.0.1", port=self.port, user="gimark", dbname="postgres", autocommit=True
        )

    def _run(self, *args: str) -> None:
        subprocess.run(
            [str(self.bindir / args[0]), *args[1:]],
            check=True,
            capture_output=True,
            user=self.user,
            cwd=self.root,
        )

    def start(self, *, durable: bool = False) -> None:
        """initdb and start; ``durable=False`` turns off fsync (tests don't survive power loss)."""
        self._run(
            "initdb",
            "-D",
            str(self.datadir),
            "-U",
            "gimark",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        )
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c max_connections=200"
        )
        if not durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run(
            "pg_ctl",
            "-D",
            str(self.datadir),
            "-o",
            options,
            "-l",
            str(self.root / "log"),
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self) -> None:
        """Stop the server and remove its files."""
        try:
            self._run("pg_ctl", "-D", str(self.datadir), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def start_cluster(*, durable: bool = False) -> Cluster:
    """Start a new cluster.

    Raises:
        ClusterUnavailableError: no server binaries, or running as root without a ``postgres`` user.
    """
    bindir = find_bindir()
    if bindir is None:
        raise ClusterUnavailableError("PostgreSQL server binaries (initdb, pg_ctl) not found")
    user = None
    root = Path(tempfile.mkdtemp(prefix="gimark-pg-"))
    if os.geteuid() == 0:
        try:
            entry = pwd.getpwnam("postgres")
        except KeyError:
            raise ClusterUnavailableError(
                "running as root and there is no 'postgres' user"
            ) from None
        os.chown(root, entry.pw_uid, entry.pw_gid)
        user = "postgres"
    cluster = Cluster(bindir=bindir, root=root, port=free_port(), user=user)
    cluster.start(durable=durable)
    return cluster
