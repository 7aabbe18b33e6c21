"""Benchmark: the duplicate rules in a simulated market with forged claims mixed in, before the
defences and through the app now.

Usage: ``.venv/bin/python bench/abuse_market.py [--seed N] [--genuine N] [--copies N]
[--attacked N]``

Runs the market simulator (``tests/simulation/market.py``, genuine and copied labels only),
turns its scans into the HTTP requests phones send (``tests/simulation/traffic.py``: addresses
behind a trusted proxy, places from an IP table, cookies the service issued, link previews of
shared links) and mixes in a competitor's attack on some genuine labels (cookie-less floods,
HEADs, cookies the service never issued, previewers and crawlers, two issued cookies claiming
places 1,900 km apart). The requests go through the real app on a fresh SQLite database
("after"), and are judged as the service judged before the defences ("before": every HEAD and
preview a scan, every cookie-less request a new scanner, every claimed place trusted).

Prints a before/after table, then one JSON line: ``before_<figure>`` and ``after_<figure>``
for each figure, and ``seconds``. :func:`market_figures` returns the same figures to other
scripts (``bench/abuse.py``), which import this module with ``bench/`` on ``sys.path``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

# The simulator lives with the tests (it is their fixture); bench/ scripts import it from there.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from simulation.traffic import Judged, compare

# unauthorized_recall is left out: no unauthorized code is replayed (see traffic.py).
FIGURES = (
    "duplicate_recall",
    "false_duplicate_rate",
    "false_unauthorized_rate",
    "attacked_genuine_flagged",
)
TARGETS = {"duplicate_recall": (">=", 0.95), "false_duplicate_rate": ("<=", 0.01)}  # the issue's
DEFINITIONS = """\
Definitions (as bench/detection.py, over people's scans; previews and attacks are not people)
  duplicate_recall          copied labels flagged / copied labels whose fakes were scanned by
                            2 or more different people
  false_duplicate_rate      genuine labels (never copied) ever flagged / genuine labels scanned,
                            the attacked ones included
  false_unauthorized_rate   genuine scans answered unauthorized / genuine scans
  attacked_genuine_flagged  attacked genuine labels ever flagged / attacked genuine labels"""


def market_figures(seed: int, genuine: int, copies: int, attacked: int) -> dict[str, float]:
    """``before_<figure>`` and ``after_<figure>`` for each of :data:`FIGURES`: the market of
    ``genuine`` packages, ``copies`` of them copied and ``attacked`` attacked, replayed."""
    return _flat(*_replay(seed, genuine, copies, attacked))


def _replay(seed: int, genuine: int, copies: int, attacked: int) -> tuple[Judged, Judged]:
    with tempfile.TemporaryDirectory(prefix="gimark-abuse-") as work:
        return compare(seed, genuine, copies, attacked, Path(work) / "home")


def _flat(before: Judged, after: Judged) -> dict[str, float]:
    worlds = (("before", before.summary()), ("after", after.summary()))
    return {f"{world}_{name}": figures[name] for world, figures in worlds for name in FIGURES}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--genuine", type=int, default=2_500, help="genuine packages")
    parser.add_argument("--copies", type=int, default=120, help="copied labels")
    parser.add_argument("--attacked", type=int, default=20, help="attacked genuine labels")
    args = parser.parse_args()
    started = time.perf_counter()
    before, after = _replay(args.seed, args.genuine, args.copies, args.attacked)
    seconds = time.perf_counter() - started
    print(
        f"Simulated market, seed {args.seed}: {args.genuine:,} genuine packages "
        f"({args.copies} with copied labels), {args.attacked} genuine labels attacked; "
        f"replayed through the app in {seconds:.1f} s"
    )
    print()
    print(f"{'figure':<28}{'before':>10}{'after':>10}  target (after)")
    flat = _flat(before, after)
    for name in FIGURES:
        sign, bound = TARGETS.get(name, ("", 0.0))
        target = f"{sign} {bound}" if sign else ""
        if sign:
            met = flat[f"after_{name}"] >= bound if sign == ">=" else flat[f"after_{name}"] <= bound
            target += "  met" if met else "  MISSED"
        print(f"{name:<28}{flat[f'before_{name}']:>10.4f}{flat[f'after_{name}']:>10.4f}  {target}")
    print()
    for world, judged in (("before", before), ("after", after)):
        figures = judged.figures
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(figures.flagged_reasons.items()))
        print(
            f"{world}: genuine labels scanned {figures.genuine_scanned:,}, flagged "
            f"{figures.genuine_flagged}; copied catchable {figures.copies_catchable}, caught "
            f"{figures.copies_caught}; attacked flagged {judged.attacked_flagged} of "
            f"{judged.attacked}"
        )
        print(f"  flagged labels by kind and reason: {reasons or '-'}")
    print()
    print(DEFINITIONS)
    print()
    print(json.dumps({**flat, "seconds": round(seconds, 2)}))


if __name__ == "__main__":
    main()
