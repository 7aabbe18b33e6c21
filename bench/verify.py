"""Benchmark: the public verification API under load, on SQLite and on PostgreSQL.

Usage: ``.venv/bin/python bench/verify.py [--seconds 12] [--labels 1000000]`` (also
``--batches``, ``--codes``, ``--databases sqlite,postgresql``, ``--sqlite-synchronous
full,normal``, ``--workers``, ``--threads``, ``--connections``, ``--rounds``; ``--seconds 3
--labels 100000`` for a quick run). The whole default run takes about two minutes.

What is measured. For each database a fresh instance is set up in a temporary GIMARK_HOME:
migrations, an issuer key, a product, an enterprise and its authorization, a printer, and
``--labels`` issued labels in ``--batches`` batches (each requested, approved, printed and
delivered through the batch services: one row per batch, so the serial → batch lookup has
that many rows to search). ``--codes`` serials spread at random over the whole range are
signed (real Ed25519 QR codes) into a file that a wrk Lua script cycles through, so every
request in a run carries a different code. gunicorn serves ``gimark.verify_web:create_app()``
on 127.0.0.1 with 2 sync workers by default, as ``gimark serve`` runs (one per core here:
more get less done; measured on this 2-core machine with PostgreSQL, 1,937 verifications/s
for 2 workers, 1,778 for 3, 1,460–1,700 for 4 in three runs, since a worker that waits on
the database costs less than the switching between more workers and their database
backends); wrk (one thread) drives it on the same cores as the server and the database,
after a warm-up, for ``--seconds`` per endpoint:

* ``GET /healthz`` — the trivial endpoint of the same app, same server, same run;
* ``GET /api/v1/verify?code=…`` — a full scan: signature, state, duplicate pattern, and one
  scan row committed per request.

The two alternate in ``--rounds`` pairs (ping, then verify, each ``--seconds / --rounds``):
on a shared machine a slow spell of a few seconds would otherwise fall on one endpoint
only and skew their ratio. Requests/s is the mean of the rounds, p50 their median, p99 the
worst round's, and the ratio to ping the median of the rounds' own ratios.

wrk sends no cookie, so every request is a new scanner (the response sets ``gm_sid``): the
worst case for the per-serial scanner table, which gets one insert per scan.

Durability. Every request must leave one committed scan row. The scans are counted before
the verify run and again after the server has stopped; the increase must be at least the
number of 2xx responses wrk received and at most that plus the requests still in flight
when wrk stopped (one per connection and round: the server finishes and records them, wrk
no longer counts them). The Lua script also counts responses that say ``"recorded": false``
(a scan answered without being written); there must be none. PostgreSQL (a fresh cluster on
this machine, reached over its Unix socket as a server on the same machine is) runs with
fsync and synchronous_commit on (a commit returns after its WAL is flushed); SQLite runs in
WAL mode with ``synchronous=FULL`` (gimark's default: the WAL is synced at every commit),
and, for comparison, with ``synchronous=NORMAL`` (``?synchronous=normal`` on the database
URL: a commit survives a crash of the application, the last ones may be lost on power loss).

CPU. The machine may be shared: each run reports the CPU time per request of the bench's own
processes (the gunicorn and PostgreSQL process trees, wrk) and how many cores other
processes used meanwhile; figures taken while others used more than a quarter of a core are
flagged.

Prints a table, the figures against the issue's targets, then one JSON line:
``sqlite_per_s``, ``sqlite_p99_ms`` (the default, FULL), ``pg_per_s``, ``pg_p99_ms``,
``pg_ratio_to_trivial``, then ``sqlite_full_per_s``, ``sqlite_full_p99_ms`` (the same run,
under the name earlier versions gave it), ``sqlite_normal_per_s``, ``sqlite_normal_p99_ms``
and ``durable``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

# The throwaway PostgreSQL cluster is the tests' support; bench/ scripts import it from there.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from seeding import ACTOR, PASSPHRASE, approved_batch, seed
from sqlalchemy import func, select
from support.pgcluster import Cluster, free_port, start_cluster

from gimark.core.db import Database
from gimark.core.settings import Settings
from gimark.keys.services import load_signer
from gimark.labels.issuing.batches import mark_printed
from gimark.labels.issuing.codes import encode_url, sign_codes
from gimark.labels.issuing.ledger import deliver_batch
from gimark.labels.scanning.models import ScanRecord

BASE_URL = "HTTPS://GI.EXAMPLE.CN/V"
TARGETS = {
    "pg_per_s": 1000.0,
    "pg_p99_ms": 50.0,
    "pg_ratio_to_trivial": 0.25,
    "sqlite_per_s": 1200.0,
}
WRK_SCRIPT = """\
-- Cycle through the signed codes (one path a line), from an offset given after "--".
-- The requests are formatted once, before the run: wrk shares the cores with the server,
-- and formatting each request anew would charge its Lua work to the verify figures.
local requests = {}
for line in io.lines(os.getenv("GIMARK_BENCH_PATHS")) do
  requests[#requests + 1] = wrk.format("GET", line)
end
local i = 0
unrecorded, bad = 0, 0  -- globals: done() reads them with thread:get
function init(args) i = tonumber(args[1] or "0") % #requests end
function request()
  i = i % #requests + 1
  return requests[i]
end
function response(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
  if body and string.find(body, '"recorded"%s*:%s*false') then unrecorded = unrecorded + 1 end
end
local threads = {}
function setup(thread) table.insert(threads, thread) end
function done(summary, latency, requests)
  local u, b = 0, 0
  for _, t in ipairs(threads) do u = u + t:get("unrecorded"); b = b + t:get("bad") end
  io.write(string.format("GIMARK unrecorded=%d non200=%d\\n", u, b))
end
"""


@dataclass(frozen=True)
class Load:
    """How the server is run and driven."""

    workers: int
    threads: int  # per worker; 1: gunicorn's sync worker, more: gthread
    connections: int
    seconds: int  # per endpoint, over all rounds
    warmup: int
    rounds: int

    @property
    def round_seconds(self) -> int:
        return max(1, self.seconds // self.rounds)

    @property
    def worker_model(self) -> str:
        if self.threads == 1:
            return f"{self.workers} sync workers"
        return f"{self.workers} gthread workers x {self.threads} threads"


@dataclass
class WrkResult:
    """What one wrk run reported."""

    requests: int
    per_s: float
    p50_ms: float
    p99_ms: float
    non_2xx: int = 0
    socket_errors: int = 0
    unrecorded: int = 0
    cpu_ms_per_request: float = 0.0  # server, database and wrk together
    cpu_split_ms: tuple[float, ...] = ()  # server, [database,] wrk
    other_cores: float = 0.0  # CPU used meanwhile by processes that are not the bench's

    @property
    def ok(self) -> int:
        return self.requests - self.non_2xx


def combined(runs: list[WrkResult]) -> WrkResult:
    """Rounds of equal length as one run: the mean rate, the median p50, the worst p99."""
    requests = sum(r.requests for r in runs)
    weights = [r.requests / max(requests, 1) for r in runs]
    split = tuple(
        sum(w * r.cpu_split_ms[i] for w, r in zip(weights, runs, strict=True))
        for i in range(len(runs[0].cpu_split_ms))
    )
    return WrkResult(
        requests=requests,
        per_s=statistics.fmean(r.per_s for r in runs),
        p50_ms=statistics.median(r.p50_ms for r in runs),
        p99_ms=max(r.p99_ms for r in runs),
        non_2xx=sum(r.non_2xx for r in runs),
        socket_errors=sum(r.socket_errors for r in runs),
        unrecorded=sum(r.unrecorded for r in runs),
        cpu_ms_per_request=sum(
            w * r.cpu_ms_per_request for w, r in zip(weights, runs, strict=True)
        ),
        cpu_split_ms=split,
        other_cores=max(r.other_cores for r in runs),
    )


@dataclass
class Measured:
    """One database's figures."""

    name: str
    trivials: list[WrkResult]  # one per round
    verifies: list[WrkResult]
    rows_added: int
    connections: int
    notes: list[str] = field(default_factory=list)

    @property
    def trivial(self) -> WrkResult:
        return combined(self.trivials)

    @property
    def verify(self) -> WrkResult:
        return combined(self.verifies)

    @property
    def ratios(self) -> list[float]:
        """Verify over ping, round by round (each pair run back to back)."""
        return [v.per_s / t.per_s for t, v in zip(self.trivials, self.verifies, strict=True)]

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios)

    @property
    def in_flight(self) -> int:
        """Requests wrk may have left unanswered (one per connection at each stop)."""
        return self.connections * len(self.verifies)

    @property
    def durable(self) -> bool:
        ok = self.verify.ok
        return ok <= self.rows_added <= ok + self.in_flight and not self.verify.unrecorded


# --- the instance ------------------------------------------------------------------------------


def set_up(settings: Settings, labels: int, batches: int, codes: int) -> Path:
    """Registry, key and delivered batches; returns the file of request paths (one code each)."""
    db, ids = seed(settings)
    sizes = [labels // batches + (1 if i < labels % batches else 0) for i in range(batches)]
    ranges = [_delivered_batch(db, size, ids) for size in sizes]
    with db.session() as s:
        signer = load_signer(s, settings, PASSPHRASE)
    db.dispose()
    population = [serial for first, last in ranges for serial in (first, last)]
    rng = random.Random(20240501)
    first, last = min(population), max(population)
    serials = rng.sample(range(first, last + 1), min(codes, last - first + 1))
    path = settings.home / "paths.txt"
    with path.open("w") as lines:
        for code in sign_codes(signer, serials):
            lines.write(f"/api/v1/verify?code={quote(encode_url(code, BASE_URL), safe='')}\n")
    return path


def _delivered_batch(db: Database, size: int, ids: tuple[int, int, int]) -> tuple[int, int]:
    with db.session() as s:
        batch = approved_batch(s, size, ids)
        mark_printed(s, batch.id, actor=ACTOR, detail={"files": []})
        deliver_batch(s, batch.id, actor=ACTOR)
        assert batch.serial_first is not None and batch.serial_last is not None
        return batch.serial_first, batch.serial_last


def count_scans(url: str) -> int:
    db = Database(url)
    try:
        with db.session() as s:
            return s.scalar(select(func.count()).select_from(ScanRecord)) or 0
    finally:
        db.dispose()


# --- CPU accounting (the machine may be shared: say how much of it we had) ------------------


def proc_children() -> dict[int, list[int]]:
    """Every process's children, from /proc: pid -> child pids."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _busy_seconds() -> float:
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    ticks = [int(f) for f in fields]
    idle = ticks[3] + ticks[4]  # idle + iowait
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU used by the whole machine and by the bench's own processes (server trees: the
    gunicorn master and workers, the PostgreSQL postmaster and backends; wrk is counted
    from its rusage) between two snapshots."""

    def __init__(self, roots: list[int]) -> None:
        self.roots = roots

    def ours(self) -> list[float]:
        """CPU seconds of each root's process tree."""
        children = proc_children()
        totals = []
        for root in self.roots:
            total, stack = 0.0, [root]
            while stack:
                pid = stack.pop()
                total += _cpu_seconds(pid)
                stack.extend(children.get(pid, []))
            totals.append(total)
        return totals

    def snapshot(self) -> tuple[float, list[float]]:
        return _busy_seconds(), self.ours()


# --- the server and the load -------------------------------------------------------------------


class Server:
    """gunicorn serving the app on a free loopback port."""

    def __init__(self, settings: Settings, load: Load, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = os.environ | {
            "GIMARK_HOME": str(settings.home),
            "GIMARK_DATABASE_URL": settings.effective_database_url,
            "GIMARK_BASE_URL": BASE_URL,
            "GIMARK_KEY_PASSPHRASE": PASSPHRASE,
            # wrk is one address: a limit it can never reach, still counted on every scan,
            # so its cost is in the figures.
            "GIMARK_LIMIT_SCANS_PER_ADDRESS": str(10**9),
        }
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            f"--bind=127.0.0.1:{self.port}",
            f"--workers={load.workers}",
            f"--worker-class={'sync' if load.threads == 1 else 'gthread'}",
            f"--threads={load.threads}",
            f"--backlog={max(64, load.connections * 4)}",
            "--timeout=30",
            "--graceful-timeout=10",
            f"--error-logfile={log}",
            "gimark.verify_web:create_app()",
        ]
        self.process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL)

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                ping = self.url + "/healthz"  # http on loopback, built above
                with urllib.request.urlopen(ping, timeout=2) as answer:  # noqa: S310
                    if answer.status == 200:
                        return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not start; see its log") from None
                time.sleep(0.2)

    def stop(self) -> None:
        """Graceful stop: workers finish the requests they hold (and commit their scans)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


_LATENCY = re.compile(r"^\s*(50|99)%\s+([\d.]+)(us|ms|s|m)\s*$", re.MULTILINE)
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def run_wrk(
    url: str,
    load: Load,
    seconds: int,
    script: Path | None,
    offset: int = 0,
    meter: CpuMeter | None = None,
) -> WrkResult:
    """One wrk run; its figures parsed from the text it prints, its CPU use from ``meter``."""
    command = ["wrk", "-t1", f"-c{load.connections}", f"-d{seconds}s", "--latency", "--timeout=10s"]
    if script is not None:
        command += ["-s", str(script), url, "--", str(offset)]
    else:
        command.append(url + "/healthz")
    meter = meter or CpuMeter([])
    busy, ours = meter.snapshot()
    wrk_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    elapsed = time.monotonic() - started
    wrk_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy_after, ours_after = meter.snapshot()
    wrk_cpu = sum(getattr(wrk_after, f) - getattr(wrk_before, f) for f in ("ru_utime", "ru_stime"))
    split = [after - before for before, after in zip(ours, ours_after, strict=True)] + [wrk_cpu]
    used = sum(split)
    try:
        latency = {q: float(v) * _UNITS[u] for q, v, u in _LATENCY.findall(out)}
        requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
        per_s = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    except (AttributeError, KeyError) as exc:
        raise RuntimeError(f"cannot read wrk's output:\n{out}") from exc
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    unrecorded = re.search(r"GIMARK unrecorded=(\d+)", out)
    return WrkResult(
        requests=requests,
        per_s=per_s,
        p50_ms=latency["50"],
        p99_ms=latency["99"],
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in errors.groups()) if errors else 0,
        unrecorded=int(unrecorded.group(1)) if unrecorded else 0,
        cpu_ms_per_request=1000 * used / max(requests, 1),
        cpu_split_ms=tuple(1000 * part / max(requests, 1) for part in split),
        other_cores=max(0.0, busy_after - busy - used) / elapsed,
    )


def measure(
    name: str, settings: Settings, paths: Path, load: Load, work: Path, database_pid: int | None
) -> Measured:
    """Serve ``settings``' instance and drive it: trivial endpoint and verify, in rounds."""
    script = work / "verify.lua"
    script.write_text(WRK_SCRIPT)
    os.environ["GIMARK_BENCH_PATHS"] = str(paths)
    codes = sum(1 for _ in paths.open())
    server = Server(settings, load, work / f"gunicorn-{name}.log")
    url = settings.effective_database_url
    meter = CpuMeter([server.process.pid] + ([database_pid] if database_pid else []))
    try:
        server.wait_ready()
        # Warm-up: every worker imports, connects and fills its caches (keys, registry).
        run_wrk(server.url, load, load.warmup, None)
        run_wrk(server.url, load, load.warmup, script, offset=0)
        time.sleep(0.5)  # the warm-up's last requests are committed by now
        before = count_scans(url)
        # Ping and verify alternate, so that a slow spell of a shared machine weighs on both.
        trivials, verifies = [], []
        for n in range(load.rounds):
            trivials.append(run_wrk(server.url, load, load.round_seconds, None, meter=meter))
            offset = (n + 1) * codes // (load.rounds + 1)  # rounds apart, and after the warm-up
            verifies.append(
                run_wrk(server.url, load, load.round_seconds, script, offset=offset, meter=meter)
            )
    finally:
        server.stop()
    rows_added = count_scans(url) - before
    return Measured(name, trivials, verifies, rows_added, load.connections)


# --- the databases -----------------------------------------------------------------------------


def sqlite_case(work: Path, args: argparse.Namespace, load: Load, mode: str) -> Measured:
    home = work / f"sqlite-{mode}"
    database = home / "gimark.sqlite3"
    url = f"sqlite:///{database}" + ("" if mode == "full" else f"?synchronous={mode}")
    settings = Settings(home=home, database_url=url, base_url=BASE_URL, key_passphrase=PASSPHRASE)
    paths = set_up(settings, args.labels, args.batches, args.codes)
    return measure(f"sqlite ({mode})", settings, paths, load, work, None)


def postgres_case(work: Path, args: argparse.Namespace, load: Load) -> Measured:
    cluster: Cluster = start_cluster(durable=True)
    try:
        with cluster.admin() as conn:
            conn.execute("CREATE DATABASE gimark_bench")
            settings_rows = conn.execute(
                "SELECT name, current_setting(name) FROM pg_settings WHERE name IN "
                "('fsync', 'synchronous_commit', 'full_page_writes', 'shared_buffers')"
            ).fetchall()
        home = work / "postgresql"
        settings = Settings(
            home=home,
            database_url=cluster.socket_url("gimark_bench"),
            base_url=BASE_URL,
            key_passphrase=PASSPHRASE,
        )
        paths = set_up(settings, args.labels, args.batches, args.codes)
        postmaster = int((cluster.datadir / "postmaster.pid").read_text().split()[0])
        measured = measure("postgresql", settings, paths, load, work, postmaster)
        measured.notes.append(
            "over the Unix socket; " + ", ".join(f"{n}={v}" for n, v in settings_rows)
        )
        return measured
    finally:
        cluster.stop()


# --- the report --------------------------------------------------------------------------------


def table(results: list[Measured], load: Load, args: argparse.Namespace) -> str:
    lines = [
        f"{args.labels:,} labels in {args.batches} batches, {args.codes:,} distinct codes; "
        f"{load.worker_model}; wrk -t1 -c{load.connections}, {load.rounds} rounds of "
        f"{load.round_seconds}s per endpoint, ping and verify alternating (warm-up "
        f"{load.warmup}s); every request a new scanner; req/s: mean of the rounds; p50: median;"
        " p99: worst round; vs ping: median of the rounds' ratios; cpu ms: CPU time per request"
        " of server + database + wrk; other: most cores used meanwhile by processes not ours",
        f"{'database':<20}{'endpoint':<9}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'cpu ms':>8}{'other':>7}{'vs ping':>9}{'2xx':>9}{'rows +':>9}{'lost':>6}",
    ]
    for m in results:
        for endpoint, r in (("ping", m.trivial), ("verify", m.verify)):
            is_verify = endpoint == "verify"
            lines.append(
                f"{m.name:<20}{endpoint:<9}{r.per_s:>9,.0f}{r.p50_ms:>9.2f}{r.p99_ms:>9.2f}"
                f"{r.cpu_ms_per_request:>8.2f}{r.other_cores:>7.2f}"
                + (f"{m.ratio:>9.2f}" if is_verify else f"{'':>9}")
                + (f"{r.ok:>9,}{m.rows_added:>9,}{r.unrecorded:>6}" if is_verify else "")
            )
        rounds = ", ".join(
            f"{t.per_s:,.0f}/{v.per_s:,.0f} = {v.per_s / t.per_s:.3f}"
            for t, v in zip(m.trivials, m.verifies, strict=True)
        )
        lines.append(f"  rounds (ping/verify req/s = ratio): {rounds}")
        busiest = max(m.trivial.other_cores, m.verify.other_cores)
        if busiest > 0.25:
            lines.append(f"  !! other processes used up to {busiest:.2f} cores: figures are low")
        if m.verify.socket_errors or m.verify.non_2xx:
            lines.append(f"  !! {m.verify.non_2xx} non-2xx, {m.verify.socket_errors} socket errors")
        lines.append(
            f"  durability: {m.rows_added:,} scan rows for {m.verify.ok:,} 2xx responses "
            f"(+ up to {m.in_flight} in flight when wrk stopped): "
            + ("ok" if m.durable else "FAILED")
        )
        parts = ("app", "database", "wrk") if len(m.verify.cpu_split_ms) == 3 else ("app", "wrk")
        for endpoint, r in (("ping", m.trivial), ("verify", m.verify)):
            split = ", ".join(f"{p} {ms:.2f}" for p, ms in zip(parts, r.cpu_split_ms, strict=True))
            lines.append(f"  cpu ms per {endpoint} request: {split}")
        lines += [f"  {note}" for note in m.notes]
    return "\n".join(lines)


def figures(results: list[Measured]) -> dict[str, float | bool]:
    by_name = {m.name: m for m in results}
    out: dict[str, float | bool] = {}
    if (sqlite := by_name.get("sqlite (full)")) is not None:
        out |= {"sqlite_per_s": round(sqlite.verify.per_s), "sqlite_p99_ms": sqlite.verify.p99_ms}
    if (pg := by_name.get("postgresql")) is not None:
        out |= {
            "pg_per_s": round(pg.verify.per_s),
            "pg_p99_ms": pg.verify.p99_ms,
            "pg_ratio_to_trivial": round(pg.ratio, 3),
        }
    if sqlite is not None:
        out |= {
            "sqlite_full_per_s": out["sqlite_per_s"],
            "sqlite_full_p99_ms": out["sqlite_p99_ms"],
        }
    if (normal := by_name.get("sqlite (normal)")) is not None:
        out |= {
            "sqlite_normal_per_s": round(normal.verify.per_s),
            "sqlite_normal_p99_ms": normal.verify.p99_ms,
        }
    out["durable"] = all(m.durable for m in results)
    return out


def targets(out: dict[str, float | bool]) -> str:
    """The figures against the issue's targets."""
    lines = ["targets:"]
    for key, target in TARGETS.items():
        if key in out:
            value = float(out[key])
            met = value < target if key.endswith("_ms") else value >= target
            relation = "<" if key.endswith("_ms") else ">="
            verdict = "met" if met else "MISSED"
            lines.append(f"  {key:<22}{value:>10.3f}  target {relation} {target:g}: {verdict}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--seconds", type=int, default=12, help="per endpoint, over all rounds (default 12)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="ping/verify pairs (default 3)")
    parser.add_argument("--warmup", type=int, default=2, help="seconds per warm-up run")
    parser.add_argument("--labels", type=int, default=1_000_000)
    parser.add_argument("--batches", type=int, default=100)
    parser.add_argument("--codes", type=int, default=50_000, help="distinct codes to request")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument(
        "--sqlite-synchronous", default="full,normal", help="full, normal or both (default)"
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--threads", type=int, default=1, help="per worker; >1 uses gthread")
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (Debian: apt-get install wrk)")
    load = Load(
        args.workers, args.threads, args.connections, args.seconds, args.warmup, args.rounds
    )
    databases = args.databases.split(",")
    results: list[Measured] = []
    with tempfile.TemporaryDirectory(prefix="gimark-bench-verify-") as tmp:
        work = Path(tmp)
        if "sqlite" in databases:
            for mode in args.sqlite_synchronous.replace("both", "full,normal").split(","):
                results.append(sqlite_case(work, args, load, mode))
        if "postgresql" in databases:
            results.append(postgres_case(work, args, load))
    print(table(results, load, args))
    out = figures(results)
    print(targets(out))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
