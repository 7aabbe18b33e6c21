"""The QR symbol of a label: level M, version 6 for a full-length code URL, and it reads back."""

from __future__ import annotations

import pytest
import segno
import zxingcpp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image, ImageOps

from gimark.keys.ids import key_id_for
from gimark.labels.issuing.codes import encode_url, sign_codes
from gimark.labels.printing.errors import LayoutError
from gimark.labels.printing.qr import MAX_MODULES, QUIET_ZONE, QrMatrix, qr_matrix

BASE_30 = "HTTPS://LABELS.GI.EXAMPLE.CN/V"  # 30 characters: the longest base codes are sized for


class KeySigner:
    """A CodeSigner over an in-memory key."""

    def __init__(self) -> None:
        self._key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
        self._key_id = key_id_for(self._key.public_key())

    @property
    def key_id(self) -> bytes:
        return self._key_id

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)


URLS = [encode_url(code, BASE_30) for code in sign_codes(KeySigner(), [1, 2**24 + 7, 2**48 - 1])]


def read(matrix: QrMatrix, scale: int = 4) -> zxingcpp.Barcode:
    """Decode a matrix as a scanner would see it: quiet zone added, enlarged."""
    image = ImageOps.expand(matrix.image(), border=QUIET_ZONE, fill=255)
    image = image.resize((image.width * scale,) * 2, Image.Resampling.NEAREST)
    result = zxingcpp.read_barcode(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert result is not None
    return result


@pytest.mark.parametrize("url", URLS)
def test_a_full_length_code_url_is_version_6_level_m_and_reads_back(url: str) -> None:
    assert len(url) == 151
    matrix = qr_matrix(url)
    assert (matrix.size, matrix.version) == (MAX_MODULES, 6)

    result = read(matrix)
    assert result.text == url
    assert result.ec_level == "M"
    assert result.extra["Version"] == "6"
    assert result.symbology_identifier == "]Q1"  # QR model 2, no ECI header


def test_the_url_is_encoded_in_alphanumeric_mode() -> None:
    # Byte mode needs a larger symbol for these 151 characters: version 6 proves the mode,
    # and segno's alphanumeric-only encoding gives the same size.
    url = URLS[0]
    as_bytes = segno.make(url, error="m", boost_error=False, mode="byte")
    as_alphanumeric = segno.make(url, error="m", boost_error=False, mode="alphanumeric")
    assert as_bytes.version > 6
    assert as_alphanumeric.version == qr_matrix(url).version == 6


def test_the_same_text_gives_the_same_matrix() -> None:
    assert qr_matrix(URLS[1]) == qr_matrix(URLS[1])


def test_packed_rows_and_runs_agree_with_the_modules() -> None:
    matrix = qr_matrix(URLS[2])
    row_bytes = (matrix.size + 7) // 8
    packed = matrix.packed()
    assert len(packed) == row_bytes * matrix.size
    for y in range(matrix.size):
        for x in range(matrix.size):
            light = packed[y * row_bytes + x // 8] >> (7 - x % 8) & 1
            assert light == (not matrix.is_dark(x, y))

    dark = {(x, y) for y in range(matrix.size) for x in range(matrix.size) if matrix.is_dark(x, y)}
    from_runs = {(x + i, y) for y, x, length in matrix.dark_runs() for i in range(length)}
    assert from_runs == dark
    # Finder pattern: the top-left corner is dark, and its 7-module top row is one run.
    assert next(matrix.dark_runs()) == (0, 0, 7)


def test_a_short_text_gives_a_smaller_symbol() -> None:
    matrix = qr_matrix("HTTPS://GI.EXAMPLE.CN/V/ABC")
    assert matrix.version < 6
    assert read(matrix).text == "HTTPS://GI.EXAMPLE.CN/V/ABC"


def test_a_text_too_long_for_version_6_is_refused() -> None:
    too_long = "HTTPS://A-MUCH-LONGER-BASE.GI.EXAMPLE.CN/VERIFY/" + URLS[0][31:]
    with pytest.raises(LayoutError, match="version 6 or less") as info:
        qr_matrix(too_long)
    assert info.value.code == "layout"
    assert "GIMARK_BASE_URL" in info.value.message("zh")


@pytest.mark.parametrize("text", ["", "A" * 5000])
def test_empty_and_huge_texts_are_refused(text: str) -> None:
    with pytest.raises(LayoutError):
        qr_matrix(text)


def test_a_matrix_checks_its_shape() -> None:
    with pytest.raises(ValueError, match="not a QR matrix"):
        QrMatrix(21, bytes(20))
