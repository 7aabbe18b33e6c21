"""IP → region resolvers: the operator's CIDR table, and the choice of resolver by file."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gimark.trace.errors import PlaceDataError
from gimark.trace.ip2region import XdbResolver
from gimark.trace.ip_regions import CidrTableResolver, NullResolver, load_resolver
from gimark.trace.places import IPAddress, IPNetwork

SAMPLE = Path(__file__).parent.parent / "data" / "cidr_sample.csv"


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


# --- load_resolver ---------------------------------------------------------------------------


def test_load_resolver_picks_by_suffix(tmp_path: Path, make_xdb: Callable[..., Path]) -> None:
    xdb = make_xdb(tmp_path / "a.XDB", [("1.0.1.0", "1.0.3.255", "中国|0|福建省|福州市|电信")])
    assert isinstance(load_resolver(None), NullResolver)
    assert isinstance(load_resolver(SAMPLE), CidrTableResolver)
    assert isinstance(load_resolver(xdb), XdbResolver)
    with pytest.raises(PlaceDataError, match=r"only \.csv .* and \.xdb"):
        load_resolver(write(tmp_path, "192.0.2.0/24,430981\n", "table.txt"))
    with pytest.raises(PlaceDataError, match=r"nowhere\.xdb"):
        load_resolver(tmp_path / "nowhere.xdb")
    assert NullResolver().region_for(IPv4Address("203.0.113.1")) is None
