"""The abusive clients of ``bench/abuse.py`` and the sampler of the workers' memory.

* :class:`PhotoBomber`: posts 64-megapixel images (a few KB of PNG or WebP each) as the photo
  of a consumer report, back to back, and counts the answers by status and error code.
* :class:`LoginGuesser`: tries a wrong password on the portal's sign-in form at a steady
  rate (the CSRF token and session cookie read once from the form, as a script would; again
  after a 400), whatever the answers'
  latency: each attempt runs on a small pool, so a slow answer does not slow the rate.
* :class:`RssSampler`: the resident size of the gunicorn master's worker processes, sampled
  from ``/proc/<pid>/status`` (VmRSS), and their high-water mark (VmHWM, the peak the kernel
  saw between samples too).

Plain ``urllib``: the bench adds no HTTP client to the dependencies.
"""

from __future__ import annotations

import io
import json
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image
from verify import proc_children

MB = 1024 * 1024
_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
POOL = 8  # sign-in attempts in flight at most
TIMEOUT = 60.0  # seconds per abusive request: a stuck answer is counted, not waited for


def bomb(kind: str, side: int) -> bytes:
    """A one-colour image: a few KB of file, ``side``² pixels once decoded (as the tests')."""
    out = io.BytesIO()
    Image.new("L" if kind == "PNG" else "RGB", (side, side)).save(out, kind, lossless=True)
    return out.getvalue()


@dataclass
class Answers:
    """What the server answered: a count per ``"<status> <error code>"`` and the latencies."""

    counts: Counter[str] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, outcome: str, ms: float) -> None:
        with self.lock:
            self.counts[outcome] += 1
            self.latencies_ms.append(ms)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def with_status(self, status: int) -> int:
        return sum(n for key, n in self.counts.items() if key.split()[0] == str(status))


def _send(opener: urllib.request.OpenerDirector, req: urllib.request.Request) -> tuple[int, bytes]:
    try:
        with opener.open(req, timeout=TIMEOUT) as answer:
            return int(answer.status), bytes(answer.read())
    except urllib.error.HTTPError as exc:  # 4xx/5xx: an answer, not a failure
        return exc.code, exc.read()


def _error_code(body: bytes) -> str:
    try:
        return str(json.loads(body)["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return ""


def post_photo(url: str, photo: bytes, kind: str) -> tuple[int, str, float]:
    """POST a report with ``photo``; its status, error code and milliseconds."""
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in (("code", ""), ("text", "看这张图 / look at this"), ("contact", ""))
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="photo"; '
        f'filename="label.{kind.lower()}"\r\nContent-Type: image/{kind.lower()}\r\n\r\n'.encode()
        + photo
        + f"\r\n--{boundary}--\r\n".encode()
    )
    req = urllib.request.Request(  # noqa: S310 - http on loopback, built by the bench
        url + "/api/v1/reports",
        data=b"".join(parts),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        method="POST",
    )
    started = time.perf_counter()
    status, body = _send(urllib.request.build_opener(), req)
    return status, _error_code(body), 1000 * (time.perf_counter() - started)


class PhotoBomber(threading.Thread):
    """One client posting 64 MP images (PNG and WebP in turn) until ``stop`` is set."""

    def __init__(self, url: str, photos: list[tuple[str, bytes]], stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.url, self.photos, self.stop = url, photos, stop
        self.answers = Answers()

    def run(self) -> None:
        n = 0
        while not self.stop.is_set():
            kind, data = self.photos[n % len(self.photos)]
            n += 1
            try:
                status, code, ms = post_photo(self.url, data, kind)
            except OSError as exc:
                self.answers.add(f"error {type(exc).__name__}", 0.0)
                continue
            self.answers.add(f"{status} {code}".strip(), ms)


class LoginGuesser(threading.Thread):
    """Wrong passwords for ``username`` at ``rate`` attempts per second until ``stop``."""

    def __init__(self, url: str, username: str, rate: float, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.url, self.username, self.rate, self.stop = url, username, rate, stop
        self.opener = urllib.request.build_opener()
        self.token, self.cookie = "", ""
        self.answers = Answers()
        self.seconds = 0.0  # how long it ran: attempts / seconds is the rate achieved
        self.in_flight = self.in_flight_max = 0  # attempts sent and not yet answered

    def _fetch_token(self) -> None:
        # The session cookie (which the token is bound to) is marked Secure, as the service is
        # served over HTTPS; a script sends it back over plain HTTP all the same.
        req = urllib.request.Request(self.url + "/portal/login")  # noqa: S310 - loopback
        with self.opener.open(req, timeout=TIMEOUT) as answer:
            body = answer.read().decode(errors="replace")
            cookies = answer.headers.get_all("Set-Cookie") or []
        found = _TOKEN.search(body)
        if found is None:
            raise RuntimeError("no CSRF token on /portal/login")
        self.token = found.group(1)
        self.cookie = "; ".join(c.split(";", 1)[0] for c in cookies)

    def attempt(self, n: int) -> None:
        form = {"username": self.username, "password": f"wrong guess {n:06d}"}
        data = urllib.parse.urlencode(form | {"csrf_token": self.token}).encode()
        headers = {"Cookie": self.cookie, "Referer": self.url + "/portal/login"}
        req = urllib.request.Request(  # noqa: S310 - http on loopback, built by the bench
            self.url + "/portal/login", data=data, headers=headers
        )
        started = time.perf_counter()
        with self.answers.lock:
            self.in_flight += 1
            self.in_flight_max = max(self.in_flight_max, self.in_flight)
        try:
            status, _ = _send(self.opener, req)
        except OSError as exc:
            self.answers.add(f"error {type(exc).__name__}", 0.0)
            return
        finally:
            with self.answers.lock:
                self.in_flight -= 1
        self.answers.add(str(status), 1000 * (time.perf_counter() - started))
        if status == 400:  # the token expired or was refused: read the form again
            self._fetch_token()

    def run(self) -> None:
        self._fetch_token()
        started = time.monotonic()
        # Up to POOL attempts in flight: as many as the server has threads (2 workers × 4).
        with ThreadPoolExecutor(max_workers=POOL, thread_name_prefix="login") as pool:
            n = 0
            while not self.stop.wait(max(0.0, started + n / self.rate - time.monotonic())):
                pool.submit(self.attempt, n)
                n += 1
            self.seconds = time.monotonic() - started


def worker_pids(master: int) -> list[int]:
    """The child processes of ``master`` (gunicorn's workers)."""
    return proc_children().get(master, [])


def status_mb(pid: int, name: str) -> float:
    """``name`` (VmRSS, VmHWM) of process ``pid`` in MB; 0 if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(name + ":"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return 0.0


class RssSampler(threading.Thread):
    """The largest VmRSS of any worker of ``master``, sampled every ``interval`` seconds."""

    def __init__(self, master: int, interval: float = 0.02) -> None:
        super().__init__(daemon=True)
        self.master, self.interval = master, interval
        self.stop = threading.Event()
        self.peak_mb = 0.0
        self.samples = 0

    def run(self) -> None:
        pids = worker_pids(self.master)
        refreshed = time.monotonic()
        while not self.stop.wait(self.interval):
            if time.monotonic() - refreshed > 1.0:  # a worker that died is replaced
                pids, refreshed = worker_pids(self.master), time.monotonic()
            for pid in pids:
                self.peak_mb = max(self.peak_mb, status_mb(pid, "VmRSS"))
            self.samples += 1

    def high_water_mb(self) -> float:
        """The largest VmHWM of the workers now: their peak since they started."""
        return max((status_mb(pid, "VmHWM") for pid in worker_pids(self.master)), default=0.0)

    def resident_mb(self) -> float:
        """The largest VmRSS of the workers now."""
        return max((status_mb(pid, "VmRSS") for pid in worker_pids(self.master)), default=0.0)
