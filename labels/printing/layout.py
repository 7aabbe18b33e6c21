"""Where labels sit on a sheet, and where the QR, the mark and the codes sit on a label.

All lengths are millimetres, measured from the top left corner with y growing downwards (as
on paper, in PIL and in SVG); the PDF writer flips y itself. Every writer draws from the same
:class:`LabelGeometry`, so PDF, PNG and SVG labels look alike and tests can find each label.

Layout specs (``gimark run generate --layout …``)::

    a4                                   3 × 8 labels of 60 × 32 mm on A4, with crop marks
    a4:WxH[:COLUMNS[:GAP]]               A4 with W × H mm labels, COLUMNS across (as many as
                                         fit), GAP mm between labels (3); rows as many as fit
    roll:WxH[:COLUMNS[:GAP[:MARGIN]]]    a label roll: one row a page, COLUMNS across (1),
                                         GAP mm between labels (3), MARGIN mm at the edges (2)

followed by any of ``,dpi=N`` (PNG resolution, 600), ``,qr=MM`` (side of the QR area with its
quiet zone; as large as fits) and ``,crop=on|off`` (on for A4, off for rolls, which come die-cut).
Example: ``roll:40x30:2:3:2,dpi=1200``.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Final

from gimark.labels.printing.errors import LayoutError
from gimark.labels.printing.qr import MAX_MODULES, QUIET_ZONE

__all__ = [
    "A4_3x8",
    "LabelGeometry",
    "Layout",
    "a4",
    "caption_lines",
    "fmt",
    "parse_layout",
    "roll",
]

A4_SIZE: Final = (210.0, 297.0)  # mm
PT: Final = 25.4 / 72  # mm per PostScript point
MIN_MODULE: Final = 0.25  # mm; smaller modules are beyond ordinary label printers and phones
QR_SPAN: Final = MAX_MODULES + 2 * QUIET_ZONE  # modules across the QR area of the largest symbol
MIN_MODULE_PX: Final = 2  # pixels a module in raster output, so one lost pixel cannot erase it
USCC_CHARS: Final = 18
SERIAL_CHARS: Final = 13  # XXXX-XXXX-XXX
CODE_EM: Final = 0.62  # mean advance of a credit code in Helvetica, in ems; wider ones squeeze
SERIAL_EM: Final = 0.65  # the same for a serial in Helvetica-Bold
MIN_TEXT_PT: Final = 5.0  # the credit code may not be printed smaller
MAX_USCC_PT: Final = 7.0
MAX_SERIAL_PT: Final = 8.5
CAP: Final = 0.72  # Helvetica's cap height, in ems
LINE: Final = 1.3  # baseline to baseline, in ems
MARK_GAP: Final = 0.5  # between the mark area and the credit code's capitals, in ems
DESCENT: Final = 0.25  # room kept under the last baseline, in ems
MIN_MARK: Final = 6.0  # mm; the reserved mark area is never smaller
MIN_MARGIN: Final = 8.0  # mm left free at the edges of an A4 sheet (printers cannot reach them)
CROP_OFFSET: Final = 1.0  # mm between a crop mark and the label edge it marks
CROP_LENGTH: Final = 5.0  # mm, at most
MIN_CROP_LENGTH: Final = 2.0  # mm
CROP_LINE: Final = 0.1  # mm, the width of a crop mark (a hairline)
MARK_LINE: Final = 0.2  # mm, the width of the mark area's outline
CAPTION: Final = ("地理标志", "专用标志")  # the mark placeholder's caption, in two lines


@dataclass(frozen=True)
class LabelGeometry:
    """The parts of one label, in mm from the label's top left corner (y down)."""

    qr_x: float  # mm, left of the QR area (quiet zone included)
    qr_y: float  # mm
    qr_side: float  # mm, QR area including the 4-module quiet zone
    mark_cx: float  # mm, centre of the reserved special-mark area
    mark_cy: float  # mm
    mark_d: float  # mm, its diameter
    text_cx: float  # mm, the codes are centred under the mark
    text_w: float  # mm, the widest a line of text may be
    uscc_pt: float  # pt
    uscc_y: float  # mm, baseline of the credit code, right under the mark
    serial_pt: float  # pt
    serial_y: float  # mm, baseline
    name_pt: float  # pt; 0 when the label has no room for the product name
    name_y: float  # mm, baseline


@dataclass(frozen=True)
class Layout:
    """A page of labels. The default is the A4 preset (:data:`A4_3x8`).

    Raises:
        LayoutError: when constructed with labels that do not fit the page, a QR whose modules
            would be smaller than 0.25 mm (or 2 pixels at ``dpi``), no room for the mark and
            the credit code, or crop marks without the margins to hold them.
    """

    page_w: float = 210.0  # mm
    page_h: float = 297.0  # mm
    label_w: float = 60.0  # mm
    label_h: float = 32.0  # mm
    columns: int = 3
    rows: int = 8
    gap_x: float = 3.0  # mm between columns
    gap_y: float = 3.0  # mm between rows (on a roll: between one page's row and the next)
    margin_x: float = 12.0  # mm from the left page edge to the first column
    margin_y: float = 10.0  # mm from the top page edge to the first row
    qr_mm: float | None = None  # mm, side of the QR area with its quiet zone; None: as fits
    crop_marks: bool = True
    dpi: int = 600  # dots per inch of raster (PNG) output

    def __post_init__(self) -> None:
        _check_page(self)
        _ = self.geometry  # computing it validates the label's inside
        _check_raster(self)

    @property
    def per_page(self) -> int:
        """Labels on one page."""
        return self.columns * self.rows

    @property
    def margin_right(self) -> float:
        """mm from the last column to the right page edge."""
        return self.page_w - self.margin_x - _extent(self.columns, self.label_w, self.gap_x)

    @property
    def margin_bottom(self) -> float:
        """mm from the last row to the bottom page edge."""
        return self.page_h - self.margin_y - _extent(self.rows, self.label_h, self.gap_y)

    def label_origin(self, slot: int) -> tuple[float, float]:
        """Top left corner (mm, y down) of the label in ``slot`` (0 … per_page − 1, by rows)."""
        row, column = divmod(slot, self.columns)
        return (
            self.margin_x + column * (self.label_w + self.gap_x),
            self.margin_y + row * (self.label_h + self.gap_y),
        )

    @cached_property
    def geometry(self) -> LabelGeometry:
        """Where the QR, the mark area and the text lines sit on every label."""
        return _label_geometry(self)

    def crop_marks_mm(self) -> list[tuple[float, float, float, float]]:
        """The crop marks as lines ``(x1, y1, x2, y2)`` in mm (y down); empty when off.

        Each label edge gets a mark in the page margin, in line with the edge and clear of it,
        so a guillotine can cut every label free and no mark shows on a label.
        """
        if not self.crop_marks:
            return []
        xs = _edges(self.margin_x, self.columns, self.label_w, self.gap_x)
        ys = _edges(self.margin_y, self.rows, self.label_h, self.gap_y)
        top, bottom = _mark_span(self.margin_y), _mark_span(self.margin_bottom)
        left, right = _mark_span(self.margin_x), _mark_span(self.margin_right)
        lines = [(x, top[0], x, top[1]) for x in xs]
        lines += [(x, self.page_h - bottom[0], x, self.page_h - bottom[1]) for x in xs]
        lines += [(left[0], y, left[1], y) for y in ys]
        lines += [(self.page_w - right[0], y, self.page_w - right[1], y) for y in ys]
        return lines


def a4(label_w: float, label_h: float, columns: int | None = None, gap: float = 3.0) -> Layout:
    """A4 sheets of ``label_w`` × ``label_h`` mm labels, centred, with crop marks.

    ``columns`` defaults to as many as fit inside 8 mm margins; rows are always as many as fit.

    Raises:
        LayoutError: not even one label fits, or the label cannot hold its parts.
    """
    page_w, page_h = A4_SIZE
    fit_columns = _fit(page_w, label_w, gap)
    columns = fit_columns if columns is None else columns
    rows = _fit(page_h, label_h, gap)
    if rows < 1 or fit_columns < 1:
        raise _error(
            f"a {label_w} × {label_h} mm label does not fit on A4 inside {MIN_MARGIN} mm margins",
            f"{label_w} × {label_h} 毫米的标签放不进留 {MIN_MARGIN} 毫米边距的 A4 纸",
        )
    return Layout(
        page_w=page_w,
        page_h=page_h,
        label_w=label_w,
        label_h=label_h,
        columns=columns,
        rows=rows,
        gap_x=gap,
        gap_y=gap,
        margin_x=(page_w - _extent(columns, label_w, gap)) / 2,
        margin_y=(page_h - _extent(rows, label_h, gap)) / 2,
    )


def roll(
    label_w: float, label_h: float, columns: int = 1, gap: float = 3.0, margin: float = 2.0
) -> Layout:
    """A label roll: each page is one row of ``columns`` labels plus the gap to the next row.

    The page is exactly as wide as the roll (labels, gaps and a ``margin`` at each edge) and
    one label pitch long, half the gap above and half below, as roll printers step it.

    Raises:
        LayoutError: the sizes are not positive or the label cannot hold its parts.
    """
    return Layout(
        page_w=2 * margin + _extent(columns, label_w, gap),
        page_h=label_h + gap,
        label_w=label_w,
        label_h=label_h,
        columns=columns,
        rows=1,
        gap_x=gap,
        gap_y=gap,
        margin_x=margin,
        margin_y=gap / 2,
        crop_marks=False,
    )


def caption_lines(diameter: float) -> list[tuple[str, str, float, float]]:
    """The placeholder's caption in a mark area of ``diameter`` (any unit; results in the same).

    Returns ``(text, font face, size, baseline above the centre)`` for each line: "GI", then
    地理标志 / 专用标志, which fit inside the circle.
    """
    return [
        ("GI", "Helvetica-Bold", 0.24 * diameter, 0.08 * diameter),
        (CAPTION[0], "STSong-Light", 0.13 * diameter, -0.12 * diameter),
        (CAPTION[1], "STSong-Light", 0.13 * diameter, -0.29 * diameter),
    ]


def fmt(value: float) -> str:
    """A length as PDF and SVG files write it: 3 decimals at most (1 µm), no trailing zeros."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


_NUMBER = r"\d+(?:\.\d+)?"
_SPEC = re.compile(
    rf"(?P<kind>a4|roll)(?::(?P<w>{_NUMBER})x(?P<h>{_NUMBER})"
    rf"(?P<rest>(?::{_NUMBER})*))?(?P<options>(?:,[a-z]+=[a-z0-9.]+)*)"
)


def parse_layout(spec: str) -> Layout:
    """The layout a spec such as ``a4`` or ``roll:40x30:2:3:2,dpi=600`` names (module docs).

    Raises:
        LayoutError: the spec does not follow the syntax, or names a layout that cannot work.
    """
    match = _SPEC.fullmatch(spec.strip().lower())
    if match is None:
        raise _bad_spec(spec)
    layout = _base_layout(spec, match)
    return _apply_options(spec, layout, match["options"])


def _base_layout(spec: str, match: re.Match[str]) -> Layout:
    if match["w"] is None:
        if match["kind"] == "roll":
            raise _bad_spec(spec)  # a roll has no default label size
        return A4_3x8
    size = float(match["w"]), float(match["h"])
    rest = [float(part) for part in match["rest"].split(":")[1:]]
    if match["kind"] == "a4":
        if len(rest) > 2:
            raise _bad_spec(spec)
        columns = _whole(spec, rest[0]) if rest else None
        return a4(*size, columns, *rest[1:])
    if len(rest) > 3:
        raise _bad_spec(spec)
    return roll(*size, _whole(spec, rest[0]) if rest else 1, *rest[1:])


def _apply_options(spec: str, layout: Layout, options: str) -> Layout:
    dpi, qr_mm, crop_marks = layout.dpi, layout.qr_mm, layout.crop_marks
    for option in filter(None, options.split(",")):
        key, value = option.split("=")
        if key == "dpi" and value.isdigit():
            dpi = int(value)
        elif key == "qr" and re.fullmatch(_NUMBER, value):
            qr_mm = float(value)
        elif key == "crop" and value in ("on", "off"):
            crop_marks = value == "on"
        else:
            raise _bad_spec(spec)
    return dataclasses.replace(layout, dpi=dpi, qr_mm=qr_mm, crop_marks=crop_marks)


def _whole(spec: str, value: float) -> int:
    if value != int(value):
        raise _bad_spec(spec)
    return int(value)


def _bad_spec(spec: str) -> LayoutError:
    return _error(
        f"{spec!r} is not a layout; write a4, a4:WxH[:COLUMNS[:GAP]] or"
        " roll:WxH[:COLUMNS[:GAP[:MARGIN]]], then any of ,dpi=N ,qr=MM ,crop=on|off",
        f"{spec!r} 不是有效的版式；应写作 a4、a4:宽x高[:列数[:间距]] 或"
        " roll:宽x高[:列数[:间距[:边距]]]，其后可加 ,dpi=N ,qr=毫米 ,crop=on|off",
    )


def _extent(count: int, size: float, gap: float) -> float:
    return count * size + (count - 1) * gap


def _fit(page: float, size: float, gap: float) -> int:
    return max(0, math.floor((page - 2 * MIN_MARGIN + gap) / (size + gap) + 1e-9))


def _edges(start: float, count: int, size: float, gap: float) -> list[float]:
    """The cut lines along one axis: both edges of every label, in mm from the page edge."""
    firsts = [start + i * (size + gap) for i in range(count)]
    return sorted({edge for first in firsts for edge in (first, first + size)})


def _mark_span(margin: float) -> tuple[float, float]:
    """From-edge distances (outer end, inner end) of crop marks in a margin of ``margin`` mm."""
    inner = margin - CROP_OFFSET
    return max(0.0, inner - CROP_LENGTH), inner


def _check_page(layout: Layout) -> None:
    sizes = (layout.label_w, layout.label_h, layout.page_w, layout.page_h)
    if min(sizes) <= 0 or min(layout.columns, layout.rows) < 1:
        raise _error("sizes and counts must be positive", "尺寸和数量必须为正数")
    if min(layout.gap_x, layout.gap_y, layout.margin_x, layout.margin_y) < 0:
        raise _error("gaps and margins cannot be negative", "间距和边距不能为负数")
    if min(layout.margin_right, layout.margin_bottom) < -1e-6:
        raise _error(
            f"{layout.columns} × {layout.rows} labels of {layout.label_w} × {layout.label_h} mm"
            f" do not fit a {layout.page_w} × {layout.page_h} mm page",
            f"{layout.columns} × {layout.rows} 个 {layout.label_w} × {layout.label_h} 毫米的标签"
            f"放不进 {layout.page_w} × {layout.page_h} 毫米的页面",
        )
    margins = (layout.margin_x, layout.margin_y, layout.margin_right, layout.margin_bottom)
    if layout.crop_marks and min(margins) < CROP_OFFSET + MIN_CROP_LENGTH:
        need = CROP_OFFSET + MIN_CROP_LENGTH
        raise _error(
            f"crop marks need margins of at least {need} mm (turn them off with crop=off)",
            f"裁切标记需要至少 {need} 毫米的页边距（可用 crop=off 关闭）",
        )


def _check_raster(layout: Layout) -> None:
    module_px = layout.geometry.qr_side / QR_SPAN / 25.4 * layout.dpi
    if layout.dpi > 4800 or module_px < MIN_MODULE_PX:
        raise _error(
            f"{layout.dpi} dpi gives QR modules of {module_px:.1f} pixels; raster output needs"
            f" at least {MIN_MODULE_PX} pixels a module and at most 4800 dpi",
            f"{layout.dpi} dpi 时二维码模块只有 {module_px:.1f} 像素；位图输出每个模块至少需要"
            f" {MIN_MODULE_PX} 像素，且分辨率不超过 4800 dpi",
        )


def _label_geometry(layout: Layout) -> LabelGeometry:
    w, h = layout.label_w, layout.label_h
    pad = min(max(0.06 * min(w, h), 1.0), 2.5)
    min_text_w = USCC_CHARS * CODE_EM * MIN_TEXT_PT * PT
    qr = layout.qr_mm
    if qr is None:
        qr = min(h - 2 * pad, w / 2, w - 3 * pad - min_text_w)
        if qr < QR_SPAN * MIN_MODULE:
            least = QR_SPAN * MIN_MODULE
            raise _error(
                f"a {w} × {h} mm label has no room for a QR area of {least:.2f} mm (modules of"
                f" {MIN_MODULE} mm) with the mark and the credit code beside it",
                f"{w} × {h} 毫米的标签放不下 {least:.2f} 毫米的二维码区域（模块 {MIN_MODULE}"
                " 毫米）及其旁边的标志和统一社会信用代码",
            )
    _check_qr(qr, height=h - 2 * pad, text_w=w - 3 * pad - qr, min_text_w=min_text_w)
    text_x = 2 * pad + qr
    text_w = w - pad - text_x
    uscc_pt = min(MAX_USCC_PT, text_w / (USCC_CHARS * CODE_EM * PT))
    serial_pt = min(MAX_SERIAL_PT, text_w / (SERIAL_CHARS * SERIAL_EM * PT))
    gap = MARK_GAP * uscc_pt * PT
    lines = [gap + CAP * uscc_pt * PT, LINE * serial_pt * PT, LINE * uscc_pt * PT]
    descent = DESCENT * uscc_pt * PT
    # The mark area is never wider than the QR: the QR is what must be large.
    mark = min(text_w, qr, h - 2 * pad - sum(lines) - descent)
    if mark < MIN_MARK:  # drop the product name before shrinking the mark further
        lines.pop()
        mark = min(text_w, qr, h - 2 * pad - sum(lines) - descent)
    if mark < MIN_MARK:
        raise _error(
            f"a {w} × {h} mm label has no room for a {MIN_MARK} mm mark area above the codes",
            f"{w} × {h} 毫米的标签放不下 {MIN_MARK} 毫米的标志区域及其下方的代码",
        )
    top = (h - mark - sum(lines) - descent) / 2
    baselines = [top + mark + sum(lines[: i + 1]) for i in range(len(lines))]
    return LabelGeometry(
        qr_x=pad,
        qr_y=(h - qr) / 2,
        qr_side=qr,
        mark_cx=text_x + text_w / 2,
        mark_cy=top + mark / 2,
        mark_d=mark,
        text_cx=text_x + text_w / 2,
        text_w=text_w,
        uscc_pt=uscc_pt,
        uscc_y=baselines[0],
        serial_pt=serial_pt,
        serial_y=baselines[1],
        name_pt=uscc_pt if len(lines) == 3 else 0.0,
        name_y=baselines[2] if len(lines) == 3 else 0.0,
    )


def _check_qr(side: float, *, height: float, text_w: float, min_text_w: float) -> None:
    """Refuse a QR area with modules too small, taller than the label, or crowding the text."""
    if side / QR_SPAN < MIN_MODULE:
        raise _error(
            f"a {side:.1f} mm QR area gives modules of {side / QR_SPAN:.2f} mm; at least"
            f" {MIN_MODULE} mm are needed ({QR_SPAN * MIN_MODULE:.2f} mm for the area)",
            f"{side:.1f} 毫米的二维码区域使模块只有 {side / QR_SPAN:.2f} 毫米；至少需要"
            f" {MIN_MODULE} 毫米（区域至少 {QR_SPAN * MIN_MODULE:.2f} 毫米）",
        )
    if side > height + 1e-9:
        raise _error(
            f"a {side:.1f} mm QR area does not fit the label's {height:.1f} mm height inside"
            " its padding",
            f"{side:.1f} 毫米的二维码区域超出标签留白内 {height:.1f} 毫米的高度",
        )
    if text_w < min_text_w - 1e-9:
        raise _error(
            f"with a {side:.1f} mm QR area the label has no room for the credit code at"
            f" {MIN_TEXT_PT} pt beside it",
            f"二维码区域为 {side:.1f} 毫米时，标签旁边放不下 {MIN_TEXT_PT} 磅的统一社会信用代码",
        )


def _error(detail: str, detail_zh: str) -> LayoutError:
    return LayoutError(detail=detail, detail_zh=detail_zh)


# Built last: a4() needs the helpers above.
A4_3x8: Final = a4(60.0, 32.0)  # 3 columns × 8 rows of 60 × 32 mm, 12 / 10 mm margins
