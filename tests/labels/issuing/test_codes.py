"""The signed code: vectors, round trips, QR size, and every way a scanned text can be wrong."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
import qrcode
import segno
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given
from hypothesis import strategies as st

from gimark.core.errors import ConfigurationError, GimarkError
from gimark.keys.errors import UnknownKeyError
from gimark.keys.ids import jwk_thumbprint, key_id_for
from gimark.keys.jwks import MAX_JWKS_BYTES, MAX_KEYS
from gimark.labels.issuing.codes import (
    CODE_VERSION,
    MAX_TEXT,
    WHITESPACE,
    Code,
    decode_and_verify,
    encode_url,
    parse,
    sign_code,
    sign_codes,
    trim,
    verify,
)
from gimark.labels.issuing.errors import (
    BadSignatureError,
    MalformedCodeError,
    NotOursError,
    SerialRangeError,
    UnsupportedVersionError,
)
from gimark.labels.issuing.serials import MAX_INPUT, format_serial

BASE = "HTTPS://GI.EXAMPLE.CN/V"
BASES = (BASE,)
DOC = Path(__file__).resolve().parents[3] / "docs" / "code-format.md"

# The test vectors of docs/code-format.md, written out here so the test does not read them.
SEED_HEX = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
PUBLIC_X = "A6EHv_POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg"
THUMBPRINT = "1IG2tMH7J2wbJZnOf8LJzQitKf7LMvoAElsuDMVM54Y"
KEY_ID_HEX = "d481b6b4"
URL_1 = (
    "HTTPS://GI.EXAMPLE.CN/V/AHKIDNVUAAAAAAAAAFPGYC466BIAXOMFGKRKIEK2AKHX4APTHVBQCFRAINU7"
    "XTY6HDT2BAY33W4AVQW75GKZLF54IT5VC6JJ45QMDAZE23C6X5D4BTGT6AQP"
)
URL_123456789 = (
    "HTTPS://GI.EXAMPLE.CN/V/AHKIDNVUAAAAOW6NCU3IFDV5IT265HWGWOI4Y6GTZOWGKFKCGHGBX6SGL6V5"
    "JYOC6KNZNF2LAS2WMIZXQAOQYL3XKCE67MIUK7BP7FOYUJS4YVD5BW6TRGYC"
)
VECTORS = {1: URL_1, 123456789: URL_123456789}


class KeySigner:
    """The smallest CodeSigner: what the keys package does, minus storage."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._private_key = private_key
        self._key_id = key_id_for(private_key.public_key())

    @property
    def key_id(self) -> bytes:
        return self._key_id

    def sign(self, message: bytes) -> bytes:
        return self._private_key.sign(message)


class DictResolver:
    """A KeyResolver over a fixed set of public keys."""

    def __init__(self, *public_keys: Ed25519PublicKey) -> None:
        self._keys = {key_id_for(k): k for k in public_keys}

    def public_key(self, key_id: bytes) -> Ed25519PublicKey:
        try:
            return self._keys[key_id]
        except KeyError:
            raise UnknownKeyError(kid=key_id.hex()) from None


PRIVATE_KEY = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(SEED_HEX))
SIGNER = KeySigner(PRIVATE_KEY)
RESOLVER = DictResolver(PRIVATE_KEY.public_key())
CODE_1 = sign_code(SIGNER, 1)
PAYLOAD_1 = CODE_1.payload


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


# --- vectors and round trips -------------------------------------------------------------


@pytest.mark.parametrize(("serial", "url"), VECTORS.items())
def test_fixed_vectors(serial: int, url: str) -> None:
    code = sign_code(SIGNER, serial)
    assert encode_url(code, BASE) == url
    assert decode_and_verify(url, BASES, RESOLVER) == code


def test_key_id_is_the_rfc7638_thumbprint_prefix() -> None:
    raw = PRIVATE_KEY.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64url(raw)}
    # RFC 7638: required members, sorted, no whitespace. Built independently of codes.py.
    canonical = json.dumps(jwk, sort_keys=True, separators=(",", ":")).encode()
    digest = hashlib.sha256(canonical).digest()
    assert b64url(raw) == PUBLIC_X
    assert b64url(digest) == THUMBPRINT == b64url(jwk_thumbprint(PRIVATE_KEY.public_key()))
    assert key_id_for(PRIVATE_KEY.public_key()) == digest[:4] == bytes.fromhex(KEY_ID_HEX)
    assert CODE_1.key_id_hex == KEY_ID_HEX


def test_doc_carries_the_same_vectors() -> None:
    doc = DOC.read_text(encoding="utf-8")
    for value in (SEED_HEX, PUBLIC_X, THUMBPRINT, KEY_ID_HEX, URL_1, URL_123456789):
        assert value in doc
    assert CODE_1.payload in doc
    assert sign_code(SIGNER, 123456789).signature.hex() in doc


def test_the_manifest_page_shows_real_codes_of_the_test_key() -> None:
    page = (DOC.parent / "manifest.md").read_text(encoding="utf-8")
    rows = re.findall(r"^    (\d+),([0-9A-Z-]{13}),(\S+)$", page, re.MULTILINE)
    assert [int(serial) for serial, _, _ in rows] == [1, 2]
    for serial, printed, url in rows:
        assert decode_and_verify(url, BASES, RESOLVER) == sign_code(SIGNER, int(serial))
        assert printed == format_serial(int(serial))


def test_layout() -> None:
    code = sign_code(SIGNER, 0x0102030405)
    raw = base64.b32decode(code.payload)
    assert len(raw) == 75
    assert raw[0] == CODE_VERSION
    assert raw[1:5] == code.key_id
    assert raw[5:11] == bytes.fromhex("000102030405")
    assert raw[11:] == code.signature
    assert code.message == b"gimark-code-v1" + raw[:11]
    PRIVATE_KEY.public_key().verify(code.signature, b"gimark-code-v1" + raw[:11])


@given(
    key_id=st.binary(min_size=4, max_size=4),
    serial=st.integers(min_value=1, max_value=2**48 - 1),
    signature=st.binary(min_size=64, max_size=64),
)
def test_base32_is_rfc4648(key_id: bytes, serial: int, signature: bytes) -> None:
    # codes.py has its own base32 for speed; it must be byte-for-byte the standard one.
    raw = bytes((CODE_VERSION,)) + key_id + serial.to_bytes(6, "big") + signature
    expected = base64.b32encode(raw).decode("ascii")
    code = Code(CODE_VERSION, key_id, serial, signature)
    assert code.payload == expected
    assert parse(expected.lower(), BASES) == code


@given(st.integers(min_value=1, max_value=2**48 - 1))
def test_round_trip(serial: int) -> None:
    url = sign_code(SIGNER, serial).url(BASE + "/")
    assert len(url) == len(BASE) + 1 + 120
    assert url == url.upper()
    code = decode_and_verify(url, BASES, RESOLVER)
    assert code.serial == serial


def test_sign_codes_matches_sign_code() -> None:
    serials = [1, 2, 99, 2**48 - 1]
    assert list(sign_codes(SIGNER, serials)) == [sign_code(SIGNER, s) for s in serials]


@pytest.mark.parametrize("serial", [0, -1, 2**48])
def test_serial_out_of_range_is_not_signed(serial: int) -> None:
    with pytest.raises(SerialRangeError):
        sign_code(SIGNER, serial)
    with pytest.raises(SerialRangeError):
        list(sign_codes(SIGNER, [1, serial]))


def test_only_version_1_is_written() -> None:
    with pytest.raises(UnsupportedVersionError, match="version"):
        sign_code(SIGNER, 1, version=2)


def test_code_refuses_impossible_fields() -> None:
    with pytest.raises(ValueError, match="out of range"):
        Code(1, b"abc", 1, bytes(64))


@pytest.mark.parametrize(
    "base",
    ["https://gi.example.cn/v", "HTTPS://GI EXAMPLE.CN/V", "", "/", "GI.EXAMPLE.CN/V", "HTTPS://"],
)
def test_base_must_stay_in_qr_alphanumeric_mode(base: str) -> None:
    with pytest.raises(ConfigurationError, match="upper-case"):
        encode_url(CODE_1, base)


# --- QR size -------------------------------------------------------------------------


def test_url_fits_qr_version_6_m_with_a_30_character_base() -> None:
    base = "HTTPS://VERIFY.GI-LABELS.ORG/V/"
    assert len(base.rstrip("/")) == 30
    url = sign_code(SIGNER, 2**48 - 1).url(base)

    symbol = segno.make(url, error="m", boost_error=False)
    assert symbol.mode == "alphanumeric"
    assert isinstance(symbol.version, int)  # not a Micro QR
    assert symbol.version <= 6

    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(url)
    qr.make(fit=True)
    assert qr.version <= 6


# --- parsing what a phone may hand us -------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        URL_1,
        URL_1.lower(),
        "  " + URL_1 + "\n",
        URL_1.replace("HTTPS://", "http://"),
        URL_1 + "/",
        URL_1 + "?from=singlemessage&isappinstalled=0",
        URL_1 + "/?from=timeline",
        URL_1 + "#top",
        PAYLOAD_1,
        PAYLOAD_1.lower(),
    ],
)
def test_accepted_forms(text: str) -> None:
    assert decode_and_verify(text, BASES, RESOLVER) == CODE_1


def test_bases_compare_without_scheme_case_or_trailing_slash() -> None:
    other = URL_1.replace("GI.EXAMPLE.CN/V", "OLD.EXAMPLE.CN/Q")
    bases = ["http://old.example.cn/q/", BASE]
    assert parse(other, bases) == CODE_1
    assert parse(URL_1, bases) == CODE_1


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "x" * 10_000,
        "https://example.com/" + PAYLOAD_1,
        "https://example.com/?u=" + URL_1,
        URL_1.replace("/V/", "/VX/"),
        "地理标志产品",
        "🍵" * 120,
        PAYLOAD_1[:-1],
        PAYLOAD_1 + "=",
        "1" * 120,
        "WIFI:S:cafe;T:WPA;P:secret;;",
        "https://gıexample.cn/v/" + PAYLOAD_1,  # dotless ı upper-cases to ASCII "I"
    ],
)
def test_not_ours(text: str) -> None:
    with pytest.raises(NotOursError):
        parse(text, BASES)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (BASE, "no code after"),
        (BASE + "/", "no code after"),
        (BASE + "/?x=1", "no code after"),
        (URL_1[:-1], "119 characters"),
        (URL_1 + "A", "121 characters"),
        (BASE + "/" + PAYLOAD_1[:60], "60 characters"),
        (URL_1 + "=", "padding"),
        (URL_1[:-8] + "=" * 8, "padding"),
        (BASE + "/" + PAYLOAD_1[:50] + "=" + PAYLOAD_1[51:], r"character 51 \('='\)"),
        (URL_1[:-2] + "=A", r"character 119 \('='\)"),
        (BASE + "/1" + PAYLOAD_1[1:], "character 1"),
        (BASE + "/" + PAYLOAD_1[:50] + "0" + PAYLOAD_1[51:], "character 51"),
        (URL_1 + "/extra", "not used in codes"),
        (BASE + "/" + "地理标志" * 30, "other than letters"),
        (BASE + "/" + PAYLOAD_1[:-1] + "é", "other than letters"),
        (BASE + "/" + "A" * 3000, "3024 characters long"),
    ],
)
def test_malformed(text: str, match: str) -> None:
    with pytest.raises(MalformedCodeError, match=match) as info:
        parse(text, BASES)
    assert type(info.value) is MalformedCodeError
    assert info.value.code == "malformed"
    assert info.value.message("zh")


# The order of the checks of section 1.5, step 4: the first that fails is the reason given.
@pytest.mark.parametrize(
    ("payload", "match"),
    [
        # 4.1 non-ASCII anywhere comes before a bad character or a wrong length
        ("1" + PAYLOAD_1[1:-1] + "é", "other than letters"),
        # 4.2 the first character outside the alphabet, before the length
        (PAYLOAD_1[:10] + "0" + PAYLOAD_1[10:50] + "=", r"character 11 \('0'\)"),
        ("=" + PAYLOAD_1[:30], r"character 1 \('='\)"),
        (PAYLOAD_1[:30] + "==", "padding"),
        # 4.3 the length last
        (PAYLOAD_1[:30], "30 characters"),
    ],
)
def test_payload_checks_come_in_the_documented_order(payload: str, match: str) -> None:
    with pytest.raises(MalformedCodeError, match=match):
        parse(BASE + "/" + payload, BASES)


def test_whitespace_is_the_unicode_white_space_set_and_the_bom() -> None:
    white_space = {
        *"\t\n\v\f\r \x85\xa0\u1680",
        *map(chr, range(0x2000, 0x200B)),
        *"\u2028\u2029\u202f\u205f\u3000",
    }
    assert set(WHITESPACE) == white_space | {"\ufeff"}
    assert len(WHITESPACE) == 26


@pytest.mark.parametrize("space", list(WHITESPACE))
def test_every_whitespace_character_is_trimmed(space: str) -> None:
    assert parse(space + URL_1 + space * 2, BASES) == CODE_1


@pytest.mark.parametrize(
    "text",
    [
        "\ufeff" + URL_1,  # a BOM, as a Windows clipboard may leave it; str.strip() keeps it
        "\u3000" + URL_1 + "\u3000",  # ideographic spaces, as a Chinese IME types them
        "\ufeff\u3000 " + PAYLOAD_1 + "\r\n",
    ],
)
def test_bom_and_ideographic_space_are_trimmed(text: str) -> None:
    assert decode_and_verify(text, BASES, RESOLVER) == CODE_1


@pytest.mark.parametrize(
    "char",
    [
        "\x1c",  # str.strip() removes U+001C-U+001F; they are not whitespace here
        "\u200b",  # zero width space: not White_Space
        "\u180e",  # Mongolian vowel separator: White_Space until Unicode 6.3, not now
    ],
)
def test_other_characters_are_not_trimmed(char: str) -> None:
    assert trim(char + "A" + char) == char + "A" + char
    with pytest.raises(NotOursError):
        parse(char + URL_1, BASES)


def test_unsupported_version() -> None:
    raw = bytearray(base64.b32decode(PAYLOAD_1))
    raw[0] = 2
    with pytest.raises(UnsupportedVersionError, match=r"\(2\)") as info:
        parse(base64.b32encode(bytes(raw)).decode(), BASES)
    assert info.value.code == "unsupported_version"


def test_serial_zero_is_malformed() -> None:
    raw = bytearray(base64.b32decode(PAYLOAD_1))
    raw[5:11] = bytes(6)
    with pytest.raises(MalformedCodeError, match="serial number is 0"):
        parse(BASE + "/" + base64.b32encode(bytes(raw)).decode(), BASES)


def test_unknown_key() -> None:
    stranger = Ed25519PrivateKey.generate()
    url = sign_code(KeySigner(stranger), 7).url(BASE)
    with pytest.raises(UnknownKeyError):
        decode_and_verify(url, BASES, RESOLVER)


def test_a_stranger_cannot_sign_under_our_key_id() -> None:
    class Impostor(KeySigner):
        @property
        def key_id(self) -> bytes:
            return SIGNER.key_id

    url = sign_code(Impostor(Ed25519PrivateKey.generate()), 7).url(BASE)
    with pytest.raises(BadSignatureError, match="forged or altered"):
        decode_and_verify(url, BASES, RESOLVER)


def test_signature_does_not_cover_a_different_domain() -> None:
    # A signature over the bare header (no domain tag) must not verify as a code.
    header = CODE_1.header
    forged = Code(1, CODE_1.key_id, 1, PRIVATE_KEY.sign(header))
    with pytest.raises(BadSignatureError):
        verify(forged, RESOLVER)


# --- tampering ----------------------------------------------------------------------

REJECTIONS = (
    UnsupportedVersionError,
    MalformedCodeError,
    UnknownKeyError,
    BadSignatureError,
)


def flip(payload: str, bit: int) -> str:
    raw = bytearray(base64.b32decode(payload))
    raw[bit // 8] ^= 0x80 >> (bit % 8)
    return base64.b32encode(bytes(raw)).decode("ascii")


def assert_rejected(text: str) -> None:
    with pytest.raises(REJECTIONS):
        decode_and_verify(text, BASES, RESOLVER)


def test_every_bit_flip_of_a_vector_is_rejected() -> None:
    for bit in range(75 * 8):
        assert_rejected(BASE + "/" + flip(PAYLOAD_1, bit))


@given(
    serial=st.integers(min_value=1, max_value=2**48 - 1),
    bit=st.integers(min_value=0, max_value=75 * 8 - 1),
    lower=st.booleans(),
)
def test_any_bit_flip_is_rejected(serial: int, bit: int, lower: bool) -> None:
    url = BASE + "/" + flip(sign_code(SIGNER, serial).payload, bit)
    assert_rejected(url.lower() if lower else url)


@given(st.text(max_size=300))
def test_any_text_ends_in_a_code_error(text: str) -> None:
    with pytest.raises(GimarkError):
        decode_and_verify(text, BASES, RESOLVER)


@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ234567abcxyz=/?#:.-", max_size=200))
def test_any_text_after_our_base_ends_in_a_code_error(tail: str) -> None:
    # A random tail never carries a valid signature: refused, always by one of our errors.
    with pytest.raises((*REJECTIONS, NotOursError)):
        decode_and_verify(BASE + "/" + tail, BASES, RESOLVER)


# --- offline verification from the published JWKS ------------------------------------


class JwksResolver:
    """What an independent verifier writes from docs/code-format.md: keys from a JWKS only."""

    def __init__(self, jwks: dict[str, Any]) -> None:
        self._keys: dict[bytes, list[Ed25519PublicKey]] = {}
        for jwk in jwks["keys"]:
            if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
                continue
            # Match on the thumbprint computed from x, not on the kid string.
            canonical = '{"crv":"Ed25519","kty":"OKP","x":"' + jwk["x"] + '"}'
            thumbprint = hashlib.sha256(canonical.encode()).digest()
            if jwk.get("kid", b64url(thumbprint)) != b64url(thumbprint):
                continue
            raw = base64.urlsafe_b64decode(jwk["x"] + "=" * (-len(jwk["x"]) % 4))
            # Every key with the id: four bytes can collide (section 3.2).
            self._keys.setdefault(thumbprint[:4], []).append(
                Ed25519PublicKey.from_public_bytes(raw)
            )

    def public_keys(self, key_id: bytes) -> list[Ed25519PublicKey]:
        if key_id not in self._keys:
            raise UnknownKeyError(kid=key_id.hex())
        return self._keys[key_id]

    def public_key(self, key_id: bytes) -> Ed25519PublicKey:
        return self.public_keys(key_id)[0]


def test_offline_verification_with_only_a_jwks() -> None:
    jwks = {
        "keys": [
            {"kty": "RSA", "kid": "rsa-2024", "n": "0vx7", "e": "AQAB"},
            {"kty": "OKP", "crv": "Ed25519", "x": b64url(bytes(32)), "kid": "other"},
            {
                "kty": "OKP",
                "crv": "Ed25519",
                "x": PUBLIC_X,
                "kid": THUMBPRINT,
                "use": "sig",
            },
        ]
    }
    resolver = JwksResolver(jwks)
    assert decode_and_verify(URL_123456789, BASES, resolver).serial == 123456789
    with pytest.raises(UnknownKeyError):
        decode_and_verify(URL_1, BASES, JwksResolver({"keys": jwks["keys"][:2]}))


def test_doc_states_the_input_limits_the_code_has() -> None:
    doc = DOC.read_text(encoding="utf-8")
    limits = {
        "MAX_TEXT": (MAX_TEXT, "characters"),
        "MAX_INPUT": (MAX_INPUT, "characters"),
        "MAX_JWKS_BYTES": (MAX_JWKS_BYTES, "bytes"),
        "MAX_KEYS": (MAX_KEYS, ""),
    }
    for name, (value, unit) in limits.items():
        row = next(line for line in doc.splitlines() if f"`{name}`" in line and "|" in line)
        assert f"| {value:,} {unit}".rstrip() + " |" in row, row


def test_doc_lists_the_whitespace_that_is_trimmed() -> None:
    doc = DOC.read_text(encoding="utf-8")
    for char in WHITESPACE:
        code = f"U+{ord(char):04X}"
        assert code in doc or any(
            f"U+{start:04X}–U+{end:04X}" in doc
            for start, end in ((0x9, 0xD), (0x2000, 0x200A))
            if start <= ord(char) <= end
        ), code
