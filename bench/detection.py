"""Benchmark: how well the verdicts find copied and unauthorized labels in a simulated market.

Usage: ``.venv/bin/python bench/detection.py [--seed N] [--genuine N] [--copies N]``

Runs the market simulator (``tests/simulation/market.py``), feeds every scan through
``gimark.labels.scanning.duplicates.assess`` and ``judge.verdict_of`` as the scan path does, and
prints the precision and recall of each verdict, the copied labels' figures, then one JSON line
(the four target figures and ``seconds``, the wall time to simulate and assess the market).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

# The simulator lives with the tests (it is their fixture); bench/ scripts import it from there.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from simulation.market import VERDICTS, Figures, MarketConfig, replay, simulate

from gimark.labels.scanning.duplicates import DetectionConfig

DEFINITIONS = """\
Definitions
  duplicate_recall        copied labels flagged duplicate_suspected at least once (by the end)
                          / copied labels whose fakes were scanned by 2 or more different scanners
  false_duplicate_rate    genuine codes (never copied) ever flagged
                          / genuine codes scanned at least once
  unauthorized_recall     scans of unauthorized codes (forged, stolen, revoked enterprise) answered
                          unauthorized / all such scans (while the database was up, or for a bad
                          signature, which needs no database)
  false_unauthorized_rate genuine scans answered unauthorized / genuine scans
  Per-verdict table: scans, by the verdict they should get. A copied code's scans should say
  duplicate_suspected from its first fake's sale on, so its early scans, before the pattern
  shows, count against the scan-level recall; the code-level figures above do not.
The unauthorized reasons come from the simulator's ground truth: the state checks that produce
them (signature, key, serial, batch, authorization) are tested against the database elsewhere.
not_ours (text that is no gimark code) is decided when the code is read and is not simulated."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=MarketConfig.seed)
    parser.add_argument("--genuine", type=int, default=20_000, help="genuine packages")
    # 500 copied labels keep the recall's sampling error under a point (200 would give ~1.5).
    parser.add_argument("--copies", type=int, default=500, help="copied labels")
    args = parser.parse_args()
    market_config = MarketConfig(
        seed=args.seed, genuine_packages=args.genuine, copied_codes=args.copies
    )
    started = time.perf_counter()
    market = simulate(market_config)
    simulated = time.perf_counter() - started
    started = time.perf_counter()
    figures = replay(market, DetectionConfig())
    replayed = time.perf_counter() - started
    _print_setup(market_config, len(market.events), simulated, replayed)
    _print_verdicts(figures)
    _print_copies(figures)
    print()
    print(DEFINITIONS)
    print()
    print(json.dumps({**figures.summary(), "seconds": round(simulated + replayed, 2)}))


def _print_setup(config: MarketConfig, scans: int, simulated: float, replayed: float) -> None:
    print(f"Simulated market (tests/simulation/market.py), seed {config.seed}:")
    print(
        f"  {config.genuine_packages:,} genuine packages ({config.copied_codes:,} of them with "
        f"copied labels), {config.forged_codes} forged codes, {config.stolen_labels} stolen "
        f"labels, {config.revoked_packages:,} packages of a revoked enterprise"
    )
    print(
        f"  {scans:,} scans simulated in {simulated:.1f} s; assessed in {replayed:.1f} s "
        f"({scans / replayed:,.0f} scans/s, one core, no database); "
        f"{simulated + replayed:.1f} s in all"
    )
    print(f"  detection settings: the defaults of DetectionConfig\n{_settings()}")


def _settings() -> str:
    items = [f"{k}={v}" for k, v in vars(DetectionConfig()).items()]
    lines, line = [], "   "
    for item in items:
        if len(line) + len(item) > 96:
            lines.append(line)
            line = "   "
        line += f" {item}"
    return "\n".join([*lines, line])


def _print_verdicts(figures: Figures) -> None:
    print()
    print(f"{'verdict (scans)':<22}{'expected':>10}{'answered':>10}{'precision':>11}{'recall':>9}")
    for verdict in VERDICTS:
        expected = figures.scans(expected=verdict)
        answered = figures.scans(answered=verdict)
        right = figures.scans(expected=verdict, answered=verdict)
        print(
            f"{verdict:<22}{expected:>10,}{answered:>10,}"
            f"{_share(right, answered):>11}{_share(right, expected):>9}"
        )


def _print_copies(figures: Figures) -> None:
    print()
    print(
        f"Copied labels: {figures.copied_codes}; fakes never scanned: {figures.copies_unscanned}; "
        f"scanned by one scanner only: {figures.copies_one_scanner} (neither can be caught); "
        f"catchable: {figures.copies_catchable}, caught: {figures.copies_caught}"
    )
    for group, (caught, catchable) in figures.by_group.items():
        print(f"  {group:<22}{caught:>5} of {catchable:<5} {_share(caught, catchable):>7}")
    print(
        f"Genuine codes scanned: {figures.genuine_scanned:,}; "
        f"flagged duplicate_suspected: {figures.genuine_flagged}"
    )
    reasons = ", ".join(f"{k} {v}" for k, v in sorted(figures.flagged_reasons.items()))
    print(f"Flagged codes by kind and reason: {reasons}")


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.4f}" if whole else "-"


if __name__ == "__main__":
    main()
