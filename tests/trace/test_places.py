"""The scanner's place: CIDR and ip2region resolvers, the client's address, lat/lon, the hash."""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Iterator
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gimark.trace.errors import PlaceDataError
from gimark.trace.places import (
    CidrTableResolver,
    IPAddress,
    IPNetwork,
    NullResolver,
    Place,
    XdbResolver,
    client_ip,
    ip_hash,
    load_resolver,
    place_from_request,
    region_code_for_ip2region,
)
from gimark.trace.regions import distance_km, lookup

SAMPLE = Path(__file__).parent.parent / "data" / "cidr_sample.csv"


@pytest.fixture(scope="module")
def sample() -> CidrTableResolver:
    return CidrTableResolver.from_csv(SAMPLE)


def write(tmp_path: Path, text: str, name: str = "table.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- CIDR table ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "region"),
    [
        ("203.0.113.0", "430981"),
        ("203.0.113.127", "430981"),
        ("203.0.113.128", "110101"),
        ("198.51.100.77", "310101"),
        # nested: 10/8 -> 10.1/16 -> 10.1.2/24; the most specific range wins, on every edge
        ("10.0.255.255", "430100"),
        ("10.1.0.0", "500156"),
        ("10.1.1.255", "500156"),
        ("10.1.2.0", "510100"),
        ("10.1.2.255", "510100"),
        ("10.1.3.0", "500156"),
        ("10.1.255.255", "500156"),
        ("10.2.0.0", "430100"),
        ("10.255.255.255", "430100"),
        ("172.16.5.9", "350200"),
        ("172.31.0.1", "330100"),
        ("2001:db8::1", "440103"),
        ("2001:db8:1:ffff::1", "650000"),
        ("2001:db8:2::1", "440103"),
        ("fd12:3456::1", "430900"),
        ("::ffff:203.0.113.5", "430981"),  # a dual-stack socket's view of an IPv4 client
    ],
)
def test_sample_table_resolves_the_most_specific_range(
    sample: CidrTableResolver, address: str, region: str
) -> None:
    assert sample.region_for(ip_address(address)) == region


@pytest.mark.parametrize("address", ["9.255.255.255", "11.0.0.0", "8.8.8.8", "2001:db9::1", "::1"])
def test_addresses_outside_every_range_are_unknown(sample: CidrTableResolver, address: str) -> None:
    assert sample.region_for(ip_address(address)) is None


def test_header_comments_spaces_and_a_byte_order_mark_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(
        "\ufeffcidr, region\n\n  # comment\n 192.0.2.0/24 , ４３０９８１ # 全角\n".encode()
    )
    resolver = CidrTableResolver.from_csv(path)
    assert resolver.region_for(IPv4Address("192.0.2.9")) == "430981"


def test_invalid_lines_are_all_refused_with_their_line_numbers(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "# header comment\n"
        "192.0.2.0/24,430981\n"  # line 2: fine
        "192.0.2.1/24,430981\n"  # line 3: host bits set
        "not-a-network,430981\n"  # line 4
        "198.51.100.0/24,990000\n"  # line 5: no such province
        "198.51.100.0/24\n"  # line 6: one field
        "192.0.2.0/24,110000\n"  # line 7: listed on line 2
        "cidr,region\n",  # line 8: a header is only a header on the first line
    )
    with pytest.raises(PlaceDataError) as caught:
        CidrTableResolver.from_csv(path)
    message = str(caught.value)
    for number in (3, 4, 5, 6, 7, 8):
        assert f"line {number}:" in message
    assert "line 2:" not in message
    assert "already listed on line 2" in message
    assert "第 3 行" in caught.value.message("zh")
    assert caught.value.exit_status == 78


def test_a_table_wrong_throughout_lists_the_first_twenty_problems(tmp_path: Path) -> None:
    with pytest.raises(PlaceDataError) as caught:
        CidrTableResolver.from_csv(write(tmp_path, "192.0.2.0/24;430981\n" * 25))
    message = str(caught.value)
    assert "line 20:" in message and "line 21:" not in message
    assert message.endswith("and 5 more invalid lines")


def test_an_empty_or_unreadable_table_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PlaceDataError, match="no ranges"):
        CidrTableResolver.from_csv(write(tmp_path, "# nothing yet\n"))
    with pytest.raises(PlaceDataError, match=r"missing\.csv"):
        CidrTableResolver.from_csv(tmp_path / "missing.csv")


# A few shared base addresses make ranges nest, share edges and sit side by side.
v4_bases = st.sampled_from([0x0A000000, 0x0A0102FF, 0x0A010300, 0xFFFFFFFF]) | st.integers(
    0, 2**32 - 1
)
v6_bases = st.sampled_from([0x20010DB8 << 96, 2**128 - 1]) | st.integers(0, 2**128 - 1)
networks = st.builds(
    lambda n, bits: ip_network((n, bits), strict=False), v4_bases, st.integers(0, 32)
) | st.builds(
    lambda n, bits: ip_network((n, bits), strict=False),
    v6_bases.map(IPv6Address),
    st.integers(0, 128),
)
region_codes = st.sampled_from(["110000", "330100", "430981", "440103", "500156"])


def longest_prefix(table: dict[IPNetwork, str], ip: IPAddress) -> str | None:
    """The definition, by brute force; an IPv4-mapped IPv6 address counts as IPv4."""
    if isinstance(ip, IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    matches = [n for n in table if n.version == ip.version and ip in n]
    return table[max(matches, key=lambda n: n.prefixlen)] if matches else None


def probes(table: dict[IPNetwork, str]) -> Iterator[IPAddress]:
    """Every range's first and last address and the addresses just outside them."""
    for network in table:
        top = 2**network.max_prefixlen - 1
        for value in (int(network[0]) - 1, int(network[0]), int(network[-1]), int(network[-1]) + 1):
            if 0 <= value <= top:
                yield ipaddress.ip_address(value) if network.version == 4 else IPv6Address(value)


@given(st.dictionaries(networks, region_codes, max_size=12))
def test_lookup_is_the_longest_prefix_match(table: dict[IPNetwork, str]) -> None:
    resolver = CidrTableResolver(table)
    for ip in probes(table):
        assert resolver.region_for(ip) == longest_prefix(table, ip), ip


# --- ip2region .xdb: a small maker, as the project's own writes them --------------------------


def make_xdb(path: Path, segments: list[tuple[str, str, str]], structure: int = 2) -> Path:
    """Header, vector index, region texts, then segment entries split per first two bytes."""
    v6 = ip_address(segments[0][0]).version == 6
    bits = 128 if v6 else 32
    size = 38 if v6 else 14
    data = bytearray(256 + 256 * 256 * 8)
    texts: dict[str, int] = {}
    for *_, text in segments:
        if text not in texts:
            texts[text] = len(data)
            data += text.encode()
    index_start = len(data)
    cells: dict[int, list[int]] = {}  # vector cell -> [first entry, one past the last]
    for first, last, text in segments:
        start, end = int(ip_address(first)), int(ip_address(last))
        while start <= end:  # one entry per vector cell, as ip2region's maker splits them
            cell_end = min(end, start | (1 << (bits - 16)) - 1)
            at = len(data)
            if v6:
                data += start.to_bytes(16, "big") + cell_end.to_bytes(16, "big")
            else:
                data += struct.pack("<II", start, cell_end)
            data += struct.pack("<HI", len(text.encode()), texts[text])
            cells.setdefault(start >> (bits - 16), [at, 0])[1] = at + size
            start = cell_end + 1
    for cell, (first_at, end_at) in cells.items():
        struct.pack_into("<II", data, 256 + cell * 8, first_at, end_at)
    struct.pack_into("<HHIII", data, 0, structure, 1, 1_700_000_000, index_start, len(data) - size)
    if structure == 3:
        struct.pack_into("<HH", data, 16, 6 if v6 else 4, 4)
    path.write_bytes(bytes(data))
    return path


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
def test_xdb_structure_2_round_trip(tmp_path: Path, address: str, region: str | None) -> None:
    resolver = XdbResolver(make_xdb(tmp_path / "v4.xdb", V4_SEGMENTS))
    assert resolver.region_for(ip_address(address)) == region


def test_xdb_structure_3_ipv4_with_the_new_text_layout(tmp_path: Path) -> None:
    segments = [("36.128.0.0", "36.128.255.255", "中国|河南省|济源市|移动|CN")]
    resolver = load_resolver(make_xdb(tmp_path / "v4.xdb", segments, structure=3))
    assert resolver.region_for(IPv4Address("36.128.7.7")) == "419001"


def test_xdb_structure_3_ipv6(tmp_path: Path) -> None:
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


def test_broken_xdb_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(PlaceDataError, match="too short"):
        XdbResolver(write(tmp_path, "not an xdb", "short.xdb"))
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


# --- load_resolver ---------------------------------------------------------------------------


def test_load_resolver_picks_by_suffix(tmp_path: Path) -> None:
    assert isinstance(load_resolver(None), NullResolver)
    assert isinstance(load_resolver(SAMPLE), CidrTableResolver)
    assert isinstance(load_resolver(make_xdb(tmp_path / "a.XDB", V4_SEGMENTS)), XdbResolver)
    with pytest.raises(PlaceDataError, match=r"only \.csv .* and \.xdb"):
        load_resolver(write(tmp_path, "192.0.2.0/24,430981\n", "table.txt"))
    with pytest.raises(PlaceDataError, match=r"nowhere\.xdb"):
        load_resolver(tmp_path / "nowhere.xdb")
    assert NullResolver().region_for(IPv4Address("203.0.113.1")) is None


# --- client_ip -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("remote", "forwarded", "proxies", "client"),
    [
        # no proxy: the header is the client's to write and is ignored
        ("203.0.113.7", "198.51.100.1", 0, "203.0.113.7"),
        ("203.0.113.7", None, 0, "203.0.113.7"),
        # one proxy appends the address it saw; a client-written entry left of it is ignored
        ("10.0.0.2", "203.0.113.7", 1, "203.0.113.7"),
        ("10.0.0.2", "198.51.100.1, 203.0.113.7", 1, "203.0.113.7"),
        ("10.0.0.2", "1.1.1.1, 2.2.2.2, 203.0.113.7", 1, "203.0.113.7"),
        # two proxies (CDN, then load balancer)
        ("10.0.0.2", "203.0.113.7, 192.0.2.10", 2, "203.0.113.7"),
        ("10.0.0.2", "198.51.100.1, 203.0.113.7, 192.0.2.10", 2, "203.0.113.7"),
        # spoofed and malformed: stop at the last hop our own proxies vouch for
        ("10.0.0.2", "unknown", 1, "10.0.0.2"),
        ("10.0.0.2", "", 1, "10.0.0.2"),
        ("10.0.0.2", None, 1, "10.0.0.2"),
        ("10.0.0.2", "203.0.113.7, garbage", 2, "10.0.0.2"),
        ("10.0.0.2", "garbage, 192.0.2.10", 2, "192.0.2.10"),
        ("10.0.0.2", "203.0.113.7,,192.0.2.10", 3, "192.0.2.10"),
        # fewer entries than proxies: the furthest hop there is
        ("10.0.0.2", "203.0.113.7", 2, "203.0.113.7"),
        # ports, brackets, spaces and IPv4-mapped IPv6
        ("10.0.0.2", " 203.0.113.7:51234 ", 1, "203.0.113.7"),
        ("10.0.0.2", "[2001:db8::7]:443", 1, "2001:db8::7"),
        ("10.0.0.2", "2001:db8::7", 1, "2001:db8::7"),
        ("::ffff:203.0.113.7", None, 0, "203.0.113.7"),
        # no usable peer address at all
        (None, "203.0.113.7", 1, None),
        ("", "203.0.113.7", 1, None),
        ("not-an-ip", "203.0.113.7", 1, None),
    ],
)
def test_client_ip_trusts_only_the_configured_proxies(
    remote: str | None, forwarded: str | None, proxies: int, client: str | None
) -> None:
    expected = ip_address(client) if client is not None else None
    assert client_ip(remote, forwarded, proxies) == expected


def test_client_ip_refuses_a_negative_proxy_count() -> None:
    with pytest.raises(ValueError, match="0 or more"):
        client_ip("203.0.113.7", None, -1)


# --- place_from_request and Place ------------------------------------------------------------


def test_valid_coordinates_are_kept_rounded_to_about_a_kilometre(sample: CidrTableResolver) -> None:
    place = place_from_request("28.85317", "112.3612", IPv4Address("10.0.0.1"), sample)
    assert place == Place(None, 28.85, 112.36, "gps")
    # abroad is a real place; edges of the range are valid
    assert place_from_request("-33.8688", "151.2093", None, sample).point() == (-33.87, 151.21)
    assert place_from_request("90", "-180", None, sample).point() == (90.0, -180.0)
    assert place_from_request("1e-7", "+0.5", None, sample).point() == (0.0, 0.5)


@pytest.mark.parametrize(
    ("lat", "lon"),
    [
        ("nan", "112.36"),
        ("28.85", "inf"),
        ("-Infinity", "112.36"),
        ("1e999", "112.36"),
        ("90.01", "112.36"),
        ("28.85", "-180.5"),
        ("abc", "112.36"),
        ("", "112.36"),
        ("28.85", None),
        (None, None),
        ("28,85", "112,36"),
        ("0x1c", "112.36"),
        ("２８.８５", "112.36"),  # full-width digits: float() would take them
        ("1" * 50, "112.36"),
    ],
)
def test_invalid_coordinates_fall_back_to_the_ip_region(
    sample: CidrTableResolver, lat: str | None, lon: str | None
) -> None:
    place = place_from_request(lat, lon, IPv4Address("10.1.2.3"), sample)
    assert place == Place("510100", None, None, "ip")


def test_no_coordinates_and_no_known_address_is_nowhere(sample: CidrTableResolver) -> None:
    assert place_from_request(None, None, None, sample) == Place(None, None, None, "none")
    assert place_from_request("x", "y", IPv4Address("8.8.8.8"), sample).source == "none"
    assert place_from_request(None, None, IPv4Address("10.1.2.3"), NullResolver()).point() is None


def test_distance_between_a_gps_place_and_an_ip_place(sample: CidrTableResolver) -> None:
    in_yuanjiang = place_from_request("28.85", "112.36", None, sample).point()
    in_beijing = place_from_request(None, None, IPv4Address("203.0.113.200"), sample).point()
    near_yuanjiang = place_from_request(None, None, IPv4Address("203.0.113.1"), sample).point()
    assert in_yuanjiang and in_beijing and near_yuanjiang
    # 110101 is not in the regions table: its place is Beijing's centre
    assert in_beijing == (lookup("110000").lat, lookup("110000").lon)
    assert 1_250 < distance_km(in_yuanjiang, in_beijing) < 1_450
    assert distance_km(in_yuanjiang, near_yuanjiang) < 5  # 沅江市's centre; 1 km rounding


def test_coarse_rounds_only_what_there_is() -> None:
    assert Place(None, 28.853171, 112.361234, "gps").coarse() == Place(None, 28.85, 112.36, "gps")
    assert Place("430981", None, None, "ip").coarse() == Place("430981", None, None, "ip")


# --- ip_hash ---------------------------------------------------------------------------------


def test_ip_hash_is_keyed_stable_and_reveals_nothing() -> None:
    ip = IPv4Address("203.0.113.7")
    first = ip_hash(ip, b"key one")
    assert (
        first == ip_hash(ip, b"key one") == ip_hash(IPv6Address("::ffff:203.0.113.7"), b"key one")
    )
    assert len(first) == 32 and int(first, 16) >= 0
    assert first != ip_hash(ip, b"key two")
    assert first != ip_hash(IPv4Address("203.0.113.8"), b"key one")
    with pytest.raises(ValueError, match="secret key"):
        ip_hash(ip, b"")
