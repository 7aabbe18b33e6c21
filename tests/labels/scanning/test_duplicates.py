"""Duplicate suspicion: ordinary behaviour stays genuine, copies get flagged, and why.

The scenarios play scans of one serial through ``assess`` the way the scan path does; the
last test runs a small simulated market (tests/simulation/market.py) against the targets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

# The market simulator is a module under tests/, not an installed package.
from simulation.market import MarketConfig, replay, simulate

from gimark.core.errors import ConfigurationError
from gimark.labels.scanning.duplicates import (
    Assessment,
    DetectionConfig,
    Scan,
    SerialSummary,
    assess,
    decode_sites,
    encode_sites,
)
from gimark.labels.scanning.reasons import DUPLICATE_REASONS, REASONS

SALES = ("430000", "420000", "360000", "440000", "450000", "520000", "500000")  # Hunan & co
START = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
# Where a scan seems to be: a fixed line names the city, mobile data the province or its hub.
CHANGSHA, HUNAN_MOBILE, YIYANG = "430100", "430000", "430900"
BEIJING, SHANGHAI, GUANGZHOU, CHENGDU = "110000", "310000", "440100", "510100"
BEIJING_GPS, GUANGZHOU_GPS = (39.90, 116.40), (23.13, 113.26)


@dataclass(frozen=True)
class At:
    """One scan in a scenario: hours after the first, who, and where."""

    hours: float
    scanner: str
    region: str | None = None
    point: tuple[float, float] | None = None


def play(*scans: At, config: DetectionConfig | None = None) -> Assessment:
    """Assess the scans in order, telling ``assess`` whether each scanner is new."""
    summary: SerialSummary | None = None
    seen: set[str] = set()
    result = None
    for s in scans:
        scan = Scan(START + timedelta(hours=s.hours), s.scanner, s.point, s.region)
        result = assess(summary, scan, s.scanner not in seen, SALES, config or DetectionConfig())
        summary = result.summary
        seen.add(s.scanner)
    assert result is not None
    return result


# --- ordinary behaviour stays genuine -----------------------------------------------------------


def test_the_same_person_scanning_again_and_again_is_genuine() -> None:
    result = play(
        At(0, "alice", CHANGSHA),
        At(0.05, "alice", HUNAN_MOBILE),  # showing it to a friend, on mobile data
        At(48, "alice", CHANGSHA),
        At(24 * 30, "alice", None),  # a month later; the IP did not resolve
    )
    assert result.reasons == ()
    assert (result.summary.scan_count, result.summary.scanner_count) == (4, 1)


def test_a_shop_clerk_then_the_customer_at_home_is_genuine() -> None:
    result = play(At(0, "clerk", CHANGSHA), At(3, "customer", HUNAN_MOBILE))
    assert result.reasons == ()


def test_a_family_of_three_each_scanning_is_genuine() -> None:
    result = play(
        At(0, "clerk", YIYANG),
        At(2, "mother", YIYANG),
        At(2.1, "father", HUNAN_MOBILE),
        At(30, "daughter", None, point=(28.55, 112.36)),
        At(31, "mother", CHANGSHA),  # at work in the capital the next day
    )
    assert result.reasons == ()


def test_a_family_of_three_the_shop_and_a_gift_recipient_elsewhere_are_genuine() -> None:
    result = play(
        At(0, "clerk", CHANGSHA),
        At(1, "mother", CHANGSHA),
        At(5, "father", HUNAN_MOBILE),
        At(20, "son", CHANGSHA),
        At(24 * 4, "grandma", BEIJING),  # posted to Beijing, opened four days later
    )
    assert result.reasons == ()
    assert result.summary.scanner_count == 5


def test_a_traveller_scanning_far_outside_the_sales_region_is_genuine() -> None:
    result = play(At(0, "alice", CHANGSHA), At(24 * 6, "alice", SHANGHAI))
    assert result.reasons == ()


def test_one_roaming_sim_in_a_household_is_not_a_copy() -> None:
    # Mobile data is routed home: the son's Sichuan SIM puts him in Chengdu, 900 km away,
    # minutes after his parents scanned in Changsha.
    result = play(
        At(0, "mother", CHANGSHA),
        At(0.1, "father", CHANGSHA),
        At(0.2, "son", CHENGDU),
        At(0.3, "mother", CHANGSHA),
    )
    assert result.reasons == ()


# --- copies get flagged -------------------------------------------------------------------------


def test_a_copy_scanned_in_beijing_and_guangzhou_ten_minutes_apart_is_impossible_travel() -> None:
    result = play(
        At(0, "buyer-1", BEIJING, point=BEIJING_GPS),
        At(1 / 6, "buyer-2", GUANGZHOU, point=GUANGZHOU_GPS),
    )
    assert "impossible_travel" in result.reasons


def test_ip_places_need_two_scanners_at_each_end_before_travel_is_judged() -> None:
    # An IP place seen by one scanner may be a roaming SIM's home province (next test).
    beijing = [At(0, "buyer-1", BEIJING), At(0.5, "buyer-2", BEIJING)]
    one = play(*beijing, At(0.6, "buyer-3", GUANGZHOU))
    two = play(*beijing, At(0.6, "buyer-3", GUANGZHOU), At(0.7, "buyer-4", GUANGZHOU))
    assert "impossible_travel" not in one.reasons
    assert "impossible_travel" in two.reasons


def test_travel_that_a_train_or_plane_allows_is_not_impossible() -> None:
    result = play(
        At(0, "clerk", CHANGSHA), At(1, "buyer", CHANGSHA), At(7, "aunt", BEIJING)
    )  # 1,350 km in 6 hours: a high-speed train
    assert "impossible_travel" not in result.reasons


def test_nine_scanners_are_many_scanners() -> None:
    result = play(*(At(24 * day, f"buyer-{day}", CHANGSHA) for day in range(9)))
    assert result.reasons == ("many_scanners",)
    assert result.summary.scanner_count == 9


def test_three_scanners_in_three_far_apart_places_are_many_scanners() -> None:
    result = play(
        At(0, "buyer-1", CHANGSHA), At(24 * 5, "buyer-2", BEIJING), At(24 * 9, "buyer-3", CHENGDU)
    )
    assert "many_scanners" in result.reasons
    assert (result.summary.scanner_count, result.summary.site_count) == (3, 3)


def test_scanners_in_two_provinces_outside_the_sales_region_are_flagged() -> None:
    result = play(At(0, "buyer-1", BEIJING), At(24 * 3, "buyer-2", SHANGHAI))
    assert result.reasons == ("outside_sales_region",)


def test_four_households_outside_the_sales_region_are_flagged() -> None:
    households = [At(24 * n, f"buyer-{n}", SHANGHAI) for n in range(4)]
    assert play(*households[:3]).reasons == ()
    assert play(*households).reasons == ("outside_sales_region",)


def test_flags_are_sticky_and_remember_when_they_were_raised() -> None:
    copies = [At(24 * day, f"buyer-{day}", CHANGSHA) for day in range(6)]
    flagged = play(*copies)
    later = play(*copies, At(24 * 90, "buyer-0", CHANGSHA))
    assert flagged.reasons == later.reasons == ("many_scanners",)
    assert later.summary.flagged_at == START + timedelta(days=5)


# --- configuration ----------------------------------------------------------------------------


def test_configuration_changes_the_thresholds() -> None:
    nine = [At(24 * day, f"buyer-{day}", CHANGSHA) for day in range(9)]
    relaxed = DetectionConfig.from_mapping({"max_scanners": 10})
    strict = DetectionConfig.from_mapping({"max_scanners": 2, "max_speed_kmh": 100})
    assert play(*nine, config=relaxed).reasons == ()
    assert play(At(0, "a", CHANGSHA), At(1, "b", CHANGSHA), At(2, "c", CHANGSHA), config=strict)
    assert strict.max_speed_kmh == 100.0  # an int where a float is due is fine


@pytest.mark.parametrize(
    ("mapping", "match"),
    [
        ({"max_scaners": 3}, "unknown detection setting 'max_scaners'"),
        ({"max_scanners": "six"}, "invalid value 'six'"),
        ({"max_scanners": 5.5}, "invalid value 5.5"),
        ({"min_travel_km": -1}, "invalid value -1"),
        ({"travel_confirmed_only": 1}, "invalid value 1"),
        ({"compact_provinces": [110000]}, "invalid value"),
    ],
)
def test_bad_settings_are_refused(mapping: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        DetectionConfig.from_mapping(mapping)


# --- the summary ---------------------------------------------------------------------------------


def test_the_summary_stays_small_however_many_places_scan_it() -> None:
    regions = ["110000", "310000", "510100", "650100", "230100", "460100", "540100", "330100"]
    scans = [At(n, f"s{n}", regions[n % len(regions)]) for n in range(500)]
    summary = play(*scans).summary
    assert summary.scan_count == summary.scanner_count == 500
    assert len(summary.sites) <= DetectionConfig().max_sites
    assert len(summary.outside_provinces) <= 4


def test_sites_survive_a_round_trip_through_their_column() -> None:
    summary = play(
        At(0, "a", CHANGSHA), At(1, "b", HUNAN_MOBILE), At(2, "c", None, point=BEIJING_GPS)
    ).summary
    assert decode_sites(encode_sites(summary.sites)) == summary.sites
    assert decode_sites(None) == ()


def test_a_resolver_answer_that_is_no_region_code_counts_as_no_place() -> None:
    result = play(At(0, "a", "99ZZ"), At(1, "b", "000000"))
    assert result.reasons == () and result.summary.sites == ()


# --- words ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("reason", DUPLICATE_REASONS)
def test_every_reason_reads_in_chinese_and_english(reason: str) -> None:
    zh, en = REASONS[reason]
    assert "复制" in zh and "copied" in en
    assert "{" not in zh + en


# --- the simulated market -------------------------------------------------------------------------


def test_the_simulated_market_meets_the_targets() -> None:
    config = MarketConfig(seed=7, genuine_packages=8_000, copied_codes=300, revoked_packages=400)
    figures = replay(simulate(config))
    summary = figures.summary()
    assert figures.copies_catchable >= 250
    assert summary["duplicate_recall"] >= 0.95
    assert summary["false_duplicate_rate"] <= 0.01
    assert summary["unauthorized_recall"] == 1.0
    assert summary["false_unauthorized_rate"] == 0.0


def test_the_simulator_is_deterministic_and_covers_every_kind_of_label() -> None:
    small = MarketConfig(genuine_packages=300, copied_codes=10, forged_codes=5, stolen_labels=20)
    first, second = simulate(small), simulate(small)
    assert first.events == second.events
    assert set(first.kinds.values()) == {"genuine", "copied", "forged", "stolen", "revoked"}
    assert [e.at for e in first.events] == sorted(e.at for e in first.events)
