"""ip2region databases: lookups in files of both structures, broken files, region texts."""

from __future__ import annotations

import struct
from collections.abc import Callable
from ipaddress import IPv4Address, IPv6Address, ip_address
from pathlib import Path

import pytest

from gimark.trace.errors import PlaceDataError
from gimark.trace.ip2region import XdbResolver, region_code_for_ip2region
from gimark.trace.ip_regions import load_resolver

MakeXdb = Callable[..., Path]

V4_SEGMENTS = [
    ("0.0.0.1", "1.0.0.255", "0|0|0|内网IP|内网IP"),
    ("1.0.1.0", "1.0.3.255", "中国|0|福建省|福州市|电信"),
    ("36.128.0.0", "36.129.255.255", "中国|0|湖南省|益阳市|移动"),  # spans two vector cells
    ("36.130.0.0", "36.130.0.255", "中国|0|北京|北京市|联通"),
    ("36.130.1.0", "36.130.1.255", "中国|0|湖南省|益阳市|移动"),  # the same text, shared
    ("8.8.8.0", "8.8.8.255", "美国|0|0|0|Level3"),
]


@pytest.mark.parametrize(
    ("address", "region"),
    [
        ("1.0.1.0", "350100"),
        ("1.0.3.255", "350100"),
        ("1.0.4.0", None),  # a gap between segments
        ("36.128.0.1", "430900"),
        ("36.129.255.255", "430900"),
        ("36.130.0.9", "110000"),
        ("36.130.1.1", "430900"),
        ("8.8.8.8", None),  # outside China
        ("0.0.0.1", None),  # private range, no province
        ("200.1.1.1", None),  # a vector cell with no segments at all
        ("::ffff:36.128.5.5", "430900"),
        ("2001:db8::1", None),  # an IPv6 address asked of an IPv4 file
    ],
)
def test_xdb_structure_2_round_trip(
    tmp_path: Path, make_xdb: MakeXdb, address: str, region: str | None
) -> None:
    resolver = XdbResolver(make_xdb(tmp_path / "v4.xdb", V4_SEGMENTS))
    assert resolver.region_for(ip_address(address)) == region


def test_xdb_structure_3_ipv4_with_the_new_text_layout(tmp_path: Path, make_xdb: MakeXdb) -> None:
    segments = [("36.128.0.0", "36.128.255.255", "中国|河南省|济源市|移动|CN")]
    resolver = load_resolver(make_xdb(tmp_path / "v4.xdb", segments, structure=3))
    assert resolver.region_for(IPv4Address("36.128.7.7")) == "419001"


def test_xdb_structure_3_ipv6(tmp_path: Path, make_xdb: MakeXdb) -> None:
    segments = [
        ("2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "中国|广东省|广州市|电信|CN"),
        ("2001:db9::", "2001:dba:0:ffff::", "中国|湖南省|湘西|联通|CN"),  # two vector cells
        ("2400::", "2400::ffff", "Japan|Tokyo|Tokyo|NTT|JP"),
    ]
    resolver = XdbResolver(make_xdb(tmp_path / "v6.xdb", segments, structure=3))
    assert resolver.region_for(IPv6Address("2001:db8:42::1")) == "440100"
    assert resolver.region_for(IPv6Address("2001:dba::1")) == "433100"
    assert resolver.region_for(IPv6Address("2001:dba:1::")) is None
    assert resolver.region_for(IPv6Address("2400::1")) is None
    assert resolver.region_for(IPv4Address("36.128.0.1")) is None


def test_broken_xdb_files_are_refused(tmp_path: Path, make_xdb: MakeXdb) -> None:
    (tmp_path / "short.xdb").write_text("not an xdb")
    with pytest.raises(PlaceDataError, match="too short"):
        XdbResolver(tmp_path / "short.xdb")
    path = make_xdb(tmp_path / "v9.xdb", V4_SEGMENTS, structure=9)
    with pytest.raises(PlaceDataError, match="unsupported xdb structure 9"):
        XdbResolver(path)
    data = bytearray(make_xdb(tmp_path / "bad.xdb", V4_SEGMENTS).read_bytes())
    struct.pack_into("<II", data, 256 + 8 * 5, 10, 2**31)  # a cell pointing past the end
    (tmp_path / "bad.xdb").write_bytes(bytes(data))
    with pytest.raises(PlaceDataError, match="cell 5 is corrupt"):
        XdbResolver(tmp_path / "bad.xdb")


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("中国|0|湖南省|益阳市|电信", "430900"),
        ("中国|湖南省|益阳市|电信|CN", "430900"),
        ("中国|华南|广东省|深圳市|电信", "440300"),  # old data filled in the 区域 field
        ("中国|0|北京|北京市|联通", "110000"),
        ("中国|0|重庆|重庆市|电信", "500000"),  # municipalities have no prefecture level
        ("中国|0|新疆|乌鲁木齐市|电信", "650000"),  # city not in our table: the province
        ("中国|0|广西|0|移动", "450000"),  # 广西 → 广西壮族自治区
        ("中国|0|内蒙古|0|0", "150000"),
        ("中国|0|香港特别行政区|0|0", "810000"),
        ("中国|0|湖南省|湘西|电信", "433100"),  # 湘西 → 湘西土家族苗族自治州
        ("中国|0|河南省|济源市|联通", "419001"),  # county-level city under the province
        ("中国|0|浙江省|杭州|电信", "330100"),  # a city without 市
        ("中国|0|0|0|0", None),
        ("0|0|0|内网IP|内网IP", None),
        ("美国|0|加利福尼亚|0|0", None),
        ("United States|California|San Jose|0|US", None),
        ("", None),
    ],
)
def test_ip2region_texts_map_to_region_codes(text: str, code: str | None) -> None:
    assert region_code_for_ip2region(text) == code
