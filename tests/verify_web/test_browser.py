"""The pages in a real browser: headless Chromium, driven by Playwright, against ``gimark serve``.

A printed label is read the way a phone reads it: the run's PDF is rasterized at 300 dpi, the
QR codes are decoded from the picture, and the decoded URL is opened. For that URL to reach
the server, the server listens where the QR's base URL points (``settings`` below).

Debian's ``chromium`` is used (Playwright's own browser download cannot run here). Without it
the module skips outside CI; in CI (CI=true) a missing browser fails the run.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest
import zxingcpp
from PIL import Image, ImageDraw
from sqlalchemy import select
from support.pgcluster import free_port

from gimark.core.db import Database
from gimark.core.settings import Settings

if TYPE_CHECKING:
    from playwright.sync_api import (
        Browser,
        BrowserContext,
        FilePayload,
        Locator,
        Page,
        ViewportSize,
    )

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # containers and CI runners give no user namespaces to sandbox with
    "--disable-gpu",
    "--disable-background-networking",  # nothing may leave the machine during tests
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PHONE: ViewportSize = {"width": 390, "height": 844}  # CSS pixels of a common phone
SERVER_START = 30.0  # seconds for gunicorn to answer its first request
ACTION_TIMEOUT = 10_000  # milliseconds for any one browser action
SQLITE = pytest.mark.parametrize("db", ["sqlite"], indirect=True)
POSTGRES = pytest.mark.parametrize("db", ["postgresql"], indirect=True)


def missing(what: str) -> NoReturn:
    """Skip the browser tests for want of ``what``; in CI, fail instead."""
    reason = f"the browser tests need {what}"
    if IN_CI:
        pytest.fail(reason)
    pytest.skip(reason)


# --- the browser -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the module."""
    if not CHROMIUM.exists():
        missing(f"Debian's chromium at {CHROMIUM} (.ci/run installs it)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("Playwright for Python (make dev installs it)")

    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()
    finally:
        playwright.stop()


@pytest.fixture
def browse(browser: Browser) -> Iterator[Callable[..., BrowserContext]]:
    """``browse(locale="zh-CN", **options)``: a fresh browser profile at phone size."""
    contexts: list[BrowserContext] = []

    def open_context(locale: str = "zh-CN", **options: Any) -> BrowserContext:
        context = browser.new_context(
            locale=locale, viewport=PHONE, is_mobile=True, has_touch=True, **options
        )
        context.set_default_timeout(ACTION_TIMEOUT)
        contexts.append(context)
        return context

    yield open_context
    for context in contexts:
        context.close()


def open_page(context: BrowserContext, url: str) -> Page:
    page = context.new_page()
    response = page.goto(url)
    assert response is not None and response.ok, f"{url}: {response and response.status}"
    return page


# --- the server ------------------------------------------------------------------------------


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def settings(settings: Settings, port: int) -> Settings:
    """The shared settings, with QR URLs pointing at this test's server."""
    return settings.with_overrides(base_url=f"HTTP://127.0.0.1:{port}/V")


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own server
            return bool(response.status == 200)
    except OSError:
        return False


@pytest.fixture
def server(
    settings: Settings,
    port: int,
    world: Any,
    tmp_path: Path,
    env_of: Callable[[Settings], dict[str, str]],
) -> Iterator[str]:
    """``gimark serve`` (gunicorn, one worker) on the port of the QR base URL; its origin."""
    gimark = Path(sys.executable).with_name("gimark")
    log_path = tmp_path / "gunicorn.log"
    origin = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(gimark), "serve", "--port", str(port), "--workers", "1"],
            # The machine's environment without its own GIMARK_* settings, then the test's.
            env={k: v for k, v in os.environ.items() if not k.startswith("GIMARK_")}
            | env_of(settings),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + SERVER_START
        while not _answers(f"{origin}/healthz"):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"gimark serve did not start:\n{log_path.read_text(errors='replace')}")
            time.sleep(0.1)
        yield origin
    finally:
        process.send_signal(signal.SIGTERM)  # gunicorn's graceful shutdown
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- printed labels --------------------------------------------------------------------------


def manifest(settings: Settings, batch_id: int) -> dict[str, str]:
    """The run's QR texts and, for each, its printed serial."""
    path = settings.home / "runs" / str(batch_id) / "manifest.csv"
    with path.open(encoding="utf-8", newline="") as rows:
        return {row["qr_text"]: row["printed_serial"] for row in csv.DictReader(rows)}


def decode_sheet(pdf: Path, tmp_path: Path) -> list[str]:
    """The QR texts on page 1 of a sheet PDF, as a phone camera would read the print."""
    if shutil.which("pdftoppm") is None:
        missing("pdftoppm (poppler-utils)")
    prefix = tmp_path / "sheet"
    subprocess.run(
        ["pdftoppm", "-r", "300", "-png", "-f", "1", "-l", "1", "-singlefile", str(pdf), prefix],
        check=True,
        capture_output=True,
    )
    with Image.open(prefix.with_suffix(".png")) as image:
        return [found.text for found in zxingcpp.read_barcodes(image)]


@pytest.fixture
def printed_urls(
    settings: Settings, world: Any, live_codes: list[str], tmp_path: Path
) -> list[str]:
    """URLs decoded from page 1 of the delivered batch's printed sheets."""
    urls = decode_sheet(settings.home / "runs" / str(world.mine) / "sheets.pdf", tmp_path)
    assert len(urls) >= 2, "too few QR codes decoded from the printed sheet"
    assert set(urls) <= set(live_codes), "a decoded URL is not in the run's manifest"
    return sorted(urls)


def small_png() -> bytes:
    image = Image.new("RGB", (64, 48), "white")
    ImageDraw.Draw(image).rectangle((8, 8, 56, 40), outline="red", width=3)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def scans_of(db: Database) -> list[Any]:
    from gimark.labels.scanning.models import ScanRecord

    with db.session() as s:
        return list(s.scalars(select(ScanRecord).order_by(ScanRecord.id)))


def reports_of(db: Database) -> list[Any]:
    from gimark.verify_web.reports.models import Report

    with db.session() as s:
        return list(s.scalars(select(Report).order_by(Report.id)))


# --- the page, as a reader uses it ------------------------------------------------------------


def verdict_of(page: Page) -> str:
    return page.locator("#verdict").inner_text().strip()


def report_form(page: Page) -> Locator:
    return page.locator("form:has(#report-text)")


def send_report(page: Page, text: str, photo: bytes | None = None) -> None:
    """Fill and send the page's report form (opened first: it sits in a <details>)."""
    details = page.locator("details.report")
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    page.fill("#report-text", text)
    if photo is not None:
        upload: FilePayload = {"name": "label.png", "mimeType": "image/png", "buffer": photo}
        page.set_input_files("#report-photo", files=[upload])
    with page.expect_navigation():
        report_form(page).locator("button[type=submit]").click()


# --- the tests -------------------------------------------------------------------------------


@SQLITE
def test_every_label_on_a_printed_sheet_decodes_to_a_url_of_this_server(
    printed_urls: list[str], settings: Settings
) -> None:
    from gimark.labels.printing.layout import A4_3x8  # the run's default layout

    assert len(set(printed_urls)) == A4_3x8.per_page
    assert all(url.startswith(settings.base_url + "/") for url in printed_urls)


# --- the verification page -------------------------------------------------------------------


@SQLITE
def test_a_printed_label_opens_the_genuine_verdict_in_chinese_and_english(
    server: str,
    printed_urls: list[str],
    browse: Callable[..., BrowserContext],
    settings: Settings,
    world: Any,
    db: Database,
    tmp_path: Path,
) -> None:
    url = printed_urls[0]
    printed_serial = manifest(settings, world.mine)[url]

    page = open_page(browse(locale="zh-CN"), url)
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert "正品" in verdict_of(page)
    assert page.locator("section.verdict").get_attribute("class") == "verdict verdict-ok"
    assert printed_serial in page.locator(".serial").inner_text()
    main = page.inner_text("main")
    assert "沅江芦笋" in main and "沅江市绿源芦笋专业合作社" in main
    assert "Serial number" not in main and "Report this product" not in main  # all in Chinese
    shot = tmp_path / "genuine-zh.png"
    page.screenshot(path=shot, full_page=True)
    with Image.open(shot) as image:
        assert image.width == PHONE["width"] and image.height >= PHONE["height"]
        darkest, lightest = image.convert("L").getextrema()
        assert lightest - darkest > 100  # something is drawn on it

    page = open_page(browse(locale="en-US"), url)
    assert page.locator("html").get_attribute("lang") == "en"
    assert verdict_of(page) == "Genuine label"
    assert "Yuanjiang Asparagus" in page.inner_text("main")

    scans = scans_of(db)
    assert [s.verdict for s in scans] == ["genuine", "genuine"]
    # Two phones' first scans, from one address within the hour: one scanner (cookie-less
    # scans from one address count once, see test_scanners.py).
    assert len({s.scanner for s in scans}) == 1
    assert {s.ua_family for s in scans} == {"chrome"}


@SQLITE
def test_an_undelivered_label_is_unauthorized_and_can_be_reported_with_a_photo(
    server: str,
    browse: Callable[..., BrowserContext],
    settings: Settings,
    world: Any,
    db: Database,
) -> None:
    undelivered = next(iter(manifest(settings, world.theirs)))
    page = open_page(browse(locale="zh-CN"), undelivered)
    assert "未经授权" in verdict_of(page)
    assert page.locator("li[data-reason]").count() == 1
    reason = page.locator("li[data-reason=batch_not_active]")
    assert "尚未交付" in reason.inner_text()
    assert page.locator("details.report").get_attribute("open") is not None  # offered at once

    send_report(page, "超市货架上的芦笋，标签看起来是复印的", photo=small_png())
    assert "/report/thanks" in page.url
    (report,) = reports_of(db)
    assert f"id={report.id}" in page.url and str(report.id) in page.inner_text("main")
    assert report.verdict == "unauthorized" and report.text.startswith("超市货架")
    assert report.code_text == undelivered
    assert report.photo and (settings.home / "uploads" / report.photo).stat().st_size > 0
    assert len(scans_of(db)) == 1  # reporting is not another scan


@SQLITE
def test_a_typed_serial_gets_a_verdict(
    server: str,
    printed_urls: list[str],
    browse: Callable[..., BrowserContext],
    settings: Settings,
    world: Any,
    db: Database,
) -> None:
    first, second = printed_urls[:2]
    page = open_page(browse(locale="en-US"), first)
    page.fill("#serial", manifest(settings, world.mine)[second].lower())  # typed sloppily
    with page.expect_navigation():
        page.locator("form:has(#serial) button[type=submit]").click()
    assert "/check?" in page.url
    assert verdict_of(page) == "Genuine label"
    assert [s.typed for s in scans_of(db)] == [False, True]


@SQLITE
def test_without_javascript_the_page_answers_and_its_forms_work(
    server: str,
    printed_urls: list[str],
    browse: Callable[..., BrowserContext],
    settings: Settings,
    world: Any,
    db: Database,
) -> None:
    page = open_page(browse(locale="zh-CN", java_script_enabled=False), printed_urls[0])
    assert "正品" in verdict_of(page)
    assert page.locator("#gm-locate").is_hidden()  # the location button needs script
    send_report(page, "包装和以前买的不一样")
    assert "/report/thanks" in page.url
    (report,) = reports_of(db)
    assert report.code_text == printed_urls[0] and report.serial is not None
    assert report.verdict == "genuine" and report.photo is None

    page = open_page(page.context, f"{server}/check")  # the typed-serial form is a plain GET
    page.fill("#serial", manifest(settings, world.mine)[printed_urls[1]])
    with page.expect_navigation():
        page.locator("form:has(#serial) button[type=submit]").click()
    assert "/check?code=" in page.url and "正品" in verdict_of(page)


@SQLITE
def test_sharing_the_location_records_a_rounded_gps_place(
    server: str,
    printed_urls: list[str],
    browse: Callable[..., BrowserContext],
    db: Database,
) -> None:
    context = browse(
        locale="zh-CN",
        permissions=["geolocation"],
        geolocation={"latitude": 28.84512345, "longitude": 112.3612, "accuracy": 30},
    )
    page = open_page(context, printed_urls[0])
    button = page.locator("#gm-locate")
    assert button.is_visible()
    with page.expect_navigation():
        button.click()
    assert "lat=28.85" in page.url and "lon=112.36" in page.url
    assert "正品" in verdict_of(page)
    assert page.locator("#gm-locate").count() == 0  # not offered twice
    before, after = scans_of(db)
    assert before.place_source != "gps"
    assert (after.place_source, after.lat, after.lon) == ("gps", 28.85, 112.36)
    assert after.scanner == before.scanner


@POSTGRES
def test_a_printed_label_opens_the_genuine_verdict_on_postgresql(
    server: str,
    printed_urls: list[str],
    browse: Callable[..., BrowserContext],
    db: Database,
) -> None:
    page = open_page(browse(locale="en-US"), printed_urls[-1])
    assert verdict_of(page) == "Genuine label"
    (scan,) = scans_of(db)
    assert scan.verdict == "genuine"


# --- the portal ------------------------------------------------------------------------------


@SQLITE
def test_a_printer_signs_in_and_downloads_the_sheets_in_the_browser(
    server: str,
    browse: Callable[..., BrowserContext],
    make_account: Callable[..., int],
    world: Any,
    settings: Settings,
    tmp_path: Path,
) -> None:
    from gimark.verify_web.accounts.models import Role

    make_account(
        "printer-browser", Role.PRINTER, password="browser pass 7", printer_id=world.printer_id
    )
    page = open_page(browse(locale="en-US"), f"{server}/portal/login")
    page.fill("#username", "printer-browser")
    page.fill("#password", "browser pass 7")
    page.click("button[type=submit]")
    page.wait_for_url(f"{server}/portal/printer/")
    card = page.locator(f"#batch-{world.mine}")
    assert "Yuanjiang Asparagus" in card.inner_text()
    assert page.locator(f"#batch-{world.theirs}").count() == 0  # another printer's batch
    with page.expect_download() as download:
        card.get_by_role("link", name="sheets.pdf").click()
    saved = tmp_path / "downloaded.pdf"
    download.value.save_as(saved)
    original = settings.home / "runs" / str(world.mine) / "sheets.pdf"
    assert saved.read_bytes() == original.read_bytes()
