"""The PNG and SVG writers of :mod:`gimark.labels.printing.sheets`: one sheet or one label a file.

PNG is black and white (PIL mode "1") at the layout's resolution, with whole pixels a QR module
so every module prints alike; its text is Latin only, in Pillow's bundled font, so no font file
is needed (a Chinese product name is left out, and the mark placeholder says "GI"). SVG is in
millimetres, each QR one path of merged runs, text as text.
"""

from __future__ import annotations

import io
from functools import lru_cache
from typing import TYPE_CHECKING, Final
from xml.sax.saxutils import escape, quoteattr

from PIL import Image, ImageDraw, ImageFont
from reportlab.pdfbase import pdfmetrics

from gimark.labels.printing.layout import CROP_LINE, MARK_LINE, PT, Layout, caption_lines
from gimark.labels.printing.layout import fmt as _n
from gimark.labels.printing.qr import QUIET_ZONE, QrMatrix, qr_matrix
from gimark.labels.printing.sheet_pdf import CJK_FONT  # registered with reportlab there, for widths

if TYPE_CHECKING:
    from gimark.labels.printing.sheets import LabelData

__all__ = ["Raster", "Svg"]


class Raster:
    """Labels drawn in black and white (PIL mode "1") at the layout's resolution."""

    def __init__(self, layout: Layout) -> None:
        self._layout = layout
        self._dpi = layout.dpi

    def _px(self, mm: float) -> int:
        return round(mm * self._dpi / 25.4)

    def sheet(self, labels: list[LabelData]) -> bytes:
        layout = self._layout
        image = Image.new("1", (self._px(layout.page_w), self._px(layout.page_h)), 1)
        draw = ImageDraw.Draw(image)
        for x1, y1, x2, y2 in layout.crop_marks_mm():
            coords = (self._px(x1), self._px(y1), self._px(x2), self._px(y2))
            draw.line(coords, fill=0, width=max(1, self._px(CROP_LINE)))
        for slot, label in enumerate(labels):
            x, y = layout.label_origin(slot)
            self._draw(image, draw, label, self._px(x), self._px(y))
        return self._png(image)

    def label(self, label: LabelData) -> bytes:
        layout = self._layout
        image = Image.new("1", (self._px(layout.label_w), self._px(layout.label_h)), 1)
        self._draw(image, ImageDraw.Draw(image), label, 0, 0)
        return self._png(image)

    def _png(self, image: Image.Image) -> bytes:
        out = io.BytesIO()
        image.save(out, format="PNG", dpi=(self._dpi, self._dpi))
        return out.getvalue()

    def _draw(
        self, image: Image.Image, draw: ImageDraw.ImageDraw, label: LabelData, x: int, y: int
    ) -> None:
        g = self._layout.geometry
        matrix = label.matrix or qr_matrix(label.qr_text)
        self._draw_qr(image, matrix, x + self._px(g.qr_x), y + self._px(g.qr_y))
        cx, cy, r = x + self._px(g.mark_cx), y + self._px(g.mark_cy), self._px(g.mark_d / 2)
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=0, width=max(1, self._px(MARK_LINE)))
        gi, _, size, dy = caption_lines(2 * r)[0]  # the Latin line only: see Raster
        draw.text((cx, cy - round(dy)), gi, fill=0, font=_font(round(size)), anchor="ms")
        lines = [(label.uscc, g.uscc_pt, g.uscc_y), (label.printed_serial, g.serial_pt, g.serial_y)]
        if g.name_pt and label.product_name.isascii():
            lines.append((label.product_name, g.name_pt, g.name_y))
        for text, size_pt, baseline in lines:
            self._draw_text(draw, text, size_pt, x + self._px(g.text_cx), y + self._px(baseline))

    def _draw_qr(self, image: Image.Image, matrix: QrMatrix, x: int, y: int) -> None:
        # Whole pixels a module, so every module prints the same; centred in the QR area.
        span = matrix.size + 2 * QUIET_ZONE
        module = int(self._layout.geometry.qr_side * self._dpi / 25.4 / span)
        offset = (self._px(self._layout.geometry.qr_side) - span * module) // 2
        at = offset + QUIET_ZONE * module
        symbol = Image.frombytes("1", (matrix.size, matrix.size), matrix.pixels, "raw", "1;8")
        side = matrix.size * module
        image.paste(symbol.resize((side, side), Image.Resampling.NEAREST), (x + at, y + at))

    def _draw_text(
        self, draw: ImageDraw.ImageDraw, text: str, size_pt: float, cx: int, baseline: int
    ) -> None:
        text = text.encode("ascii", "replace").decode("ascii")  # the raster font is Latin only
        size = max(1, round(size_pt * PT * self._dpi / 25.4))
        room = self._layout.geometry.text_w * self._dpi / 25.4
        width = _font(size).getlength(text)
        if width > room:  # squeeze what is too wide by a smaller size
            size = max(1, int(size * room / width))
        draw.text((cx, baseline), text, fill=0, font=_font(size), anchor="ms")


@lru_cache(maxsize=64)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    # Pillow's bundled font: no font file to install, Latin only.
    return ImageFont.load_default(size=size)


# --- SVG ---------------------------------------------------------------------------------

SVG_SANS: Final = "Helvetica, Arial, sans-serif"
SVG_SERIF_CJK: Final = "STSong, SimSun, 'Songti SC', 'Noto Serif CJK SC', serif"


class Svg:
    """Labels as SVG in mm: QR runs as one path a symbol, text as text."""

    def __init__(self, layout: Layout) -> None:
        self._layout = layout

    def sheet(self, labels: list[LabelData]) -> bytes:
        layout = self._layout
        parts = [_svg_head(layout.page_w, layout.page_h)]
        marks = layout.crop_marks_mm()
        if marks:
            d = "".join(f"M{_n(x1)} {_n(y1)}L{_n(x2)} {_n(y2)}" for x1, y1, x2, y2 in marks)
            parts.append(
                f'<path class="crop-marks" d="{d}" stroke="#000"'
                f' stroke-width="{_n(CROP_LINE)}" fill="none"/>'
            )
        for slot, label in enumerate(labels):
            parts.append(self._label(label, *layout.label_origin(slot)))
        parts.append("</svg>\n")
        return "\n".join(parts).encode("utf-8")

    def label(self, label: LabelData) -> bytes:
        layout = self._layout
        head = _svg_head(layout.label_w, layout.label_h)
        return "\n".join([head, self._label(label, 0.0, 0.0), "</svg>\n"]).encode("utf-8")

    def _label(self, label: LabelData, x: float, y: float) -> str:
        g = self._layout.geometry
        matrix = label.matrix or qr_matrix(label.qr_text)
        module = g.qr_side / (matrix.size + 2 * QUIET_ZONE)
        q = QUIET_ZONE
        runs = "".join(f"M{q + c} {q + r}h{n}v1h-{n}z" for r, c, n in matrix.dark_runs())
        parts = [
            f'<g class="label" data-serial={quoteattr(label.printed_serial)}'
            f' transform="translate({_n(x)} {_n(y)})">',
            f'<path class="qr" transform="translate({_n(g.qr_x)} {_n(g.qr_y)})'
            f' scale({module:.6f})" d="{runs}" shape-rendering="crispEdges"/>',
            f'<circle class="mark-area" cx="{_n(g.mark_cx)}" cy="{_n(g.mark_cy)}"'
            f' r="{_n(g.mark_d / 2)}" fill="none" stroke="#000" stroke-width="{_n(MARK_LINE)}"/>',
        ]
        for text, face, size, dy in caption_lines(g.mark_d):
            parts.append(_svg_text(text, face, size, g.mark_cx, g.mark_cy - dy))
        lines = [
            (label.uscc, "Helvetica", g.uscc_pt, g.uscc_y),
            (label.printed_serial, "Helvetica-Bold", g.serial_pt, g.serial_y),
        ]
        if g.name_pt and label.product_name:
            face = "Helvetica" if label.product_name.isascii() else CJK_FONT
            lines.append((label.product_name, face, g.name_pt, g.name_y))
        for text, face, size_pt, baseline in lines:
            parts.append(_svg_text(text, face, size_pt * PT, g.text_cx, baseline, g.text_w))
        parts.append("</g>")
        return "\n".join(parts)


def _svg_head(width: float, height: float) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_n(width)}mm" height="{_n(height)}mm"'
        f' viewBox="0 0 {_n(width)} {_n(height)}">\n'
        '<rect width="100%" height="100%" fill="#fff"/>'
    )


def _svg_text(
    text: str, face: str, size: float, x: float, y: float, room: float | None = None
) -> str:
    """A line centred on ``x``, squeezed to ``room`` mm if wider (as the PDF squeezes it)."""
    family = SVG_SERIF_CJK if face == CJK_FONT else SVG_SANS
    extra = ' font-weight="bold"' if face.endswith("Bold") else ""
    if room is not None and pdfmetrics.stringWidth(text, face, size) > room:
        extra += f' textLength="{_n(room)}" lengthAdjust="spacingAndGlyphs"'
    return (
        f'<text x="{_n(x)}" y="{_n(y)}" font-size="{_n(size)}" font-family={quoteattr(family)}'
        f' text-anchor="middle"{extra}>{escape(text)}</text>'
    )
