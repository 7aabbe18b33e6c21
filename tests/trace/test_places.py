"""The scanner's place: the client's address, lat/lon, the distance between places, the hash."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address, ip_address

import pytest

from gimark.trace.ip_regions import CidrTableResolver, NullResolver
from gimark.trace.places import Place, client_ip, ip_hash, place_from_request
from gimark.trace.regions import distance_km, lookup

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
