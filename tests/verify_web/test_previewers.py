"""Link previewers, crawlers and HEAD requests get the verdict and are not counted as scans."""

from __future__ import annotations

import itertools
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from gimark.core.db import Database
from gimark.labels.scanning.models import ScanRecord, SerialScanner
from gimark.verify_web.previewers import is_previewer

WECHAT_BROWSER = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like"
    " Gecko) Mobile/15E148 MicroMessenger/8.0.50(0x1800323c) NetType/WIFI Language/zh_CN"
)
PREVIEWERS = [
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Twitterbot/1.0",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "TelegramBot (like TwitterBot)",
    "WhatsApp/2.23.18.78 i",
    "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
    "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
    "Sogou web spider/4.0(+http://www.sogou.com/docs/help/webmasters.htm#07)",
    "Mozilla/5.0 (compatible; MSIE 9.0; Windows NT 6.1; Trident/5.0); 360Spider",
    "Mozilla/5.0 (Linux; Android 5.0) AppleWebKit/537.36 (compatible; Bytespider;"
    " spider-feedback@bytedance.com)",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko)"
    " Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)",
    "WeChatShareExtension/8.0.50",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "SomeCompanyCrawler/2.1",
]
PEOPLE = [
    WECHAT_BROWSER,
    "Mozilla/5.0 (Linux; Android 14; 23127PN0CC Build/UKQ1.230804.001; wv) AppleWebKit/537.36"
    " (KHTML, like Gecko) Version/4.0 Chrome/122.0.6261.120 Mobile Safari/537.36 XWEB/1220099"
    " MMWEBSDK/20240404 MMWEBID/2307 MicroMessenger/8.0.49.2600(0x2800313D) WeChat/arm64"
    " Weixin NetType/5G Language/zh_CN ABI/arm64",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like"
    " Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 9; CUBOT X19) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/120.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 10; SM-G9750) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/76.0 Mobile Safari/537.36 SogouMobileBrowser/5.28.12",
    "Mozilla/5.0 (Linux; Android 12; V2154A) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/98.0 Mobile Safari/537.36 AlipayClient/10.5.36",
    "",
]


def scan_rows(db: Database) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(ScanRecord)) or 0)


def scanner_claims(db: Database) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(SerialScanner)) or 0)


@pytest.mark.parametrize("user_agent", PREVIEWERS)
def test_previewers_and_crawlers_are_recognised(user_agent: str) -> None:
    assert is_previewer(user_agent)


@pytest.mark.parametrize("user_agent", PEOPLE)
def test_people_are_not_previewers(user_agent: str) -> None:
    assert not is_previewer(user_agent)


def test_previews_crawls_and_heads_record_nothing_and_answer_the_same(
    client: FlaskClient, db: Database, live_codes: list[str]
) -> None:
    code = live_codes[0]
    page = urlsplit(code).path
    agents = itertools.cycle(PREVIEWERS)
    for _ in range(30):
        head = client.head(page, headers={"User-Agent": WECHAT_BROWSER})
        assert head.status_code == 200 and "Set-Cookie" not in head.headers  # no cookie at all
    verdicts = set()
    for n in range(30):
        agent = {"User-Agent": next(agents)}
        if n % 2:
            response = client.get("/api/v1/verify", query_string={"code": code}, headers=agent)
            verdicts.add(response.get_json()["verdict"])
        else:
            response = client.get(page, headers=agent)
            assert "verdict-ok" in response.get_data(as_text=True)
        assert response.status_code == 200 and "Set-Cookie" not in response.headers
        assert response.headers["Cache-Control"] == "no-store"
    assert verdicts == {"genuine"}
    assert scan_rows(db) == 0 and scanner_claims(db) == 0

    shopper = client.get(
        "/api/v1/verify", query_string={"code": code}, headers={"User-Agent": WECHAT_BROWSER}
    )
    body = shopper.get_json()
    assert body["verdict"] == "genuine" and body["scans"]["total"] == 1
    assert "gm_sid" in shopper.headers["Set-Cookie"]
    assert scan_rows(db) == 1


def test_the_wechat_browser_is_a_person_and_records(
    client: FlaskClient, db: Database, live_codes: list[str]
) -> None:
    response = client.get(urlsplit(live_codes[1]).path, headers={"User-Agent": WECHAT_BROWSER})
    assert response.status_code == 200 and "gm_sid" in response.headers["Set-Cookie"]
    with db.session() as s:
        (row,) = s.scalars(select(ScanRecord))
        assert row.ua_family == "wechat"
