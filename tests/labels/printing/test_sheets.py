"""Print files: every QR on every sheet reads back, output is stable, failures leave nothing.

PDFs are rasterized by poppler's ``pdftoppm`` at 300 dpi and every label is cut out of the page
by the layout's own geometry, then read by zxing-cpp, as a printer's inspection camera would.
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import zxingcpp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image

from gimark.keys.ids import key_id_for
from gimark.labels.issuing.codes import encode_url, sign_codes
from gimark.labels.issuing.serials import format_serial
from gimark.labels.printing.errors import LayoutError
from gimark.labels.printing.layout import A4_3x8, Layout, a4, parse_layout, roll
from gimark.labels.printing.qr import QUIET_ZONE
from gimark.labels.printing.sheets import LabelData, write_pdf, write_png, write_svg

BASE_30 = "HTTPS://LABELS.GI.EXAMPLE.CN/V"  # makes the 151-character QR texts of the brief
USCC = "91350100M000100Y43"
DPI = 300
ROLL = "roll:40x30:2:3:2"
SVG = "{http://www.w3.org/2000/svg}"


class KeySigner:
    """A CodeSigner over an in-memory key."""

    def __init__(self) -> None:
        self._key = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
        self._key_id = key_id_for(self._key.public_key())

    @property
    def key_id(self) -> bytes:
        return self._key_id

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)


def make_labels(count: int, first: int = 1000) -> list[LabelData]:
    codes = sign_codes(KeySigner(), range(first, first + count))
    names = ["Longjing Tea", "西湖龙井", ""]
    return [
        LabelData(encode_url(code, BASE_30), format_serial(code.serial), USCC, names[i % 3])
        for i, code in enumerate(codes)
    ]


LABELS = make_labels(30)  # an A4 sheet and a quarter


# --- reading labels back ---------------------------------------------------------------


def rasterize(pdf: Path, out: Path) -> list[Image.Image]:
    subprocess.run(
        ["pdftoppm", "-r", str(DPI), "-gray", "-png", str(pdf), str(out / "page")], check=True
    )
    return [Image.open(page) for page in sorted(out.glob("page-*.png"))]


def label_box(layout: Layout, slot: int, dpi: int) -> tuple[int, int, int, int]:
    """The label's pixels on a page image, one pixel more on each side for rounding."""
    x, y = layout.label_origin(slot)
    scale = dpi / 25.4
    return (
        max(0, math.floor(x * scale) - 1),
        max(0, math.floor(y * scale) - 1),
        math.ceil((x + layout.label_w) * scale) + 1,
        math.ceil((y + layout.label_h) * scale) + 1,
    )


def read_qr(image: Image.Image) -> str | None:
    result = zxingcpp.read_barcode(image.convert("L"), formats=zxingcpp.BarcodeFormat.QRCode)
    return None if result is None else result.text


def read_pages(pages: list[Image.Image], layout: Layout, dpi: int) -> list[str | None]:
    """The QR text of every label slot holding a label, page by page."""
    texts = []
    for page in pages:
        for slot in range(layout.per_page):
            crop = page.crop(label_box(layout, slot, dpi))
            if crop.convert("L").getextrema() == (255, 255):
                continue  # an empty slot on the last page
            texts.append(read_qr(crop))
    return texts


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --- PDF -------------------------------------------------------------------------------


def test_every_qr_of_an_a4_pdf_reads_back(tmp_path: Path) -> None:
    pdf = tmp_path / "run.pdf"
    assert write_pdf(iter(LABELS), pdf, A4_3x8) == 30

    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    assert info.stderr == ""  # poppler found nothing to repair
    assert re.search(r"Pages:\s+2\n", info.stdout)
    assert re.search(r"Page size:\s+595\.276 x 841\.89 pts \(A4\)", info.stdout)

    pages = rasterize(pdf, tmp_path)
    assert read_pages(pages, A4_3x8, DPI) == [label.qr_text for label in LABELS]


def test_the_pdf_prints_each_credit_code_and_serial(tmp_path: Path) -> None:
    write_pdf(LABELS[:3], tmp_path / "run.pdf", A4_3x8)
    text = subprocess.run(
        ["pdftotext", "-layout", str(tmp_path / "run.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert text.count(USCC) == 3
    for label in LABELS[:3]:
        assert label.printed_serial in text
    assert "Longjing Tea" in text


def test_every_qr_of_a_roll_pdf_reads_back(tmp_path: Path) -> None:
    layout = parse_layout(ROLL)
    pdf = tmp_path / "roll.pdf"
    assert write_pdf(LABELS[:5], pdf, layout) == 5

    pages = rasterize(pdf, tmp_path)
    assert len(pages) == 3  # two labels across, one row a page
    assert pages[0].size == (round(87 * DPI / 25.4), round(33 * DPI / 25.4))
    assert read_pages(pages, layout, DPI) == [label.qr_text for label in LABELS[:5]]


def test_each_qr_is_a_one_bit_image_that_is_not_interpolated(tmp_path: Path) -> None:
    write_pdf(LABELS, tmp_path / "run.pdf", A4_3x8)
    data = (tmp_path / "run.pdf").read_bytes()
    streams = list(re.finditer(rb"/FlateDecode /Length (\d+) >>\nstream\n", data))
    assert len(streams) == 2 + 2  # the mark placeholder, the crop marks, two pages
    content = b"".join(zlib.decompress(data[m.end() : m.end() + int(m[1])]) for m in streams)
    images = re.findall(rb"BI (.*?) ID\n", content)
    assert images == [b"/W 41 /H 41 /BPC 1 /CS /G /F /AHx"] * len(LABELS)  # no /I true
    assert b"/Interpolate" not in data


def test_the_pdf_is_written_as_the_labels_come(tmp_path: Path) -> None:
    seen: list[int] = []

    def labels() -> Iterator[LabelData]:
        for i, label in enumerate(make_labels(24 * 6)):
            if i == 24 * 5:  # five pages in: they must be on disk already
                seen.extend(p.stat().st_size for p in tmp_path.glob(".run.pdf.*.partial"))
            yield label

    write_pdf(labels(), tmp_path / "run.pdf", A4_3x8)
    assert len(seen) == 1 and seen[0] > 4 * 24 * 200  # more than four pages' worth of bytes


def test_the_same_labels_give_the_same_pdf(tmp_path: Path) -> None:
    write_pdf(LABELS, tmp_path / "a.pdf", A4_3x8)
    write_pdf(LABELS, tmp_path / "b.pdf", A4_3x8)
    assert (tmp_path / "a.pdf").read_bytes() == (tmp_path / "b.pdf").read_bytes()


def test_an_interrupted_pdf_leaves_no_file(tmp_path: Path) -> None:
    def failing() -> Iterator[LabelData]:
        yield from LABELS
        raise RuntimeError("the signing key went away")

    with pytest.raises(RuntimeError, match="signing key"):
        write_pdf(failing(), tmp_path / "run.pdf", A4_3x8)
    assert files_in(tmp_path) == []


def test_a_pdf_needs_labels(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no labels"):
        write_pdf([], tmp_path / "run.pdf", A4_3x8)
    assert files_in(tmp_path) == []
    assert write_svg([], tmp_path, A4_3x8) == []


def test_text_is_escaped_and_non_latin_text_uses_the_chinese_font(tmp_path: Path) -> None:
    label = LabelData(LABELS[0].qr_text, r"A(B)\C", USCC, "Tea (green) 西湖龙井")
    write_pdf([label], tmp_path / "run.pdf", A4_3x8)
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "run.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert r"A(B)\C" in text
    if shutil.which("pdffonts"):  # the fonts are named, none embedded: every reader has them
        fonts = subprocess.run(
            ["pdffonts", str(tmp_path / "run.pdf")], capture_output=True, text=True, check=True
        ).stdout
        assert {"Helvetica", "Helvetica-Bold", "STSong-Light-UniGB-UCS2-H"} <= {
            line.split()[0] for line in fonts.splitlines()[2:]
        }


def test_a_qr_text_too_long_stops_the_run_and_leaves_no_file(tmp_path: Path) -> None:
    bad = LabelData("HTTPS://" + "A" * 300, "X", USCC)
    with pytest.raises(LayoutError, match="version 6"):
        write_pdf([*LABELS[:3], bad], tmp_path / "run.pdf", A4_3x8)
    assert files_in(tmp_path) == []


# --- PNG -------------------------------------------------------------------------------


def test_every_qr_of_png_sheets_reads_back(tmp_path: Path) -> None:
    layout = parse_layout(f"a4,dpi={DPI}")
    paths = write_png(LABELS, tmp_path, layout)
    assert [p.name for p in paths] == ["sheet-000001.png", "sheet-000002.png"]

    pages = [Image.open(path) for path in paths]
    assert pages[0].mode == "1" and pages[0].size == (2480, 3508)
    assert pages[0].info["dpi"] == pytest.approx((DPI, DPI), abs=0.01)
    assert read_pages(pages, layout, DPI) == [label.qr_text for label in LABELS]


def test_every_qr_of_png_labels_reads_back_on_a_roll(tmp_path: Path) -> None:
    layout = parse_layout(f"{ROLL},dpi={DPI}")
    paths = write_png(LABELS[:3], tmp_path, layout, per="label")
    assert files_in(tmp_path) == ["label-00000001.png", "label-00000002.png", "label-00000003.png"]
    for path, label in zip(paths, LABELS[:3], strict=True):
        image = Image.open(path)
        assert image.size == (round(40 * DPI / 25.4), round(30 * DPI / 25.4))
        assert read_qr(image) == label.qr_text

    sheets = write_png(LABELS[:3], tmp_path / "sheets", layout)
    pages = [Image.open(path) for path in sheets]
    assert read_pages(pages, layout, DPI) == [label.qr_text for label in LABELS[:3]]


def test_the_same_labels_give_the_same_png(tmp_path: Path) -> None:
    layout = parse_layout("a4,dpi=150,qr=25")
    (first,) = write_png(LABELS[:5], tmp_path / "a", layout)
    (second,) = write_png(LABELS[:5], tmp_path / "b", layout)
    assert first.read_bytes() == second.read_bytes()


def test_an_interrupted_png_run_leaves_no_file(tmp_path: Path) -> None:
    def failing() -> Iterator[LabelData]:
        yield from LABELS  # more than a sheet: one file is finished before the failure
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        write_png(failing(), tmp_path, parse_layout("a4,dpi=150,qr=25"))
    assert files_in(tmp_path) == []


# --- SVG -------------------------------------------------------------------------------


def parse_svg(path: Path) -> ET.Element:
    """The root element; raises unless the file is well-formed XML."""
    return ET.parse(path).getroot()  # noqa: S314 -- our own output, not untrusted input


def svg_qr_image(group: ET.Element, scale: int = 6) -> Image.Image:
    """Paint the QR path of a label group: its runs are ``M x y h n v1 h-n z`` in modules."""
    path = group.find(f"{SVG}path[@class='qr']")
    assert path is not None
    runs = [tuple(map(int, m)) for m in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\3z", path.get("d", ""))]
    side = max(x + n for x, _, n in runs) + QUIET_ZONE
    image = Image.new("L", (side * scale, side * scale), 255)
    for x, y, n in runs:
        image.paste(0, (x * scale, y * scale, (x + n) * scale, (y + 1) * scale))
    return image


def test_svg_sheets_hold_every_label_and_its_qr(tmp_path: Path) -> None:
    paths = write_svg(LABELS, tmp_path, A4_3x8)
    assert [p.name for p in paths] == ["sheet-000001.svg", "sheet-000002.svg"]

    groups = []
    for path in paths:
        root = parse_svg(path)
        assert (root.get("width"), root.get("height")) == ("210mm", "297mm")
        assert root.find(f"{SVG}path[@class='crop-marks']") is not None
        groups.append(root.findall(f"{SVG}g[@class='label']"))
    assert [len(g) for g in groups] == [24, 6]

    for group, label in zip(groups[0] + groups[1], LABELS, strict=True):
        assert group.get("data-serial") == label.printed_serial
        texts = [t.text for t in group.iter(f"{SVG}text")]
        assert {"GI", "地理标志", "专用标志", USCC, label.printed_serial} <= set(texts)
        assert read_qr(svg_qr_image(group)) == label.qr_text


def test_svg_labels_on_a_roll(tmp_path: Path) -> None:
    paths = write_svg(LABELS[:2], tmp_path, parse_layout(ROLL), per="label")
    for path, label in zip(paths, LABELS[:2], strict=True):
        root = parse_svg(path)
        assert (root.get("width"), root.get("height")) == ("40mm", "30mm")
        (group,) = root.findall(f"{SVG}g[@class='label']")
        assert read_qr(svg_qr_image(group)) == label.qr_text


def test_the_same_labels_give_the_same_svg(tmp_path: Path) -> None:
    (first,) = write_svg(LABELS[:5], tmp_path / "a", A4_3x8)
    (second,) = write_svg(LABELS[:5], tmp_path / "b", A4_3x8)
    assert first.read_bytes() == second.read_bytes()


def test_an_interrupted_svg_run_leaves_no_file(tmp_path: Path) -> None:
    def failing() -> Iterator[LabelData]:
        yield from LABELS[:3]
        raise RuntimeError("stopped")

    with pytest.raises(RuntimeError, match="stopped"):
        write_svg(failing(), tmp_path, A4_3x8, per="label")
    assert files_in(tmp_path) == []


@pytest.mark.skipif(shutil.which("rsvg-convert") is None, reason="no SVG rasterizer (rsvg-convert)")
def test_a_rasterized_svg_sheet_reads_back(tmp_path: Path) -> None:
    (path,) = write_svg(LABELS[:24], tmp_path, A4_3x8)
    png = tmp_path / "sheet.png"
    subprocess.run(
        ["rsvg-convert", "--dpi-x", str(DPI), "--dpi-y", str(DPI), "-o", str(png), str(path)],
        check=True,
    )
    pages = [Image.open(png)]
    assert read_pages(pages, A4_3x8, DPI) == [label.qr_text for label in LABELS[:24]]


# --- layouts ---------------------------------------------------------------------------


def test_the_a4_preset() -> None:
    assert parse_layout("a4") == A4_3x8 == Layout() == a4(60, 32)
    assert (A4_3x8.columns, A4_3x8.rows, A4_3x8.per_page) == (3, 8, 24)
    assert (A4_3x8.margin_x, A4_3x8.margin_y) == (12, 10)
    assert A4_3x8.margin_right == pytest.approx(12) and A4_3x8.margin_bottom == pytest.approx(10)


def test_roll_specs() -> None:
    layout = parse_layout(ROLL)
    assert layout == roll(40, 30, columns=2, gap=3, margin=2)
    assert (layout.page_w, layout.page_h, layout.rows, layout.crop_marks) == (87, 33, 1, False)
    assert parse_layout("roll:40x30") == roll(40, 30)
    assert parse_layout("ROLL:40x30:1:2.5,dpi=1200").dpi == 1200


def test_a4_specs_and_options() -> None:
    layout = parse_layout("a4:50x25:2:5,qr=20,crop=off,dpi=300")
    assert (layout.label_w, layout.label_h, layout.columns, layout.gap_x) == (50, 25, 2, 5)
    assert layout.rows == 9  # as many as fit inside 8 mm margins
    assert (layout.qr_mm, layout.crop_marks, layout.dpi) == (20, False, 300)


@pytest.mark.parametrize(
    "spec",
    ["a5", "roll", "a4:40", "roll:40x30:1.5", "roll:40x30:1:2:3:4", "a4,dpi=high", "a4,tint=1"],
)
def test_malformed_specs_are_refused(spec: str) -> None:
    with pytest.raises(LayoutError, match="is not a layout"):
        parse_layout(spec)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("a4:300x30", "does not fit on A4"),
        ("a4,qr=10", "0.25 mm"),
        ("a4,qr=30", "height"),
        ("roll:40x30,qr=20", "credit code"),
        ("roll:40x30,crop=on", "crop marks need margins"),
        ("roll:40x30,dpi=100", "pixels a module"),
        ("roll:80x15,qr=12.5", "mark area"),
        ("roll:30x40", "no room for a QR area"),
    ],
)
def test_layouts_that_cannot_print_are_refused(spec: str, message: str) -> None:
    with pytest.raises(LayoutError, match=message) as info:
        parse_layout(spec)
    assert info.value.code == "layout"


def test_labels_must_fit_the_page() -> None:
    with pytest.raises(LayoutError, match="do not fit"):
        Layout(columns=4)
    with pytest.raises(LayoutError, match="positive"):
        Layout(columns=0)


@pytest.mark.parametrize("spec", ["a4", ROLL, "a4:70x40:2", "roll:100x50:1:3:3,qr=40"])
def test_every_part_of_a_label_sits_where_it_should(spec: str) -> None:
    layout = parse_layout(spec)
    g = layout.geometry
    for slot in range(layout.per_page):
        x, y = layout.label_origin(slot)
        assert x >= 0 and x + layout.label_w <= layout.page_w + 1e-9
        assert y >= 0 and y + layout.label_h <= layout.page_h + 1e-9
    assert g.qr_x >= 0 and g.qr_y >= 0
    assert g.qr_x + g.qr_side <= layout.label_w and g.qr_y + g.qr_side <= layout.label_h
    assert g.qr_side / (41 + 2 * QUIET_ZONE) >= 0.25
    # The credit code sits right under the mark area, centred on it, left clear of the QR.
    assert g.text_cx == g.mark_cx
    mark_bottom = g.mark_cy + g.mark_d / 2
    assert mark_bottom < g.uscc_y - g.uscc_pt * 0.3528 * 0.72 < mark_bottom + 1.5
    assert g.uscc_y < g.serial_y and g.mark_cy - g.mark_d / 2 >= 0
    assert g.text_cx - g.text_w / 2 > g.qr_x + g.qr_side
    last = g.name_y if g.name_pt else g.serial_y
    assert last < layout.label_h


def test_crop_marks_stay_in_the_margins() -> None:
    marks = A4_3x8.crop_marks_mm()
    assert len(marks) == 2 * 6 + 2 * 16  # both edges of 3 columns and 8 rows, on two sides
    for x1, y1, x2, y2 in marks:
        in_side_margin = max(x1, x2) <= A4_3x8.margin_x - 1 or min(x1, x2) >= 210 - 12 + 1
        in_top_bottom = max(y1, y2) <= A4_3x8.margin_y - 1 or min(y1, y2) >= 297 - 10 + 1
        assert in_side_margin or in_top_bottom
    assert roll(40, 30).crop_marks_mm() == []
