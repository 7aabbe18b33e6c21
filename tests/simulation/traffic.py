"""The simulated market as the HTTP requests phones send, judged by the real app and as the
service judged before its defences against forged claims. Not a test module: ``test_traffic.py``
and ``bench/abuse_market.py`` import it (with ``tests/`` on ``sys.path``).

What :func:`build_traffic` adds to a :class:`~simulation.market.Market`:

- a network: each scanner gets an IPv4 address from the pool of the region the market says
  its IP resolves to (a city for a fixed line, the provincial hub or province for mobile
  data), some of them a carrier NAT address many share; unresolved IPs come from a pool the
  IP table (``cidr,region``, written for the replay) does not list;
- a trusted proxy: every request arrives from it, the client in ``X-Forwarded-For``;
- cookie jars: each market scanner keeps the cookie the service issued it. The market gives a
  person who lost their cookie a new scanner id: a new, empty jar (and address);
- link previews: a share of the scans are shared in WeChat, whose servers fetch the link;
- attacks: a competitor runs :data:`ATTACK_RECIPE` (``tests/verify_web/test_attacks.py``'s)
  on some genuine labels, each from one of a few addresses in Changsha.

:func:`judge_after` sends the requests through the real app (fresh SQLite, real signed codes
of one delivered batch); :func:`judge_before` builds the scans the naive way (every HEAD and
preview a scan, every cookie-less request a new scanner, any cookie a scanner, every claimed
place trusted) and feeds them to ``assess`` as :func:`~simulation.market.replay` does.

Only genuine and copied labels are replayed (:func:`replay_config`): the other kinds and the
outages are measured by ``bench/detection.py`` and tell nothing about these defences.
"""

from __future__ import annotations

import random
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from flask.testing import FlaskClient
from simulation.market import (
    DAY,
    SALES_REGIONS,
    Figures,
    Market,
    MarketConfig,
    ScanEvent,
    simulate,
)

from gimark.core.context import ensure_home
from gimark.core.db import Database, utcnow
from gimark.core.migrate import upgrade
from gimark.core.settings import Settings
from gimark.keys.services import create_key, load_signer
from gimark.labels.issuing.batches import approve_batch, mark_printed, request_batch
from gimark.labels.issuing.codes import encode_url, sign_codes
from gimark.labels.issuing.ledger import deliver_batch
from gimark.labels.scanning.duplicates import DetectionConfig, Scan, SerialSummary, assess
from gimark.labels.scanning.judge import verdict_of
from gimark.labels.scanning.service import read_summary
from gimark.trace.authorizations import authorize
from gimark.trace.models import ProductKind
from gimark.trace.services import add_enterprise, add_printer, add_product
from gimark.trace.uscc import check_character
from gimark.verify_web import create_app
from gimark.verify_web.extensions import database
from gimark.verify_web.scan import CLOCK_CONFIG

PROXY: Final = {"REMOTE_ADDR": "10.0.0.2"}  # the one reverse proxy in front of the app
PHONE: Final = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like"
    " Gecko) Mobile/15E148 MicroMessenger/8.0.50(0x1800323c) NetType/WIFI Language/zh_CN"
)
WECHAT_PREVIEW: Final = "WeChatShareExtension/8.0.50"
PREVIEWERS: Final = (
    WECHAT_PREVIEW,
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
    "Sogou web spider/4.0(+http://www.sogou.com/docs/help/webmasters.htm#07)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "TelegramBot (like TwitterBot)",
    "Mozilla/5.0 (Linux; Android 5.0) AppleWebKit/537.36 (compatible; Bytespider;"
    " spider-feedback@bytedance.com)",
)
# The recipe per attacked label: cookie-less GETs of the API and of the page, HEADs, cookies
# the service never issued, then each previewer; last, two issued cookies claiming places
# 1,900 km apart from the attacker's address, whose region (Changsha) is known.
ATTACK_RECIPE: Final = {"cookieless": 30, "heads": 30, "forged_cookies": 20}
BEIJING: Final = (39.9, 116.4)
GUANGZHOU: Final = (23.1, 113.3)
ATTACKER_REGION: Final = "430100"
MESSENGER_REGIONS: Final = ("440300", "310000", "120000")  # WeChat's servers: Shenzhen, …
P_SHARE: Final = 0.08  # a scan whose page is then shared in a chat
P_NAT: Final = 0.2  # a scanner's address is a carrier NAT address others share
NAT_ADDRESSES: Final = 8  # per region pool
PASSPHRASE: Final = "traffic replay passphrase"
_COOKIE: Final = re.compile(r"gm_sid=([^;]+)")


def replay_config(seed: int, genuine: int, copies: int) -> MarketConfig:
    """A market of genuine and copied labels only, without outages (see the module's note)."""
    config = MarketConfig(seed=seed, genuine_packages=genuine, copied_codes=copies)
    return replace(config, forged_codes=0, stolen_labels=0, revoked_packages=0, outages=())


@dataclass(frozen=True)
class Request:
    """One HTTP request at a label (or, ``serial`` None, at a text that is no gimark code)."""

    at: float  # seconds after the market opened
    serial: str | None
    address: str  # the client's, as the proxy writes it in X-Forwarded-For
    jar: str | None = None  # the cookie jar it sends from and keeps the answer's cookie in
    point: tuple[float, float] | None = None  # lat/lon claimed in the query string
    cookie: str | None = None  # a cookie the client made up, sent instead of a jar's
    method: str = "GET"
    page: bool = False  # the QR's page, else the JSON API
    agent: str = PHONE
    event: ScanEvent | None = None  # the market's scan it carries; None: a preview or attack


@dataclass
class Network:
    """Address pools per region (``36.<n>.0.0/16``), and what the IP table says of them."""

    rng: random.Random
    pools: dict[str, int] = field(default_factory=dict)  # region -> n
    used: dict[int, int] = field(default_factory=dict)  # n -> addresses handed out
    held: dict[tuple[str, str | None], str] = field(default_factory=dict)

    def address(self, holder: str, region: str | None) -> str:
        """``holder``'s address in ``region`` (None: an address the table does not list)."""
        key = (holder, region)
        if key not in self.held:
            self.held[key] = self._new(region)
        return self.held[key]

    def nat(self, region: str) -> str:
        """One of the shared addresses in ``region`` (a carrier NAT, a messenger's servers)."""
        n = self._pool(region)
        return f"36.{n}.0.{self.rng.randint(1, NAT_ADDRESSES)}"

    def table(self) -> str:
        """The IP table of the replay: ``cidr,region`` lines."""
        rows = (f"36.{n}.0.0/16,{region}" for region, n in sorted(self.pools.items()))
        return "\n".join(("cidr,region", *rows, ""))

    def region_of(self, address: str) -> str | None:
        """What the table says of ``address``, as the app's resolver would."""
        first, n, *_ = address.split(".")
        by_pool = {n: region for region, n in self.pools.items()}
        return by_pool.get(int(n)) if first == "36" else None

    def _new(self, region: str | None) -> str:
        if region is None:  # outside every listed range: the address does not resolve
            k = self.used[-1] = self.used.get(-1, 0) + 1
            return f"45.{k // 250 % 250}.{k // 62500}.{k % 250 + 1}"
        if self.rng.random() < P_NAT:
            return self.nat(region)
        n = self._pool(region)
        k = self.used[n] = self.used.get(n, 0) + 1
        return f"36.{n}.{1 + k // 250}.{k % 250 + 1}"

    def _pool(self, region: str) -> int:
        return self.pools.setdefault(region, len(self.pools) + 1)


@dataclass(frozen=True)
class Traffic:
    """The requests of a market, time-ordered, the network they came from, the attacked."""

    requests: list[Request]
    network: Network
    attacked: tuple[str, ...]


def build_traffic(market: Market, attacked: int, seed: int) -> Traffic:
    """The market's scans as requests, with previews of shared links and ``attacked`` genuine
    labels attacked (:data:`ATTACK_RECIPE`)."""
    rng = random.Random(seed)
    network = Network(rng)
    requests: list[Request] = []
    for event in market.events:
        address = network.address(event.scanner, event.region)
        person = Request(event.at, event.serial, address, event.scanner, event.point, event=event)
        requests.append(person)
        if rng.random() < P_SHARE:  # the messenger fetches the card, once or a few times
            for _ in range(rng.randint(1, 3)):
                server = network.nat(rng.choice(MESSENGER_REGIONS))
                at = event.at + rng.uniform(2, 120)
                requests.append(Request(at, event.serial, server, agent=WECHAT_PREVIEW, page=True))
    genuine = sorted(s for s, kind in market.kinds.items() if kind == "genuine")
    targets = tuple(rng.sample(genuine, min(attacked, len(genuine))))
    offices = [network.nat(ATTACKER_REGION) for _ in range(3)]  # the competitor's few lines
    for n, serial in enumerate(targets):
        start = rng.uniform(0, market.config.days) * DAY
        requests.extend(_attack(rng, network, serial, rng.choice(offices), start, f"attacker{n}"))
    requests.sort(key=lambda r: r.at)
    return Traffic(requests, network, targets)


def _attack(
    rng: random.Random, network: Network, serial: str, office: str, start: float, who: str
) -> list[Request]:
    recipe, out = ATTACK_RECIPE, []
    at = iter(start + 2.0 * n for n in range(1000))  # a script: a request every two seconds
    for _ in range(recipe["cookieless"]):
        out += [Request(next(at), serial, office, page=page) for page in (False, True)]
    for n in range(recipe["heads"]):
        out.append(Request(next(at), serial, office, method="HEAD", page=n % 2 == 0))
    for n in range(recipe["forged_cookies"]):
        scanner = secrets.token_urlsafe(16)
        made_up = f"{scanner}.{secrets.token_urlsafe(16)}" if n % 2 else secrets.token_hex(n + 1)
        out.append(Request(next(at), serial, office, cookie=made_up))
    out += [Request(next(at), serial, office, page=True, agent=agent) for agent in PREVIEWERS]
    for place, phone in ((BEIJING, f"{who}a"), (GUANGZHOU, f"{who}b")):
        # The phone picked its cookie up the day before, on a mobile network of its own.
        pickup = network.address(phone, "430000")
        out.append(Request(start - rng.uniform(0.5, 1) * DAY, None, pickup, jar=phone))
        out.append(Request(next(at), serial, office, jar=phone, point=place))
    return out


# --- judging --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Judged:
    """What one world made of the traffic: the market's figures, and the attacked labels."""

    figures: Figures
    attacked_flagged: int
    attacked: int

    def summary(self) -> dict[str, float]:
        """:meth:`Figures.summary` and ``attacked_genuine_flagged``."""
        share = self.attacked_flagged / self.attacked if self.attacked else 0.0
        return {**self.figures.summary(), "attacked_genuine_flagged": round(share, 4)}


def judge_before(market: Market, traffic: Traffic, config: DetectionConfig) -> Judged:
    """The traffic as the service judged it before the defences, without the app."""
    ids: dict[str, str] = {}  # jar -> the id the service issued it
    seen: set[tuple[str, str]] = set()
    summaries: dict[str, SerialSummary] = {}
    answers: list[tuple[ScanEvent, str]] = []
    for n, request in enumerate(traffic.requests):
        scanner = request.cookie or (ids.get(request.jar) if request.jar else None)
        if scanner is None:
            scanner = f"new{n}"  # a cookie-less request: the service issued a fresh id
            if request.jar is not None:
                ids[request.jar] = scanner
        if request.serial is None:
            continue
        new = (request.serial, scanner) not in seen
        seen.add((request.serial, scanner))
        region = traffic.network.region_of(request.address)
        scan = Scan(market.at(request.at), scanner, request.point, region)
        result = assess(summaries.get(request.serial), scan, new, SALES_REGIONS, config)
        summaries[request.serial] = result.summary
        if request.event is not None:
            answers.append((request.event, verdict_of((), result.reasons, cannot_verify=False)))
    flagged = {serial: summary.reasons for serial, summary in summaries.items() if summary.reasons}
    return _judged(market, traffic, answers, flagged)


def judge_after(market: Market, traffic: Traffic, home: Path) -> Judged:
    """The traffic sent through the real app (a fresh SQLite database in ``home``)."""
    settings = Settings(home=home, key_passphrase=PASSPHRASE, trusted_proxies=1)
    table = home / "ip_regions.csv"
    codes, first = seed_codes(settings, market.config.genuine_packages)
    table.write_text(traffic.network.table(), encoding="utf-8")
    # The rate limits count requests by wall-clock time, which the replay compresses: off.
    settings = settings.with_overrides(ip_regions=table, limit_scans_per_address=0)
    clock = Clock(market.start)
    # The market runs for months and the rules judge by the time between scans: the app's
    # scans read the replay's clock.
    app = create_app({"TESTING": True, "GIMARK_SETTINGS": settings, CLOCK_CONFIG: clock.now})
    client, jars = app.test_client(use_cookies=False), dict[str, str]()
    answers: list[tuple[ScanEvent, str]] = []
    try:
        for request in traffic.requests:
            clock.moment = market.at(request.at)
            code = "x" if request.serial is None else codes[int(request.serial[1:])]
            response = _send(client, request, code, jars)
            if request.event is not None:
                answers.append((request.event, str(response.get_json()["verdict"])))
        flagged = _flagged(database(app), first, market.kinds)
    finally:
        database(app).dispose()
    return _judged(market, traffic, answers, flagged)


def _send(client: FlaskClient, request: Request, code: str, jars: dict[str, str]) -> Any:
    headers = {"X-Forwarded-For": request.address, "User-Agent": request.agent}
    cookie = request.cookie or (jars.get(request.jar) if request.jar else None)
    if cookie is not None:
        headers["Cookie"] = f"gm_sid={cookie}"
    query = {} if request.page else {"code": code}
    if request.point is not None:
        query |= {"lat": f"{request.point[0]:.5f}", "lon": f"{request.point[1]:.5f}"}
    path = urlsplit(code).path if request.page else "/api/v1/verify"
    response = client.open(
        path, method=request.method, query_string=query, headers=headers, environ_base=PROXY
    )
    assert response.status_code == 200, (request, response.status_code)
    found = _COOKIE.search(" ".join(response.headers.getlist("Set-Cookie")))
    if found and request.jar is not None:  # the jar keeps what the service issued
        jars[request.jar] = found.group(1)
    return response


def _flagged(db: Database, first: int, serials: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """The market serials (``G<n>``: the batch's n-th) flagged at some scan (flags stick)."""
    flagged: dict[str, tuple[str, ...]] = {}
    with db.session() as s:
        for serial in serials:
            summary = read_summary(s, first + int(serial[1:]))
            if summary is not None and summary.reasons:
                flagged[serial] = summary.reasons
    return flagged


def _judged(
    market: Market,
    traffic: Traffic,
    answers: list[tuple[ScanEvent, str]],
    flagged: dict[str, tuple[str, ...]],
) -> Judged:
    confusion: dict[tuple[str, str], int] = {}  # (expected, answered) -> people's scans
    for event, answered in answers:
        key = (_expected(market, event), answered)
        confusion[key] = confusion.get(key, 0) + 1
    figures = Figures(confusion)
    fake_scanners: dict[str, set[str]] = {}
    for event in market.events:
        if event.on_copy:
            fake_scanners.setdefault(event.serial, set()).add(event.scanner)
    for serial in market.copies:  # catchable: fakes seen by two scanners or more
        figures.copied_codes += 1
        if len(fake_scanners.get(serial, ())) >= 2:
            figures.copies_catchable += 1
            figures.copies_caught += serial in flagged
    scanned = {event.serial for event in market.events} | set(traffic.attacked)
    for serial in scanned:
        if market.kinds[serial] == "genuine":
            figures.genuine_scanned += 1
            figures.genuine_flagged += serial in flagged
    for serial, reasons in flagged.items():
        attacked = "attacked " if serial in traffic.attacked else ""
        for reason in reasons:
            kind = f"{attacked}{market.kinds[serial]}:{reason}"
            figures.flagged_reasons[kind] = figures.flagged_reasons.get(kind, 0) + 1
    hit = sum(serial in flagged for serial in traffic.attacked)
    return Judged(figures, hit, len(traffic.attacked))


def _expected(market: Market, event: ScanEvent) -> str:
    run = market.copies.get(event.serial)
    if run is not None and (event.on_copy or event.at >= run.first_sale):
        return "duplicate_suspected"  # as market.replay: fakes are out, the code is compromised
    return "genuine"


# --- the app's clock and codes ----------------------------------------------------------------


@dataclass
class Clock:
    """The market's time, moved by the replay."""

    moment: datetime

    def now(self) -> datetime:
        return self.moment


def seed_codes(settings: Settings, count: int) -> tuple[list[str], int]:
    """Migrate, register a product sold in the market's sales regions and an authorized
    enterprise, deliver one batch of ``count`` labels; return their QR texts (in serial
    order) and the first serial."""
    ensure_home(settings)
    db = Database(settings.effective_database_url)
    upgrade(db)
    uscc = [f"91430923{n:09d}" for n in (1, 2)]
    enterprise_uscc, printer_uscc = (first17 + check_character(first17) for first17 in uscc)
    try:
        with db.session() as s:
            create_key(s, settings, PASSPHRASE)
            product = add_product(
                s,
                name_zh="安化黑茶",
                name_en="Anhua Dark Tea",
                kind=ProductKind.PROTECTED_PRODUCT,
                region="430923",
                sales_regions=SALES_REGIONS,
            )
            enterprise = add_enterprise(
                s, name="安化县茶业合作社", uscc=enterprise_uscc, actor="sim"
            )
            printer = add_printer(s, name="湖南印务有限公司", uscc=printer_uscc)
            ids: dict[str, Any] = {"enterprise_id": enterprise.id, "product_id": product.id}
            authorize(s, **ids, valid_from=None, valid_until=None, actor="sim")
        with db.session() as s:
            batch = request_batch(s, **ids, quantity=count, max_quantity=count, actor="sim")
            approve_batch(s, batch.id, printer_id=printer.id, actor="sim")
            mark_printed(s, batch.id, actor="sim", detail={"files": []})
            deliver_batch(s, batch.id, actor="sim")
            first = batch.serial_first
            signer = load_signer(s, settings, PASSPHRASE)
        assert first is not None
        serials = range(first, first + count)
        return [encode_url(code, settings.base_url) for code in sign_codes(signer, serials)], first
    finally:
        db.dispose()


def now_market(market: Market) -> Market:
    """``market`` opening at the start of the next hour: the app signs and delivers its
    codes now and judges scans after that; on the hour, so that the app's hour-long windows
    fall on the same scans in every run."""
    hour = utcnow().replace(minute=0, second=0, microsecond=0)
    return replace(market, start=hour + timedelta(hours=1))


def compare(
    seed: int, genuine: int, copies: int, attacked: int, home: Path
) -> tuple[Judged, Judged]:
    """Simulate a market (:func:`replay_config`), attack ``attacked`` of its genuine labels,
    and judge the traffic before the defences and through the app (in ``home``)."""
    market = now_market(simulate(replay_config(seed, genuine, copies)))
    traffic = build_traffic(market, attacked, seed)
    before = judge_before(market, traffic, DetectionConfig())
    return before, judge_after(market, traffic, home)
