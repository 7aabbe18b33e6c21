"""The QR symbol of a label: the one place a QR encoder is chosen.

The encoder is zxing-cpp's writer (zint inside): it selects the version, the segment modes and
the mask (with the full ISO/IEC 18004 penalty search) in C, about 3,400 symbols a second on one
core, against about 230 for segno or qrcode with their mask search in Python and about 1,200
with a fixed mask (``bench/sheets.py`` measures all of them). Error correction is level M, as
the code format's size budget assumes: a 151-character upper-case URL (alphanumeric mode) is
version 6, 41 × 41 modules.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

import zxingcpp
from PIL import Image

from gimark.labels.printing.errors import LayoutError

__all__ = ["EC_LEVEL", "MAX_MODULES", "MAX_VERSION", "QUIET_ZONE", "QrMatrix", "qr_matrix"]

EC_LEVEL: Final = "M"
MAX_VERSION: Final = 6  # what the label layouts are sized for; see docs/code-format.md
MAX_MODULES: Final = 17 + 4 * MAX_VERSION  # 41 modules a side
QUIET_ZONE: Final = 4  # modules of light margin on every side (ISO/IEC 18004)
DARK: Final = 0
LIGHT: Final = 255

_FORMAT = zxingcpp.BarcodeFormat.QRCode
_DARK_RUN = re.compile(b"\x00+")


@dataclass(frozen=True, slots=True)
class QrMatrix:
    """The modules of one QR symbol, quiet zone excluded.

    ``pixels`` holds one byte a module, row by row from the top, 0 for dark and 255 for light:
    the 8-bit grey image zxing-cpp returns and PIL's mode "L" reads, so no conversion is needed.
    """

    size: int  # modules per side
    pixels: bytes

    def __post_init__(self) -> None:
        if self.size < 21 or len(self.pixels) != self.size * self.size:
            raise ValueError(f"not a QR matrix: size {self.size}, {len(self.pixels)} pixels")

    @property
    def version(self) -> int:
        """The QR version, 1 … 40: the size is 17 + 4 × version."""
        return (self.size - 17) // 4

    def is_dark(self, x: int, y: int) -> bool:
        """Whether the module in column ``x`` of row ``y`` (from the top left) is dark."""
        return self.pixels[y * self.size + x] == DARK

    def rows(self) -> Iterator[bytes]:
        """The rows from the top, one byte a module."""
        size = self.size
        for start in range(0, size * size, size):
            yield self.pixels[start : start + size]

    def dark_runs(self) -> Iterator[tuple[int, int, int]]:
        """``(row, first column, length)`` of every horizontal run of dark modules.

        Drawing runs instead of single modules is what keeps vector output small.
        """
        for y, row in enumerate(self.rows()):
            for match in _DARK_RUN.finditer(row):
                yield y, match.start(), match.end() - match.start()

    def image(self) -> Image.Image:
        """One pixel a module, mode "L" (0 dark, 255 light), quiet zone excluded."""
        return Image.frombytes("L", (self.size, self.size), self.pixels)

    def packed(self) -> bytes:
        """One bit a module, 1 for light, each row padded to a whole byte.

        This is PIL's mode "1" layout and a PDF DeviceGray image of 1 bit a component.
        """
        return Image.frombytes("1", (self.size, self.size), self.pixels, "raw", "1;8").tobytes()


def qr_matrix(text: str) -> QrMatrix:
    """The QR symbol of ``text`` at error-correction level M, in the smallest version it fits.

    Raises:
        LayoutError: the text is empty, or too long for a version-6 symbol, the largest the
            label layouts are sized for (a QR base URL longer than about 30 characters).
    """
    if not text:
        raise _too_long(text, "the QR text is empty", "二维码内容为空")
    try:
        barcode = zxingcpp.create_barcode(text, _FORMAT, ec_level=EC_LEVEL)
    except ValueError as exc:  # zint's "input too long" and the like
        raise _too_long(text, str(exc), str(exc)) from exc
    image = barcode.to_image(add_quiet_zones=False)
    size = image.shape[0]
    # zxingcpp.Image has the buffer protocol, which its type stub does not declare.
    matrix = QrMatrix(size, bytes(memoryview(image)))  # type: ignore[arg-type]
    if matrix.version > MAX_VERSION:
        raise _too_long(
            text,
            f"it needs QR version {matrix.version}",
            f"需要第 {matrix.version} 版二维码",
        )
    return matrix


def _too_long(text: str, detail: str, detail_zh: str) -> LayoutError:
    return LayoutError(
        detail=(
            f"the QR text ({len(text)} characters) cannot be printed as a QR code of version"
            f" {MAX_VERSION} or less at error correction {EC_LEVEL}: {detail};"
            " a shorter QR base URL (GIMARK_BASE_URL) fixes this"
        ),
        detail_zh=(
            f"二维码内容（{len(text)} 个字符）无法以纠错等级 {EC_LEVEL}、不超过第 {MAX_VERSION}"
            f" 版的二维码印制：{detail_zh}；请缩短二维码基础网址（GIMARK_BASE_URL）"
        ),
    )
