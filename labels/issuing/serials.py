"""The printed serial: the short form of a code's serial number that a person can type.

Ten base-31 digits (most significant first) and one check character, printed in groups as
``XXXX-XXXX-XXX``. The 31 symbols are Crockford's base32 alphabet without V, so there is no
I, L, O, U or V to confuse with 1, 0 or each other. The check is an ISO/IEC 7064-style pure
system modulo 31 with radix 3: the weighted sum of all eleven symbol values, weight 3**k for
the k-th symbol from the right (the check character is k = 1), is 0 modulo 31. Because 31 is
prime and 3 is a primitive root modulo 31, any single substituted symbol and any two swapped
symbols (at any distance below 30, so anywhere in a serial) change the sum by a non-zero amount.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Final

from gimark.labels.issuing.codes import WHITESPACE
from gimark.labels.issuing.errors import (
    SerialCharacterError,
    SerialCheckError,
    SerialLengthError,
    SerialRangeError,
)

__all__ = ["ALPHABET", "format_serial", "looks_like_serial", "parse_serial"]

ALPHABET: Final = "0123456789ABCDEFGHJKMNPQRSTWXYZ"
MODULUS: Final = 31  # prime; len(ALPHABET)
RADIX: Final = 3  # a primitive root modulo 31: the weights 3**1 … 3**11 are distinct and non-zero
DIGITS: Final = 10  # 31**10 > 2**48, so ten digits hold any serial
LENGTH: Final = DIGITS + 1
SERIAL_LIMIT: Final = 2**48
GROUPS: Final = (4, 4, 3)  # printed XXXX-XXXX-XXX
MAX_INPUT: Final = 200  # characters; anything longer is not a typed serial

_VALUE = {symbol: value for value, symbol in enumerate(ALPHABET)}
# Letters a reader takes for digits. U and V are not mapped: they are typos to report.
_ALIASES = {"O": "0", "I": "1", "L": "1"}
# Grouping a person may type or paste: whitespace (the same set scanned text is trimmed of,
# BOM included), hyphens and their look-alikes, dots.
_SEPARATORS = frozenset(WHITESPACE + "-_.·‐‑‒–—―・")
_INVERSE_RADIX = pow(RADIX, -1, MODULUS)
_WEIGHTS = tuple(pow(RADIX, k, MODULUS) for k in range(LENGTH, 0, -1))  # 3**11 … 3**1


def format_serial(serial: int) -> str:
    """The printed form of ``serial``, e.g. ``0000-0000-01X`` for 1.

    Raises:
        SerialRangeError: ``serial`` is not in 1 … 2**48 − 1.
    """
    if not 1 <= serial < SERIAL_LIMIT:
        raise SerialRangeError(serial=serial)
    values = _digits(serial)
    values.append(_check_value(values))
    symbols = "".join(ALPHABET[v] for v in values)
    return _group(symbols)


def parse_serial(text: str) -> int:
    """The serial number a person typed, forgiving everything that is not a typo.

    Case, spaces, hyphens and other separators, full-width characters and the letters O, I
    and L read as 0, 1 and 1 are all accepted.

    Raises:
        SerialCharacterError: a character serials never use (U, V, punctuation …).
        SerialLengthError: not 11 characters once separators are dropped.
        SerialCheckError: the check character does not match: probably a typo.
    """
    if len(text) > MAX_INPUT:
        raise SerialLengthError(count=len(text))
    symbols = _significant(text)
    for position, symbol in enumerate(symbols, start=1):
        if symbol not in _VALUE:
            raise SerialCharacterError(position=position, char=symbol)
    if len(symbols) != LENGTH:
        raise SerialLengthError(count=len(symbols))
    values = [_VALUE[s] for s in symbols]
    if _weighted_sum(values) != 0:
        raise SerialCheckError()
    serial = 0
    for value in values[:DIGITS]:
        serial = serial * MODULUS + value
    if not 1 <= serial < SERIAL_LIMIT:
        # Passes the check but no code can carry it: as good as a typo to the reader.
        raise SerialCheckError()
    return serial


def looks_like_serial(text: str) -> bool:
    """Whether typed input is meant as a serial (perhaps with a typo) rather than a code.

    True for 9 to 13 letters and digits once separators are dropped, so that a serial
    with a missing, extra or wrong character still reaches :func:`parse_serial` and gets
    its specific message, while URLs and payloads do not.
    """
    if len(text) > MAX_INPUT:
        return False
    symbols = _significant(text)
    return LENGTH - 2 <= len(symbols) <= LENGTH + 2 and symbols.isascii() and symbols.isalnum()


def _digits(serial: int) -> list[int]:
    values = [0] * DIGITS
    for index in range(DIGITS - 1, -1, -1):
        serial, values[index] = divmod(serial, MODULUS)
    return values


def _weighted_sum(values: Sequence[int]) -> int:
    """Sum of value * 3**k over the 11 symbols, k counted from the right from 1, modulo 31."""
    return sum(v * w for v, w in zip(values, _WEIGHTS, strict=True)) % MODULUS


def _check_value(digits: Sequence[int]) -> int:
    # The check c has weight 3**1 and the digits shift one place left, so
    # c * 3 + sum(digits with c = 0 in place) must be 0: c = -sum * 3**-1.
    partial = _weighted_sum([*digits, 0])
    return -partial * _INVERSE_RADIX % MODULUS


def _significant(text: str) -> str:
    """The typed symbols: NFKC-normalized, separators dropped, ASCII upper-cased, aliases read."""
    normalized = unicodedata.normalize("NFKC", text)
    symbols = []
    for char in normalized:
        if char in _SEPARATORS:
            continue
        # Only ASCII is upper-cased: "ı".upper() is "I", which must not become a 1.
        if char.isascii():
            char = char.upper()
            char = _ALIASES.get(char, char)
        symbols.append(char)
    return "".join(symbols)


def _group(symbols: str) -> str:
    parts = []
    start = 0
    for size in GROUPS:
        parts.append(symbols[start : start + size])
        start += size
    return "-".join(parts)
