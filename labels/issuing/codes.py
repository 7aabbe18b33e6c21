"""The signed code carried by a label's QR: its binary layout, URL form, parsing and checks.

A code is 75 bytes::

    version (1) | key_id (4) | serial (6, big-endian) | Ed25519 signature (64)

signed over ``b"gimark-code-v1" + version|key_id|serial`` and written as 120 characters of
unpadded upper-case base32 after the QR base URL, so the whole QR text is in QR alphanumeric
mode. ``docs/code-format.md`` is the written spec; the numbered steps in :func:`parse` and
:func:`verify` follow it.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Final, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from nacl.exceptions import BadSignatureError as SodiumBadSignature
from nacl.signing import VerifyKey

from gimark.core.settings import printed_base
from gimark.labels.issuing.errors import (
    BadSignatureError,
    MalformedCodeError,
    NotOursError,
    SerialRangeError,
    UnsupportedVersionError,
)

__all__ = [
    "CODE_VERSION",
    "WHITESPACE",
    "Code",
    "CodeSigner",
    "KeyResolver",
    "KeyRing",
    "decode_and_verify",
    "encode_url",
    "parse",
    "sign_code",
    "sign_codes",
    "trim",
    "verify",
]

CODE_VERSION: Final = 1
DOMAIN: Final = b"gimark-code-v1"  # signed before the header: a code signature is nothing else
SERIAL_LIMIT: Final = 2**48  # serials are 6 bytes; 0 is never issued
PAYLOAD_BYTES: Final = 75
PAYLOAD_CHARS: Final = 120  # 75 bytes * 8 / 5 bits: base32 with no padding
MAX_TEXT: Final = 2048  # characters; longer scanned text is refused before any work
# What "whitespace" is wherever scanned text or a typed serial is trimmed (docs/code-format.md,
# section 1.5): the 25 characters with the Unicode White_Space property, plus U+FEFF, the
# byte order mark a clipboard or a UTF-8 file may leave in front. Not str.strip()'s set:
# that removes U+001C-U+001F and keeps U+FEFF, so a verifier in another language (whose
# trim() differs again) could not match it.
WHITESPACE: Final = (
    "\t\n\v\f\r \x85\xa0\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000\ufeff"
)

# serial is 6 bytes, which struct has no letter for: high 16 bits + low 32 bits.
_HEADER = struct.Struct(">B4sHI")
_SCHEME = re.compile(r"https?://", re.IGNORECASE | re.ASCII)  # ASCII: "httpſ" is not "https"
_NOT_BASE32 = re.compile(r"[^A-Z2-7]")


class CodeSigner(Protocol):
    """Signs code messages with one issuer key (implemented by the keys package)."""

    @property
    def key_id(self) -> bytes:
        """The 4-byte key id, as :func:`gimark.keys.ids.key_id_for` computes it."""
        ...

    def sign(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``message``."""
        ...


class KeyResolver(Protocol):
    """Finds the public key a code names (implemented by the keys package, or a JWKS).

    Four bytes of key id can collide: a resolver that may hold several keys under one id
    also offers them all as ``public_keys``, as :class:`KeyRing` says, and :func:`verify`
    then tries each.
    """

    def public_key(self, key_id: bytes) -> Ed25519PublicKey:
        """The public key with this 4-byte id.

        Raises:
            UnknownKeyError: no known key has this id.
        """
        ...


class KeyRing(KeyResolver, Protocol):
    """A :class:`KeyResolver` that may hold several keys under one id (``PublicKeySet``)."""

    def public_keys(self, key_id: bytes) -> Sequence[Ed25519PublicKey]:
        """Every public key with this 4-byte id, at least one.

        Raises:
            UnknownKeyError: no known key has this id.
        """
        ...


@dataclass(frozen=True, slots=True)
class Code:
    """One decoded code. Holding a ``Code`` says nothing about its signature: see :func:`verify`."""

    version: int
    key_id: bytes
    serial: int
    signature: bytes

    def __post_init__(self) -> None:
        # Fields out of range can only come from a programming error: parse() and
        # sign_code() never build them, so this is a ValueError, not a domain error.
        if not (
            0 <= self.version <= 0xFF
            and len(self.key_id) == 4
            and 1 <= self.serial < SERIAL_LIMIT
            and len(self.signature) == 64
        ):
            raise ValueError(f"code fields out of range: {self!r}")

    @property
    def header(self) -> bytes:
        """The 11 bytes version|key_id|serial."""
        return _HEADER.pack(self.version, self.key_id, self.serial >> 32, self.serial & 0xFFFFFFFF)

    @property
    def message(self) -> bytes:
        """The bytes the signature is over: the domain tag, then the header."""
        return DOMAIN + self.header

    @property
    def payload(self) -> str:
        """The 120-character upper-case base32 form printed after the base URL."""
        return _b32encode(self.header + self.signature)

    @property
    def key_id_hex(self) -> str:
        """The key id as 8 lower-case hex digits, as logs and the admin pages show it."""
        return self.key_id.hex()

    def url(self, base: str) -> str:
        """The QR text for this code under ``base``; see :func:`encode_url`."""
        return encode_url(self, base)


def sign_code(signer: CodeSigner, serial: int, version: int = CODE_VERSION) -> Code:
    """Sign one serial.

    Raises:
        SerialRangeError: ``serial`` is not in 1 … 2**48 − 1.
        UnsupportedVersionError: ``version`` is not one this module writes.
    """
    if version != CODE_VERSION:
        raise UnsupportedVersionError(version=version)
    key_id = signer.key_id
    return _sign(signer.sign, _message_prefix(key_id), key_id, serial)


def sign_codes(signer: CodeSigner, serials: Iterable[int]) -> Iterator[Code]:
    """Sign many serials with one key: the label-run path, with the constant part hoisted.

    Raises:
        SerialRangeError: a serial is not in 1 … 2**48 − 1 (raised when that serial is reached).
    """
    key_id = signer.key_id
    sign = signer.sign
    prefix = _message_prefix(key_id)
    for serial in serials:
        yield _sign(sign, prefix, key_id, serial)


def _message_prefix(key_id: bytes) -> bytes:
    # Everything of the signed message but the serial: the same for a whole label run.
    return DOMAIN + bytes((CODE_VERSION,)) + key_id


def _sign(sign: Callable[[bytes], bytes], prefix: bytes, key_id: bytes, serial: int) -> Code:
    if not 1 <= serial < SERIAL_LIMIT:
        raise SerialRangeError(serial=serial)
    return Code(CODE_VERSION, key_id, serial, sign(prefix + serial.to_bytes(6, "big")))


def encode_url(code: Code, base: str) -> str:
    """The QR text ``<BASE>/<payload>``; trailing slashes on ``base`` are dropped.

    Raises:
        ConfigurationError: ``base`` is not an http(s) URL that keeps the QR in alphanumeric
            mode (lower-case letters, spaces, other punctuation), see
            :func:`gimark.core.settings.printed_base`.
    """
    return _url_prefix(base) + code.payload


@lru_cache(maxsize=16)
def _url_prefix(base: str) -> str:
    return printed_base(base) + "/"


def trim(text: str) -> str:
    """``text`` without the :data:`WHITESPACE` around it (scanner and clipboard noise)."""
    return text.strip(WHITESPACE)


def parse(text: str, bases: Sequence[str]) -> Code:
    """Read a scanned QR text (or a bare payload) into a :class:`Code`. No signature check.

    Raises:
        NotOursError: the text is not addressed to any of ``bases`` and is not a bare payload.
        MalformedCodeError: it is addressed to us but the payload is damaged or incomplete.
        UnsupportedVersionError: the payload is of an unknown format version.
    """
    # The numbered steps are those of docs/code-format.md, section 1.5.
    # 1. Surrounding whitespace is scanner noise.
    text = trim(text)
    # 3 (needed by 2). What follows one of our bases, if the text starts with one.
    tail = _after_base(text, tuple(_base_key(b) for b in bases))
    # 2. Refuse huge input before doing any work on it.
    if len(text) > MAX_TEXT:
        if tail is None:
            raise NotOursError()
        raise _malformed(f"it is {len(text)} characters long", f"长度为 {len(text)} 个字符，过长")
    # 3. Our URL, else a bare payload, else not ours.
    if tail is not None:
        payload = _payload_from_tail(tail)
    elif len(text) == PAYLOAD_CHARS and text.isascii() and not _NOT_BASE32.search(text.upper()):
        payload = text  # e.g. pasted by hand
    else:
        raise NotOursError()
    return _decode_payload(payload)


def verify(code: Code, keys: KeyResolver) -> Ed25519PublicKey:
    """Check the code's signature against the keys it names; return the key that verifies it.

    Raises:
        UnknownKeyError: no key known to ``keys`` has the code's key id.
        BadSignatureError: no key with that id verifies the signature: forged or altered.
    """
    # 7. The key id names the keys: every one with that id, as 4 bytes can collide
    # (docs/code-format.md, sections 1.5 and 3.2).
    candidates = _candidates(keys, code.key_id)
    # 8. Ed25519 over the domain tag and the header, by any of them. Checked by libsodium,
    # not by OpenSSL through cryptography: the same check in two thirds of the time, on
    # every scan.
    for public_key in candidates:
        try:
            _sodium_key(public_key.public_bytes_raw()).verify(code.message, code.signature)
        except SodiumBadSignature:
            continue
        return public_key
    raise BadSignatureError()


def _candidates(keys: KeyResolver, key_id: bytes) -> Sequence[Ed25519PublicKey]:
    # getattr, not isinstance on a runtime-checkable protocol: that costs 5 µs a scan.
    many: Callable[[bytes], Sequence[Ed25519PublicKey]] | None = getattr(keys, "public_keys", None)
    return many(key_id) if many is not None else (keys.public_key(key_id),)


@lru_cache(maxsize=64)
def _sodium_key(raw: bytes) -> VerifyKey:
    return VerifyKey(raw)


def decode_and_verify(text: str, bases: Sequence[str], keys: KeyResolver) -> Code:
    """:func:`parse`, then :func:`verify`: the code, only if it is genuine as a signed object.

    Raises:
        NotOursError, MalformedCodeError, UnsupportedVersionError: as :func:`parse`.
        UnknownKeyError, BadSignatureError: as :func:`verify`.
    """
    code = parse(text, bases)
    verify(code, keys)
    return code


@lru_cache(maxsize=64)
def _base_key(base: str) -> str:
    # A base is compared without its scheme (http and https are the same to a scanner),
    # without a trailing slash and in upper case.
    return _strip_scheme(trim(base)).rstrip("/").upper()


def _strip_scheme(text: str) -> str:
    match = _SCHEME.match(text)
    return text[match.end() :] if match else text


def _after_base(text: str, base_keys: tuple[str, ...]) -> str | None:
    """What follows the first base ``text`` starts with, or None when it starts with none."""
    body = _strip_scheme(text)
    for key in base_keys:
        head = body[: len(key)]
        # isascii() first: "ı".upper() == "I", so non-ASCII must not reach the comparison.
        if key and head.isascii() and head.upper() == key:
            tail = body[len(key) :]
            # The base must end at a path boundary: ".../V" is not ".../VX".
            if tail == "" or tail[0] in "/?#":
                return tail
    return None


def _payload_from_tail(tail: str) -> str:
    # Scanners and chat apps may append a query (?from=…), a fragment or a slash.
    payload = re.split(r"[?#]", tail.removeprefix("/"), maxsplit=1)[0].removesuffix("/")
    if not payload:
        raise _malformed("there is no code after the address", "网址后面没有码")
    return payload


def _decode_payload(payload: str) -> Code:
    """The code in a payload string, case-insensitively (a lower-cased URL is still ours)."""
    # 4. Only A-Z and 2-7, in any case, exactly 120 of them; the first failing check of
    # 4.1-4.3 is the reason given.
    # 4.1 Non-ASCII anywhere: such text was never printed by an issuer.
    if not payload.isascii():
        raise _malformed(
            "it contains characters other than letters and digits",
            "含有字母和数字以外的字符",
        )
    # 4.2 The first character outside the alphabet: padding if only "=" follow from it.
    upper = payload.upper()
    bad = _NOT_BASE32.search(upper)
    if bad:
        raise _bad_character(payload, bad.start())
    # 4.3 The length.
    if len(upper) != PAYLOAD_CHARS:
        raise _malformed(
            f"it has {len(upper)} characters where a code has {PAYLOAD_CHARS}",
            f"码长 {len(upper)} 个字符，应为 {PAYLOAD_CHARS} 个",
        )
    # 4.4 Base32-decode.
    data = _b32decode(upper)
    version, key_id, serial_high, serial_low = _HEADER.unpack_from(data)
    # 5. A later format may differ in every byte after the first.
    if version != CODE_VERSION:
        raise UnsupportedVersionError(version=version)
    serial = serial_high << 32 | serial_low
    # 6. Serial 0 is never issued.
    if serial == 0:
        raise _malformed("its serial number is 0, which is never issued", "序列号为 0，从未签发")
    return Code(version, key_id, serial, data[_HEADER.size :])


def _bad_character(payload: str, index: int) -> MalformedCodeError:
    char = payload[index]
    # Padding is "=" at the end only: a "=" inside the payload is a damaged character
    # like any other, and its position helps whoever reads the message.
    if char == "=" and not payload[index:].strip("="):
        return _malformed(
            "it has '=' padding, which codes never have",
            "含有 '=' 填充字符，正式的码没有填充",
        )
    return _malformed(
        f"character {index + 1} ({char!r}) is not used in codes (only A-Z and 2-7 are)",
        f"第 {index + 1} 个字符 {char!r} 不会出现在码中（码只含 A-Z 和 2-7）",
    )


def _malformed(detail: str, detail_zh: str) -> MalformedCodeError:
    return MalformedCodeError(detail=detail, detail_zh=detail_zh)


# Base32 (RFC 4648, no padding) of exactly 75 bytes, done with a handful of big-integer
# operations: base64.b32encode and b32decode are pure Python before 3.13 and cost 4 and
# 7 µs a code, a fifth of a signature. The 600 bits are 120 groups of 5 bits, padded to 128
# (a power of two). "Spreading" gives every group a byte of its own in 7 halving steps; in
# each, every block of `size` groups keeps its low half in place and moves its high half up
# by 8 * half - 5 * half bits. bytes.translate then maps the values 0-31 to the alphabet.
# Decoding runs the same steps backwards. The tests compare both with the base64 module.
_B32_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_TO_B32 = bytes.maketrans(bytes(range(32)), _B32_ALPHABET)
_FROM_B32 = bytes.maketrans(_B32_ALPHABET, bytes(range(32)))
_GROUPS = 128
_PAD_BITS = (_GROUPS - PAYLOAD_CHARS) * 5


def _spread_steps() -> tuple[tuple[int, int, int], ...]:
    """(low mask, high mask, shift) of each halving step, largest blocks first."""
    steps = []
    size = _GROUPS
    while size > 1:
        half = size // 2
        low = high = 0
        for block in range(_GROUPS // size):
            at = 8 * size * block  # where the block sits once every group has a byte
            low |= ((1 << 5 * half) - 1) << at
            high |= ((1 << 5 * size) - (1 << 5 * half)) << at
        steps.append((low, high, 3 * half))
        size = half
    return tuple(steps)


_SPREAD = _spread_steps()


def _b32encode(data: bytes) -> str:
    x = int.from_bytes(data, "big") << _PAD_BITS
    for low, high, shift in _SPREAD:
        x = x & low | (x & high) << shift
    return x.to_bytes(_GROUPS, "big")[:PAYLOAD_CHARS].translate(_TO_B32).decode("ascii")


def _b32decode(text: str) -> bytes:
    """The 75 bytes of a 120-character payload already checked to be upper-case base32."""
    values = text.encode("ascii").translate(_FROM_B32) + bytes(_GROUPS - PAYLOAD_CHARS)
    x = int.from_bytes(values, "big")
    for low, high, shift in reversed(_SPREAD):
        x = x & low | (x >> shift) & high
    return (x >> _PAD_BITS).to_bytes(PAYLOAD_BYTES, "big")
