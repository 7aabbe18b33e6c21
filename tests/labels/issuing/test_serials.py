"""The printed serial: format, forgiving parse, and the typos its check character catches."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gimark.labels.issuing.errors import (
    BadSerialError,
    SerialCharacterError,
    SerialCheckError,
    SerialLengthError,
    SerialRangeError,
)
from gimark.labels.issuing.serials import (
    ALPHABET,
    format_serial,
    looks_like_serial,
    parse_serial,
)

SERIALS = st.integers(min_value=1, max_value=2**48 - 1)
SAMPLES = [1, 2, 30, 31, 123456789, 2**32, 2**48 - 1]


def symbols_of(printed: str) -> list[str]:
    return list(printed.replace("-", ""))


def regroup(symbols: list[str]) -> str:
    text = "".join(symbols)
    return f"{text[:4]}-{text[4:8]}-{text[8:]}"


def substitutions(printed: str) -> list[str]:
    """Every serial that differs from ``printed`` in exactly one symbol."""
    symbols = symbols_of(printed)
    typos = []
    for index, original in enumerate(symbols):
        for symbol in ALPHABET:
            if symbol != original:
                typos.append(regroup([*symbols[:index], symbol, *symbols[index + 1 :]]))
    return typos


def swaps(printed: str, distance: int = 1) -> list[str]:
    """Every serial with two distinct symbols ``distance`` apart exchanged."""
    symbols = symbols_of(printed)
    typos = []
    for index in range(len(symbols) - distance):
        other = index + distance
        if symbols[index] != symbols[other]:
            swapped = list(symbols)
            swapped[index], swapped[other] = swapped[other], swapped[index]
            typos.append(regroup(swapped))
    return typos


def test_alphabet() -> None:
    assert len(ALPHABET) == len(set(ALPHABET)) == 31
    assert not set("ILOUV") & set(ALPHABET)


def test_known_values() -> None:
    assert format_serial(1) == "0000-0000-01X"
    assert format_serial(123456789) == "0000-49N3-02P"
    assert format_serial(2**48 - 1) == "AM0Q-J6ZB-A7Q"


@given(SERIALS)
def test_round_trip(serial: int) -> None:
    printed = format_serial(serial)
    assert len(printed) == 13  # at most 16 fit the label
    assert parse_serial(printed) == serial
    assert looks_like_serial(printed)


@pytest.mark.parametrize("serial", [0, -5, 2**48])
def test_out_of_range_is_not_printed(serial: int) -> None:
    with pytest.raises(SerialRangeError):
        format_serial(serial)


@pytest.mark.parametrize(
    "typed",
    [
        "0000-49N3-02P",
        "000049n302p",
        "0000 49N3 02P",
        "  0000_49n3.02p ",
        "0000·49N3·02P",
        "OOOO-49N3-O2P",
        "oooo49n3o2p",
        "０００Ｏ－４９Ｎ３－０２Ｐ",  # full-width, as a Chinese IME types it
        "0000\u300049N3\u300002P",  # ideographic space
        "\ufeff0000-49N3-02P",  # a BOM in front, as a Windows clipboard may leave it
        "\u00a00000 49N3\u202f02P\u2029",  # no-break spaces, a paragraph separator
        "0000—49N3—02P",
    ],
)
def test_forgiving_forms(typed: str) -> None:
    assert parse_serial(typed) == 123456789


def test_i_and_l_read_as_one() -> None:
    assert parse_serial("0000-0000-0IX") == parse_serial("0000-0000-0lX") == 1


@pytest.mark.parametrize(
    ("typed", "error", "match"),
    [
        ("", SerialLengthError, "this one has 0"),
        ("0000-49N3-02", SerialLengthError, "this one has 10"),
        ("0000-49N3-02PP", SerialLengthError, "this one has 12"),
        ("0000-49U3-02P", SerialCharacterError, r"character 7 \('U'\)"),
        ("V000-49N3-02P", SerialCharacterError, r"character 1 \('V'\)"),
        ("0000-49N3-02P#", SerialCharacterError, r"character 12 \('#'\)"),
        ("0000-49N3-0ıP", SerialCharacterError, "character 10"),  # dotless i is not I
        # Not whitespace in the spec's sense (str.isspace() says it is): a character, not a gap
        ("0000\x1c49N3-02P", SerialCharacterError, "character 5"),
        ("0000\u200b49N3-02P", SerialCharacterError, "character 5"),  # zero width space
        ("0000-49N3-03P", SerialCheckError, "probably a typo"),
        (
            "0000-0000-000",
            SerialCheckError,
            "probably a typo",
        ),  # checks out, but serial 0
        ("x" * 1000, SerialLengthError, "1000"),
    ],
)
def test_refused(typed: str, error: type[BadSerialError], match: str) -> None:
    with pytest.raises(error, match=match) as info:
        parse_serial(typed)
    assert info.value.code == "malformed"
    assert info.value.message("zh")


def test_check_arithmetic_never_cancels() -> None:
    # Substituting a by b at weight 3**k changes the sum by (a-b)*3**k; swapping them
    # with a neighbour by (a-b)*3**k*(1-3); at distance d by (a-b)*3**k*(1-3**d).
    for a in range(31):
        for b in range(31):
            if a == b:
                continue
            for k in range(1, 12):
                assert (a - b) * 3**k % 31 != 0
                for distance in range(1, 11):
                    assert (a - b) * 3**k * (1 - 3**distance) % 31 != 0


@pytest.mark.parametrize("serial", SAMPLES)
def test_every_single_typo_is_caught(serial: int) -> None:
    printed = format_serial(serial)
    typos = substitutions(printed) + [t for d in range(1, 11) for t in swaps(printed, d)]
    for typo in typos:
        with pytest.raises(SerialCheckError):
            parse_serial(typo)


@given(SERIALS, st.integers(min_value=0, max_value=10), st.sampled_from(ALPHABET))
def test_any_substitution_is_refused(serial: int, index: int, symbol: str) -> None:
    symbols = symbols_of(format_serial(serial))
    if symbols[index] == symbol:
        return
    symbols[index] = symbol
    with pytest.raises(BadSerialError):
        parse_serial(regroup(symbols))


@given(SERIALS, st.integers(min_value=0, max_value=9))
def test_any_adjacent_swap_is_refused(serial: int, index: int) -> None:
    symbols = symbols_of(format_serial(serial))
    if symbols[index] == symbols[index + 1]:
        return
    symbols[index], symbols[index + 1] = symbols[index + 1], symbols[index]
    with pytest.raises(BadSerialError):
        parse_serial(regroup(symbols))


@given(st.text(max_size=40))
def test_any_text_is_a_serial_or_a_serial_error(text: str) -> None:
    try:
        serial = parse_serial(text)
    except BadSerialError:
        return
    assert 1 <= serial < 2**48


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0000-49N3-02P", True),
        ("0000-49N3-02", True),  # a character short: still routed to parse_serial
        ("0000 49U3 02P", True),
        ("HTTPS://GI.EXAMPLE.CN/V/AHKIDNVU", False),
        ("hello", False),
        ("A" * 120, False),
        ("", False),
    ],
)
def test_looks_like_serial(text: str, expected: bool) -> None:
    assert looks_like_serial(text) is expected
