"""Benchmark: decompression-bomb photos and password guessing against the real server.

Usage: ``.venv/bin/python bench/abuse.py [--quick] [--attribute] [--market]`` (also
``--database postgresql|sqlite``, ``--rounds``, ``--seconds``, ``--bombs``, ``--login-rate``,
``--photo-clients``, ``--connections``, ``--labels``, ``--codes``, ``--market-*``). ``--quick``
runs in about a minute, the default in about three (``--attribute`` doubles part 2).

What is measured. An instance is set up as for ``bench/verify.py`` (whose pieces this imports:
the seeding, the signed codes, the gunicorn ``Server`` and ``run_wrk``) with one portal account,
on PostgreSQL by default, and served by gunicorn as ``gimark serve`` runs it: 2 gthread workers
× 4 threads. It is run twice, each time on a fresh database and home:

* ``limits on``: the default limits, so the photo and sign-in limits answer 429;
* ``limits off``: GIMARK_LIMIT_{PHOTOS,REPORTS}_PER_{ADDRESS,SCANNER}, _LOGIN_PER_ADDRESS and
  _LOGIN_FAILURES set to 0 (0 switches a limit off), so what is measured is the pixel guard and
  the password hash's cost alone.

wrk runs from one address, so the scan and typed-lookup limits are off in both (they would
otherwise answer wrk's scans 429 and measure nothing).

1. Bombs, one at a time: ``--bombs`` PNGs and as many WebPs of 8000×8000 pixels (a few KB each)
   posted as a report's photo to ``POST /api/v1/reports``; the time to each answer, which must
   be 413 ``photo_too_many_pixels``, and the workers' memory: the largest VmRSS sampled every
   20 ms, and VmHWM (the kernel's high-water mark, between samples too) after the bombs.
2. Verification under abuse: ``--rounds`` pairs of an idle round (wrk alone, cycling signed
   codes on ``/api/v1/verify``) and an abuse round (the same, while ``--photo-clients`` clients
   post 64 MP images back to back and one more tries ``--login-rate`` wrong passwords a second
   on ``/portal/login``). p99 per round as wrk reports it; the ratio is abuse over idle, pair
   by pair, and its median is the configuration's ``verify_p99_ratio``. The abusive requests
   are counted by status (and error code). ``--attribute`` adds to each pair a round with the
   photo clients only and one with the guesser only, to tell their costs apart.

The abusive clients run in this process, on the same two cores as the server and wrk; the
cores they used are printed (an attacker's CPU would not be the server's, so this errs against
the server). wrk keeps 8 connections busy: the server is saturated in the idle rounds too, so
p99 is mostly queueing, and anything that takes CPU from verification shows in it.

Prints a table per configuration, then one JSON line: ``bomb_refused_ms_max`` (the slowest
refusal of part 1, both configurations), ``bomb_worker_rss_mb_max`` (the workers' peak through
part 1), ``worker_rss_mb_max`` (their peak through the whole run, abuse included),
``verify_p99_ratio`` (with the limits on: the service as it ships, which the target is about;
the limits-off ratio, ``off_verify_p99_ratio``, shows what the pixel guard and the password
hash cost without them, and on two shared cores ten scrypt checks a second take about 0.8 of a
core, so it is over 2), then per configuration (``on_`` /
``off_``) the p99s, rates and counts; with ``--market`` and a ``bench/abuse_market.py``, that
module's ``market_figures(seed, genuine, copies, attacked)`` too.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import resource
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import cast

# As bench/verify.py: the throwaway PostgreSQL cluster is the tests' support.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from abuse_load import LoginGuesser, PhotoBomber, RssSampler, bomb, post_photo
from seeding import PASSPHRASE
from support.pgcluster import start_cluster
from verify import BASE_URL, WRK_SCRIPT, CpuMeter, Load, Server, WrkResult, run_wrk, set_up

from gimark.core.db import Database
from gimark.core.settings import Settings
from gimark.verify_web.accounts.models import Role
from gimark.verify_web.accounts.services import create_account

SIDE = 8000  # pixels: 64 MP, over Pillow's guard (twice our 24 MP) and ours
USERNAME = "bench-inspector"
PASSWORD = "bench password, never guessed"  # noqa: S105 - a throwaway account
ALWAYS_OFF = ("SCANS_PER_ADDRESS", "TYPED_LOOKUPS_PER_ADDRESS")  # wrk is one address
ABUSE_LIMITS = (
    "PHOTOS_PER_ADDRESS",
    "PHOTOS_PER_SCANNER",
    "REPORTS_PER_ADDRESS",
    "REPORTS_PER_SCANNER",
    "LOGIN_PER_ADDRESS",
    "LOGIN_FAILURES",
)
TARGETS = {"bomb_refused_ms_max": 1000.0, "worker_rss_mb_max": 300.0, "verify_p99_ratio": 2.0}


@dataclass
class Case:
    """One configuration's figures."""

    name: str
    bombs: list[tuple[str, int, str, float]] = field(default_factory=list)  # kind, status, code, ms
    idle_rss_mb: float = 0.0
    bomb_rss_mb: float = 0.0  # sampled VmRSS peak through the bombs
    bomb_hwm_mb: float = 0.0
    rss_mb: float = 0.0  # sampled VmRSS peak through the whole case
    hwm_mb: float = 0.0
    idle: list[WrkResult] = field(default_factory=list)
    abused: list[WrkResult] = field(default_factory=list)
    photos: Counter[str] = field(default_factory=Counter)
    photo_ms: list[float] = field(default_factory=list)
    logins: Counter[str] = field(default_factory=Counter)
    login_seconds: float = 0.0
    login_ms: list[float] = field(default_factory=list)
    login_in_flight_max: int = 0
    abuser_cores: list[float] = field(default_factory=list)
    # --attribute: rounds with one kind of abuse only, by kind
    parts: dict[str, list[WrkResult]] = field(
        default_factory=lambda: {"photos only": [], "logins only": []}
    )

    def part_ratios(self, part: str) -> list[float]:
        return [a.p99_ms / i.p99_ms for i, a in zip(self.idle, self.parts[part], strict=True)]

    @property
    def ratios(self) -> list[float]:
        return [a.p99_ms / i.p99_ms for i, a in zip(self.idle, self.abused, strict=True)]

    def figures(self) -> dict[str, float]:
        p = self.name
        photo_ms = sorted(self.photo_ms) or [0.0]
        return {
            f"{p}_bomb_refused_ms_max": round(max(ms for *_, ms in self.bombs), 1),
            f"{p}_bombs_refused_413": sum(1 for _, s, *_ in self.bombs if s == 413),
            f"{p}_worker_rss_mb_idle": round(self.idle_rss_mb, 1),
            f"{p}_worker_rss_mb_max": round(max(self.rss_mb, self.hwm_mb), 1),
            f"{p}_verify_p99_ms_idle": statistics.median(r.p99_ms for r in self.idle),
            f"{p}_verify_p99_ms_abuse": statistics.median(r.p99_ms for r in self.abused),
            f"{p}_verify_p99_ratio": round(statistics.median(self.ratios), 3),
            f"{p}_verify_p99_ratio_worst": round(max(self.ratios), 3),
            f"{p}_verify_per_s_idle": round(statistics.fmean(r.per_s for r in self.idle)),
            f"{p}_verify_per_s_abuse": round(statistics.fmean(r.per_s for r in self.abused)),
            f"{p}_photo_posts": sum(self.photos.values()),
            f"{p}_photo_413": _with_status(self.photos, 413),
            f"{p}_photo_429": _with_status(self.photos, 429),
            f"{p}_photo_ms_p99": round(photo_ms[int(0.99 * (len(photo_ms) - 1))], 1),
            f"{p}_login_posts": sum(self.logins.values()),
            f"{p}_login_401": _with_status(self.logins, 401),
            f"{p}_login_429": _with_status(self.logins, 429),
            f"{p}_login_ms_p50": round(statistics.median(self.login_ms or [0.0]), 1),
            f"{p}_login_per_s": round(sum(self.logins.values()) / max(self.login_seconds, 1e-9), 2),
            f"{p}_abuser_cores": round(statistics.fmean(self.abuser_cores), 2),
            f"{p}_other_cores_max": round(
                max(
                    r.other_cores for r in [*self.idle, *self.abused, *chain(*self.parts.values())]
                ),
                2,
            ),
        } | {
            f"{p}_verify_p99_ratio_{part.replace(' ', '_')}": round(
                statistics.median(self.part_ratios(part)), 3
            )
            for part, runs in self.parts.items()
            if runs
        }


def _with_status(counts: Counter[str], status: int) -> int:
    return sum(n for key, n in counts.items() if key.split()[0] == str(status))


@contextmanager
def limits_env(off: tuple[str, ...]) -> Iterator[None]:
    """``GIMARK_LIMIT_<name>=0`` for ``off`` while the server starts (Server copies os.environ)."""
    names = [f"GIMARK_LIMIT_{n}" for n in off]
    saved = {n: os.environ.get(n) for n in names}
    os.environ.update(dict.fromkeys(names, "0"))
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def prepare(settings: Settings, args: argparse.Namespace) -> Path:
    """The instance (see bench/verify.py) and the portal account; the file of request paths."""
    paths = set_up(settings, args.labels, args.batches, args.codes)
    db = Database(settings.effective_database_url)
    try:
        with db.session() as s:
            create_account(s, username=USERNAME, password=PASSWORD, role=Role.INSPECTOR)
    finally:
        db.dispose()
    return paths


def run_case(
    name: str, settings: Settings, args: argparse.Namespace, work: Path, database_pid: int | None
) -> Case:
    """Serve the instance with the limits of ``name`` (on/off), then parts 1 and 2."""
    paths = prepare(settings, args)
    os.environ["GIMARK_BENCH_PATHS"] = str(paths)
    codes = sum(1 for _ in paths.open())
    script = work / "verify.lua"
    script.write_text(WRK_SCRIPT)
    load = Load(2, 4, args.connections, args.seconds, args.warmup, args.rounds)
    photos = [(kind, bomb(kind, SIDE)) for kind in ("PNG", "WEBP")]
    off = ALWAYS_OFF + (ABUSE_LIMITS if name == "off" else ())
    with limits_env(off):
        server = Server(settings, load, work / f"gunicorn-{name}.log")
    case = Case(name)
    sampler = RssSampler(server.process.pid)
    meter = CpuMeter([server.process.pid] + ([database_pid] if database_pid else []))
    try:
        server.wait_ready()
        run_wrk(server.url, load, load.warmup, script, offset=0)  # imports, pools, caches
        sampler.start()
        time.sleep(0.5)
        case.idle_rss_mb = sampler.resident_mb()
        # 1. One bomb at a time on an otherwise idle server.
        for _ in range(args.bombs):
            for kind, data in photos:
                status, code, ms = post_photo(server.url, data, kind)
                case.bombs.append((kind, status, code, ms))
        time.sleep(0.2)
        case.bomb_rss_mb, case.bomb_hwm_mb = sampler.peak_mb, sampler.high_water_mb()
        # 2. Idle and abuse rounds in turn: a slow spell of a shared machine weighs on both.
        kinds = [(True, True), (True, False), (False, True)] if args.attribute else [(True, True)]
        offsets = iter(range(0, codes, max(1, codes // (load.rounds * (1 + len(kinds)) + 1))))
        for _ in range(load.rounds):
            offset = next(offsets)
            idle = run_wrk(server.url, load, load.round_seconds, script, offset, meter)
            case.idle.append(idle)
            for bombs, guesses in kinds:
                abused = abuse_round(
                    server.url,
                    load,
                    script,
                    next(offsets),
                    args,
                    photos,
                    case,
                    meter,
                    bombs,
                    guesses,
                )
                if bombs and guesses:
                    case.abused.append(abused)
                else:
                    case.parts["photos only" if bombs else "logins only"].append(abused)
        case.rss_mb, case.hwm_mb = sampler.peak_mb, sampler.high_water_mb()
    finally:
        sampler.stop.set()
        server.stop()
    return case


def abuse_round(
    url: str,
    load: Load,
    script: Path,
    offset: int,
    args: argparse.Namespace,
    photos: list[tuple[str, bytes]],
    case: Case,
    meter: CpuMeter,
    bombs: bool = True,
    guesses: bool = True,
) -> WrkResult:
    """One wrk round while the bombers and the guesser run. With both, their answers are
    added to ``case``; with one only (``--attribute``), only wrk's figures are kept."""
    stop = threading.Event()
    bombers = [PhotoBomber(url, photos, stop) for _ in range(args.photo_clients if bombs else 0)]
    guesser = LoginGuesser(url, USERNAME, args.login_rate, stop)
    clients: list[threading.Thread] = [*bombers, *([guesser] if guesses else [])]
    cpu_before = _cpu_self()
    started = time.monotonic()
    for client in clients:
        client.start()
    time.sleep(0.5)  # the abuse is under way when wrk starts
    result = run_wrk(url, load, load.round_seconds, script, offset, meter)
    stop.set()
    for client in clients:
        client.join()
    abuser_cores = (_cpu_self() - cpu_before) / (time.monotonic() - started)
    # The meter counts the server, the database and wrk as the bench's; the abusive clients
    # in this process are the bench's too.
    result.other_cores = max(0.0, result.other_cores - abuser_cores)
    if not (bombs and guesses):
        return result
    case.abuser_cores.append(abuser_cores)
    for bomber in bombers:
        case.photos.update(bomber.answers.counts)
        case.photo_ms.extend(bomber.answers.latencies_ms)
    case.logins.update(guesser.answers.counts)
    case.login_ms.extend(guesser.answers.latencies_ms)
    case.login_in_flight_max = max(case.login_in_flight_max, guesser.in_flight_max)
    case.login_seconds += guesser.seconds
    return result


def _cpu_self() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)  # this process: the abusive clients
    return usage.ru_utime + usage.ru_stime


def table(cases: list[Case], args: argparse.Namespace) -> str:
    """The figures of each configuration, readable."""
    lines = [
        f"{args.labels:,} labels, {args.codes:,} codes; 2 gthread workers x 4 threads; wrk -t1 "
        f"-c{args.connections}; {args.rounds} idle/abuse round pairs of "
        f"{args.seconds // args.rounds}s; abuse: {args.photo_clients} clients posting "
        f"{SIDE}x{SIDE} PNG/WebP back to back, "
        f"1 client trying {args.login_rate:g} wrong passwords/s"
    ]
    for c in cases:
        f = c.figures()
        p = c.name
        lines += [
            f"limits {c.name}:",
            f"  1. bombs one at a time: {len(c.bombs)} posted, "
            + ", ".join(f"{k} {s} {code} {ms:.0f} ms" for k, s, code, ms in c.bombs),
            f"     worker memory MB: idle {c.idle_rss_mb:.0f}, peak through the bombs "
            f"{c.bomb_rss_mb:.0f} (VmRSS sampled), {c.bomb_hwm_mb:.0f} (VmHWM)",
            f"  2. {'round':<8}{'idle p99':>10}{'abuse p99':>11}{'ratio':>8}"
            f"{'idle req/s':>12}{'abuse req/s':>13}{'abuser cores':>14}{'other cores':>13}",
        ]
        for n, (i, a) in enumerate(zip(c.idle, c.abused, strict=True)):
            lines.append(
                f"     {n + 1:<8}{i.p99_ms:>10.2f}{a.p99_ms:>11.2f}{a.p99_ms / i.p99_ms:>8.2f}"
                f"{i.per_s:>12,.0f}{a.per_s:>13,.0f}{c.abuser_cores[n]:>14.2f}"
                f"{i.other_cores:>7.2f}/{a.other_cores:.2f}"
            )
            for part, runs in c.parts.items():
                if runs:
                    r = runs[n]
                    lines.append(
                        f"       {part:<14}{r.p99_ms:>13.2f}{r.p99_ms / i.p99_ms:>8.2f}"
                        f"{'':>12}{r.per_s:>13,.0f}{'':>14}{'':>8}{r.other_cores:.2f}"
                    )
            if i.non_2xx or a.non_2xx or i.socket_errors or a.socket_errors:
                lines.append(
                    f"     !! non-2xx {i.non_2xx}/{a.non_2xx}, socket errors "
                    f"{i.socket_errors}/{a.socket_errors}"
                )
        if f[p + "_other_cores_max"] > 0.25:
            lines.append(
                f"     !! other processes used up to {f[p + '_other_cores_max']:.2f} cores: "
                "the machine was shared, the figures are noisy"
            )
        lines += [
            f"     p99 ratio abuse/idle: median {f[p + '_verify_p99_ratio']:.2f}, "
            f"worst {f[p + '_verify_p99_ratio_worst']:.2f}",
            f"     photo posts answered: {dict(sorted(c.photos.items()))} "
            f"(p99 {f[p + '_photo_ms_p99']:.0f} ms)",
            f"     sign-in attempts answered: {dict(sorted(c.logins.items()))} "
            f"({f[p + '_login_per_s']:.1f}/s, median {f[p + '_login_ms_p50']:.0f} ms, "
            f"up to {c.login_in_flight_max} in flight)",
            f"     worker memory MB, whole run: peak {c.rss_mb:.0f} (VmRSS sampled), "
            f"{c.hwm_mb:.0f} (VmHWM)",
        ]
    return "\n".join(lines)


def market(args: argparse.Namespace) -> dict[str, float]:
    """bench/abuse_market.py's figures, if that module is there."""
    try:
        module = importlib.import_module("abuse_market")
    except ModuleNotFoundError as exc:
        if exc.name != "abuse_market":
            raise
        print("--market: bench/abuse_market.py is not there; no market figures")
        return {}
    figures = cast(Callable[[int, int, int, int], dict[str, float]], module.market_figures)
    return figures(args.market_seed, args.market_genuine, args.market_copies, args.market_attacked)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short run (about a minute)")
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--rounds", type=int, help="idle/abuse round pairs (default 3; quick 2)")
    parser.add_argument("--seconds", type=int, help="per kind of round, over all rounds")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up")
    parser.add_argument("--bombs", type=int, default=3, help="PNGs and as many WebPs, in part 1")
    parser.add_argument("--photo-clients", type=int, default=2)
    parser.add_argument("--login-rate", type=float, default=10.0, help="attempts per second")
    parser.add_argument(
        "--attribute",
        action="store_true",
        help="also rounds with the photos only and the logins only, to tell their costs apart",
    )
    parser.add_argument("--connections", type=int, default=8, help="wrk's")
    parser.add_argument("--labels", type=int, help="default 100,000; quick 20,000")
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--codes", type=int, help="distinct codes (default 20,000; quick 5,000)")
    parser.add_argument("--market", action="store_true", help="add bench/abuse_market.py's")
    parser.add_argument("--market-seed", type=int, default=1)
    parser.add_argument("--market-genuine", type=int, help="default 20,000; quick 5,000")
    parser.add_argument("--market-copies", type=int, help="default 500; quick 200")
    parser.add_argument("--market-attacked", type=int, help="default 50; quick 20")
    args = parser.parse_args()
    defaults = {
        "rounds": (3, 2),
        "seconds": (30, 8),
        "labels": (100_000, 20_000),
        "codes": (20_000, 5_000),
        "market_genuine": (20_000, 5_000),
        "market_copies": (500, 200),
        "market_attacked": (50, 20),
    }
    for name, (default, quick) in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else default)
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (Debian: apt-get install wrk)")
    cases = []
    with tempfile.TemporaryDirectory(prefix="gimark-bench-abuse-") as tmp:
        work = Path(tmp)
        cluster = start_cluster(durable=True) if args.database == "postgresql" else None
        postmaster = None
        if cluster is not None:
            postmaster = int((cluster.datadir / "postmaster.pid").read_text().split()[0])
        try:
            for name in ("on", "off"):
                url = f"sqlite:///{work / name / 'gimark.sqlite3'}"
                if cluster is not None:
                    with cluster.admin() as conn:
                        conn.execute(f"CREATE DATABASE gimark_{name}")
                    url = cluster.socket_url(f"gimark_{name}")
                settings = Settings(
                    home=work / name,
                    database_url=url,
                    base_url=BASE_URL,
                    key_passphrase=PASSPHRASE,
                )
                cases.append(run_case(name, settings, args, work, postmaster))
        finally:
            if cluster is not None:
                cluster.stop()
    print(table(cases, args))
    out: dict[str, float] = {
        "bomb_refused_ms_max": max(ms for c in cases for *_, ms in c.bombs),
        "bomb_worker_rss_mb_max": round(max(max(c.bomb_rss_mb, c.bomb_hwm_mb) for c in cases), 1),
        "worker_rss_mb_max": round(max(max(c.rss_mb, c.hwm_mb) for c in cases), 1),
        "verify_p99_ratio": statistics.median(next(c for c in cases if c.name == "on").ratios),
    }
    for c in cases:
        out |= c.figures()
    if args.market:
        out |= market(args)
    print("targets:")
    for key, target in TARGETS.items():
        verdict = "met" if out[key] < target else "MISSED"
        print(f"  {key:<24}{out[key]:>10.2f}  target < {target:g}: {verdict}")
    print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in out.items()}))


if __name__ == "__main__":
    main()
