"""``gimark serve`` for real: gunicorn's access log keeps no personal information unless
the operator asks, and what its workers write into GIMARK_HOME is the owner's alone.

Each test starts gunicorn in its own process (one worker, a free port) with a loose umask,
as a careless service manager would, and reads what it logged on stdout.
"""

from __future__ import annotations

import http.client
import io
import json
import os
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

GIMARK = str(Path(sys.executable).with_name("gimark"))
USER_AGENT = "Mozilla/5.0 (iPhone) MicroMessenger/8.0.47 UA-MARKER"
QUERY = "lat=28.228&lon=112.939&lang=en&q=QUERY-MARKER"
PATH = "/V/NOT-A-GIMARK-CODE"
LOOSE_UMASK = 0o002  # group- and world-readable files, if gimark did not set its own


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def clean_env(home: Path) -> dict[str, str]:
    """This environment, with ``home`` and the defaults for what these tests look at."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("GIMARK_ACCESS_LOG", "GIMARK_DATABASE_URL")
    }
    return env | {"GIMARK_HOME": str(home)}


@contextmanager
def serving(home: Path, *options: str, **env: str) -> Iterator[tuple[int, Callable[[], str]]]:
    """``gimark serve OPTIONS`` on a free port: (the port, a function stopping it and
    returning its stdout, the access log)."""
    port = free_port()
    full_env = {**clean_env(home), "GIMARK_SECRET_KEY": "x" * 32, **env}
    server = subprocess.Popen(
        [GIMARK, "serve", "--port", str(port), "--workers", "1", *options],
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        umask=LOOSE_UMASK,
    )
    stopped: list[str] = []

    def stop() -> str:
        if not stopped:
            server.terminate()
            out, _err = server.communicate(timeout=20)
            stopped.append(out)
        return stopped[0]

    try:
        deadline = time.monotonic() + 20  # seconds: two shared cores, a cold import
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                assert server.poll() is None, server.communicate()[1][-2000:]
                assert time.monotonic() < deadline, "gimark serve did not start listening"
                time.sleep(0.1)
        yield port, stop
    finally:
        stop()


def request(port: int, method: str, path: str, body: bytes | None = None, **headers: str) -> int:
    """The status of one request to our own server (http.client: no redirects, no proxies)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def get(port: int, path: str) -> int:
    return request(port, "GET", path, **{"User-Agent": USER_AGENT})


def test_the_access_log_keeps_path_and_status_only(tmp_path: Path) -> None:
    with serving(tmp_path / "home") as (port, stop):
        assert get(port, f"{PATH}?{QUERY}") == 200
        log = stop()
    lines = [line for line in log.splitlines() if PATH in line]
    assert len(lines) == 1, log
    line = lines[0]
    assert f'"GET {PATH}" 200' in line
    for personal in ("127.0.0.1", "UA-MARKER", "MicroMessenger", "QUERY-MARKER", "lat=", "?"):
        assert personal not in line, f"{personal!r} in the access log: {line}"


def test_an_operator_may_ask_for_the_full_log(tmp_path: Path) -> None:
    with serving(tmp_path / "home", GIMARK_ACCESS_LOG="full") as (port, stop):
        get(port, f"{PATH}?{QUERY}")
        log = stop()
    line = next(line for line in log.splitlines() if PATH in line)
    assert line.startswith("127.0.0.1 ") and "UA-MARKER" in line and "QUERY-MARKER" in line


@pytest.mark.parametrize(
    ("option", "environment", "expected"),
    [
        ("full", "private", "full"),
        ("off", "full", "off"),
        ("private", "full", "private"),
    ],
)
def test_the_access_log_option_overrides_the_environment(
    tmp_path: Path, option: str, environment: str, expected: str
) -> None:
    with serving(tmp_path / "home", "--access-log", option, GIMARK_ACCESS_LOG=environment) as (
        port,
        stop,
    ):
        get(port, f"{PATH}?{QUERY}")
        log = stop()
    lines = [line for line in log.splitlines() if PATH in line]
    if expected == "off":
        assert lines == [], log
    else:
        assert len(lines) == 1, log
        assert ("UA-MARKER" in lines[0]) == (expected == "full"), lines[0]


def test_a_client_stalling_halfway_through_its_body_does_not_stall_the_server(
    tmp_path: Path,
) -> None:
    # One worker, as these tests run it, with its default threads: three stalled uploads
    # hold three of them (with sync workers they would hold the worker until gunicorn's
    # 30 s timeout, and the requests below would time out after 10 s).
    home = tmp_path / "home"
    code = demo_at(home)["samples"][0]["url"].split("/", 3)[3]
    with serving(home) as (port, _stop):
        stalled = []
        for _ in range(3):
            client = socket.create_connection(("127.0.0.1", port))
            client.sendall(
                b"POST /api/v1/reports HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
                b'{"code": "'
            )
            stalled.append(client)
        try:
            time.sleep(1)  # both are being read by now
            assert get(port, "/healthz") == 200
            assert get(port, f"/{code}") == 200  # a scan: the database is read and written
        finally:
            for client in stalled:
                client.close()


def test_an_unknown_access_log_choice_is_refused(run: Callable[..., Any]) -> None:
    failed = run("serve", "--json", ok=False, env={"GIMARK_ACCESS_LOG": "everything"})
    assert failed.exit_code != 0
    error = json.loads(failed.stderr)["error"]
    assert "GIMARK_ACCESS_LOG" in error["en"] and "GIMARK_ACCESS_LOG" in error["zh"]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (163, 40, 28)).save(out, "JPEG")
    return out.getvalue()


def multipart(fields: dict[str, str], photo: bytes) -> tuple[bytes, str]:
    boundary = "gimark-test-boundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="photo"; filename="a.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n".encode()
        + photo
        + b"\r\n"
    )
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), boundary


def demo_at(home: Path) -> dict[str, Any]:
    """``gimark demo --no-serve`` in ``home``: its JSON report."""
    demo = subprocess.run(
        [GIMARK, "demo", "--no-serve", "--json"],
        env=clean_env(home),
        capture_output=True,
        text=True,
        check=False,
    )
    assert demo.returncode == 0, demo.stderr
    report: dict[str, Any] = json.loads(demo.stdout)
    return report


def test_a_report_photo_folder_made_by_a_worker_is_the_owners_alone(tmp_path: Path) -> None:
    home = tmp_path / "home"
    code = demo_at(home)["samples"][0]["url"]
    with serving(home) as (port, _stop):
        body, boundary = multipart({"code": code, "text": "label looks odd"}, jpeg())
        content_type = f"multipart/form-data; boundary={boundary}"
        assert (
            request(port, "POST", "/api/v1/reports", body, **{"Content-Type": content_type}) == 201
        )
    folders = [p for p in home.rglob("*") if p.is_dir() and any(p.glob("*.jpg"))]
    assert len(folders) == 1, sorted(home.rglob("*"))
    assert mode(folders[0]) == 0o700, f"{folders[0]}: {oct(mode(folders[0]))}"
