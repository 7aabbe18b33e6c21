"""Languages: Chinese by default, English by ?lang, cookie or Accept-Language; the catalogs."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from flask.testing import FlaskClient

from gimark.verify_web.i18n import LANG_COOKIE, normalize

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "verify_web" / "translations"
CATALOGS = sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"))
ZH_TITLE, EN_TITLE = "登录标签管理门户", "Sign in to the label portal"


def text(response: Any) -> str:
    return str(response.get_data(as_text=True))


def test_chinese_is_the_default(client: FlaskClient) -> None:
    page = client.get("/portal/login")
    assert '<html lang="zh-CN">' in text(page) and ZH_TITLE in text(page)
    assert "地理标志专用标志" in text(page) and EN_TITLE not in text(page)
    assert {"Accept-Language", "Cookie"} <= set(page.vary)
    assert LANG_COOKIE not in page.headers.get("Set-Cookie", "")


@pytest.mark.parametrize(
    ("accept", "title"),
    [
        ("en-US,en;q=0.9", EN_TITLE),
        ("fr-FR, en;q=0.5", EN_TITLE),
        ("zh-TW,zh;q=0.9,en;q=0.8", ZH_TITLE),  # any Chinese reads simplified before English
        ("en;q=0.5, zh-CN", ZH_TITLE),
        ("fr, de", ZH_TITLE),  # nothing we have: the default
        ("", ZH_TITLE),
    ],
)
def test_accept_language_picks_the_best_match(client: FlaskClient, accept: str, title: str) -> None:
    assert title in text(client.get("/portal/login", headers={"Accept-Language": accept}))


def test_lang_parameter_wins_and_is_remembered(client: FlaskClient) -> None:
    chosen = client.get("/portal/login?lang=en", headers={"Accept-Language": "zh-CN"})
    assert '<html lang="en">' in text(chosen) and EN_TITLE in text(chosen)
    assert f"{LANG_COOKIE}=en" in chosen.headers["Set-Cookie"]
    assert "HttpOnly" in chosen.headers["Set-Cookie"]
    # The cookie now outranks Accept-Language ...
    assert EN_TITLE in text(client.get("/portal/login", headers={"Accept-Language": "zh-CN"}))
    # ... and ?lang changes it back; an unknown ?lang changes nothing.
    back = client.get("/portal/login?lang=zh_CN")
    assert ZH_TITLE in text(back) and f"{LANG_COOKIE}=zh_CN" in back.headers["Set-Cookie"]
    assert ZH_TITLE in text(client.get("/portal/login?lang=xx"))


def test_the_language_switch_keeps_the_page(client: FlaskClient) -> None:
    page = text(client.get("/portal/login?next=%2Fportal%2Fprinter%2F"))
    assert 'href="?next=%2Fportal%2Fprinter%2F&amp;lang=en"' in page


@pytest.mark.parametrize(
    ("tag", "locale"),
    [
        ("zh", "zh_CN"),
        ("ZH-cn", "zh_CN"),
        ("zh_TW", "zh_CN"),
        ("en-GB", "en"),
        ("EN", "en"),
        ("", None),
        ("fr", None),
        ("english", None),
        (None, None),
    ],
)
def test_tags_map_onto_our_two_locales(tag: str | None, locale: str | None) -> None:
    assert normalize(tag) == locale


def test_portal_failures_are_pages_and_the_api_stays_json(client: FlaskClient) -> None:
    missing = client.get("/portal/no/such/page?lang=en")
    assert missing.status_code == 404 and missing.mimetype == "text/html"
    assert text(missing).index("This page does not exist.") < text(missing).index("此页面不存在")
    assert client.get("/no/such/page").get_json()["error"]["code"] == "not_found"


# --- the catalogs ------------------------------------------------------------------------------


def test_there_is_a_chinese_catalog() -> None:
    assert [p.parent.parent.name for p in CATALOGS] == ["zh_Hans_CN"]


@pytest.mark.parametrize("po", CATALOGS, ids=lambda p: p.parent.parent.name)
def test_compiled_catalogs_match_their_sources(po: Path) -> None:
    with po.open("rb") as source:
        catalog = read_po(source)
    assert [problem for problem in catalog.check()] == []  # placeholders kept, …
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    with po.with_suffix(".mo").open("rb") as committed:
        shipped = read_mo(committed)
    fresh = read_mo(compiled)
    assert {m.id: m.string for m in shipped} == {m.id: m.string for m in fresh}, (
        "messages.mo is stale: run `make translations`"
    )


@pytest.mark.parametrize("po", CATALOGS, ids=lambda p: p.parent.parent.name)
def test_every_source_string_is_translated(po: Path, tmp_path: Path) -> None:
    pot = tmp_path / "messages.pot"
    pybabel = [sys.executable, "-c", "from babel.messages.frontend import main; main()"]
    subprocess.run(
        [*pybabel, "-q", "extract", "-F", "babel.cfg", "-k", "lazy_gettext", "-o", str(pot), "."],
        cwd=ROOT,
        check=True,
    )
    with pot.open("rb") as template, po.open("rb") as source:
        wanted = {m.id for m in read_po(template) if m.id}
        catalog = read_po(source)
    missing = sorted(
        str(i)
        for i in wanted
        if not (catalog.get(i) and catalog[i].string and not catalog[i].fuzzy)
    )
    assert missing == [], f"untranslated in {po.parent.parent.name}: run `make translations`"
