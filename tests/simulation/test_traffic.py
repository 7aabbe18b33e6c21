"""A tiny market replayed as HTTP traffic, attacks mixed in: the attacked genuine labels are
flagged as the service judged before its defences, and not through the app now."""

from __future__ import annotations

from pathlib import Path

from simulation.traffic import compare


def test_attacks_flag_genuine_labels_before_the_defences_and_not_after(tmp_path: Path) -> None:
    before, after = compare(seed=1, genuine=300, copies=15, attacked=5, home=tmp_path / "home")
    assert before.attacked == after.attacked == 5
    assert before.summary()["attacked_genuine_flagged"] == 1.0
    assert after.summary()["attacked_genuine_flagged"] == 0.0
    # The defences take nothing from finding copies.
    assert after.summary()["duplicate_recall"] >= 0.95
