"""GB/T 2260 region codes: validation, lookup at each level, distances."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from gimark.trace.errors import InvalidRegionError
from gimark.trace.regions import Region, distance_km, lookup, province_of, validate_region_code
from gimark.trace.regions_data import PLACES, PROVINCES

MAINLAND = [str(n) for n in (11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37)] + [
    str(n) for n in (41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65)
]


def test_all_34_province_level_divisions_are_known() -> None:
    prefixes = [code[:2] for code, *_ in PROVINCES]
    assert prefixes == [*MAINLAND, "71", "81", "82"]
    assert all(code.endswith("0000") for code, *_ in PROVINCES)


def test_table_rows_are_unique_well_formed_and_inside_china() -> None:
    rows = [*PROVINCES, *PLACES]
    codes = [code for code, *_ in rows]
    assert len(codes) == len(set(codes))
    for code, name_zh, name_en, lat, lon in rows:
        assert validate_region_code(code) == code
        assert name_zh and name_en.isascii()
        assert 18.0 <= lat <= 53.6 and 73.0 <= lon <= 135.1, code
        # A place lies within a few hundred km of its province's centroid.
        assert distance_km(lookup(province_of(code)), (lat, lon)) < 700, code


@pytest.mark.parametrize(
    ("code", "expected_code", "name_zh"),
    [
        # exact entries: county, district, prefecture, province
        ("430981", "430981", "沅江市"),
        ("500102", "500102", "涪陵区"),
        ("500156", "500156", "武隆区"),
        ("411000", "411000", "许昌市"),
        ("330000", "330000", "浙江省"),
        # a county not in the table falls back to its prefecture …
        ("330104", "330100", "杭州市"),  # 江干区, merged into 上城区 in 2021
        ("411099", "411000", "许昌市"),
        # … and one whose prefecture is not in the table either, to its province
        ("500232", "500000", "重庆市"),  # 武隆县 before it became 武隆区 (500156)
        ("110105", "110000", "北京市"),
        ("654321", "650000", "新疆维吾尔自治区"),
        ("810000", "810000", "香港特别行政区"),
    ],
)
def test_lookup_returns_the_most_specific_known_entry(
    code: str, expected_code: str, name_zh: str
) -> None:
    region = lookup(code)
    assert (region.code, region.name_zh) == (expected_code, name_zh)


def test_lookup_gives_english_name_and_position() -> None:
    assert lookup("430923") == Region("430923", "安化县", "Anhua County", 28.37, 111.21)


@pytest.mark.parametrize(
    ("typed", "normalized"),
    [("330106", "330106"), (" 330106\n", "330106"), ("３３０１０６", "330106")],
)
def test_validate_normalizes(typed: str, normalized: str) -> None:
    assert validate_region_code(typed) == normalized


@pytest.mark.parametrize(
    ("code", "message", "zh"),
    [
        ("33010", "must be 6 digits, got 5 characters", "应为6位数字，实为5位"),
        ("3301061", "must be 6 digits, got 7 characters", "实为7位"),
        ("", "got 0 characters", "实为0位"),
        ("33O1O6", "must consist of digits only", "只能由数字组成"),
        ("ABCDEF", "must consist of digits only", "只能由数字组成"),
        ("33\u0661106", "must consist of digits only", "只能由数字组成"),  # Arabic-Indic one
        ("990000", "'99' .* is not a province-level code", "前两位“99”不是省级行政区代码"),
        ("100000", "'10' .* is not a province-level code", "“10”"),
        ("000000", "'00' .* is not a province-level code", "“00”"),
    ],
)
def test_invalid_codes_are_refused(code: str, message: str, zh: str) -> None:
    with pytest.raises(InvalidRegionError, match=message) as info:
        validate_region_code(code)
    assert zh in info.value.message("zh")
    assert info.value.code == "invalid_region"


@pytest.mark.parametrize("call", [lookup, province_of])
def test_lookup_and_province_of_validate(call: Callable[[str], object]) -> None:
    with pytest.raises(InvalidRegionError):
        call("99")


def test_province_of() -> None:
    assert province_of("430981") == "430000"
    assert province_of("500156") == "500000"
    assert province_of("810000") == "810000"


def test_distance_beijing_shanghai() -> None:
    assert distance_km(lookup("110000"), lookup("310000")) == pytest.approx(1070, abs=60)


def test_distance_accepts_points_and_is_symmetric() -> None:
    beijing, shanghai = (39.9042, 116.4074), (31.2304, 121.4737)  # city centres
    assert distance_km(beijing, shanghai) == pytest.approx(1067, abs=5)
    assert distance_km(beijing, shanghai) == distance_km(shanghai, beijing)
    assert distance_km(lookup("500102"), lookup("500102")) == 0.0


def test_distance_one_degree_of_latitude_and_antipodes() -> None:
    assert distance_km((0.0, 0.0), (1.0, 0.0)) == pytest.approx(111.2, abs=0.1)
    assert distance_km((0.0, 0.0), (0.0, 180.0)) == pytest.approx(20015.1, abs=0.1)
