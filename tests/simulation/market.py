"""A simulated market for one GI product, to measure the duplicate rules against.

Not a test module: ``tests/labels/test_duplicates.py`` and ``bench/detection.py`` import it
(with ``tests/`` on ``sys.path``).

The product is Anhua dark tea (安化黑茶) from Anhua County, Hunan, sold in shops in Hunan and
its neighbours, the configured sales regions. What happens to its labels:

- genuine packages go from the enterprise to a shop, where a clerk sometimes scans them, and
  home with a household. Usually nobody scans; else one person scans 1-3 times over minutes
  or days, sometimes the others in the household too. Some packages are given away (in town
  or to another city, arriving by road, rail or air), some are bought online and posted
  anywhere in China, some are bought by tourists who take them home, some go on a trip;
- copied labels: a counterfeiter copies one genuine package's label onto K fakes (K from 3
  to 200, log-normal around 24), and often the print shop scans a proof. The fakes sell for
  5-60 days in other cities: online, each posted to its buyer anywhere in China, or on
  market stalls in one to five cities. Their sellers urge buyers to "scan to verify" (the
  copied code does verify), so fake households scan more;
- forged codes (bad signature, unknown key), each printed on up to 100 fakes;
- stolen labels: a batch taken from the printer before delivery, one label per fake,
  reported and revoked some weeks later;
- a revoked enterprise: its packages stop verifying the day its authorization ends.

What the server sees is simulated too. Some people allow the page's geolocation; the IP
resolves to the city on a fixed line, to the carrier's provincial hub (the capital, or just
the province) on mobile data, to the home province of a roaming SIM (mobile data is routed
home), now and then to a random province; some scans have no place at all. Cookies get
lost, so one person can count as two scanners. Two database outages make scans unverifiable.

One seeded RNG: a config gives the same market every time. The market runs until the last
scan; ``days`` is the period over which genuine packages sell.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from gimark.labels.scanning.duplicates import (
    DetectionConfig,
    Scan,
    SerialSummary,
    assess,
)
from gimark.labels.scanning.judge import verdict_of

HOUR = 3600.0  # seconds
DAY = 24 * HOUR
SALES_REGIONS = ("430000", "420000", "360000", "440000", "450000", "520000", "500000")
KINDS = ("genuine", "copied", "forged", "stolen", "revoked")
VERDICTS = ("genuine", "duplicate_suspected", "unauthorized", "cannot_verify")
_OFFLINE = frozenset({"bad_signature", "unknown_key"})  # found without the database


@dataclass(frozen=True)
class City:
    """A city: what an IP resolver calls it, where it really is, how many people live there."""

    name: str
    region: str  # GB/T 2260 code a fixed-line IP resolves to
    lat: float
    lon: float
    weight: float  # urban population, millions

    @property
    def province(self) -> str:
        return self.region[:2] + "0000"


# name, the region a fixed-line IP there resolves to, lat, lon, urban population in millions
_CITY_TABLE = """
# Hunan
Changsha     430100 28.23 112.94 10.0    Yiyang       430900 28.55 112.36  4.0
Anhua        430923 28.37 111.21  1.0    Zhuzhou      430200 27.83 113.13  4.0
Xiangtan     430300 27.83 112.94  3.0    Hengyang     430400 26.89 112.57  6.0
Shaoyang     430500 27.24 111.47  6.0    Yueyang      430600 29.36 113.13  5.0
Changde      430700 29.03 111.70  5.0    Zhangjiajie  430800 29.12 110.48  1.5
Chenzhou     431000 25.77 113.01  4.0    Yongzhou     431100 26.42 111.61  5.0
Huaihua      431200 27.57 110.00  4.0    Loudi        431300 27.70 111.99  3.0
# the neighbouring provinces in the sales regions
Wuhan        420100 30.59 114.31 12.0    Yichang      420500 30.69 111.29  4.0
Nanchang     360100 28.68 115.86  6.0    Ganzhou      360700 25.83 114.93  8.0
Guangzhou    440100 23.13 113.26 18.0    Shenzhen     440300 22.54 114.06 17.0
Dongguan     441900 23.02 113.75 10.0    Zhanjiang    440800 21.27 110.36  7.0
Guiyang      520100 26.65 106.63  6.0    Nanning      450100 22.82 108.37  8.0
Guilin       450300 25.27 110.29  5.0    Chongqing    500000 29.56 106.55 20.0
# the rest of China
Beijing      110000 39.90 116.40 22.0    Shanghai     310000 31.23 121.47 25.0
Tianjin      120000 39.13 117.20 13.0    Hangzhou     330100 30.27 120.15 12.0
Ningbo       330200 29.87 121.55  9.0    Nanjing      320100 32.06 118.80  9.0
Suzhou       320500 31.30 120.58 12.0    Hefei        340100 31.82 117.23  9.0
Fuzhou       350100 26.07 119.30  8.0    Xiamen       350200 24.48 118.09  5.0
Jinan        370100 36.65 117.12  9.0    Qingdao      370200 36.07 120.38 10.0
Zhengzhou    410100 34.75 113.63 12.0    Shijiazhuang 130100 38.04 114.51 11.0
Taiyuan      140100 37.87 112.55  5.0    Xi'an        610100 34.34 108.94 13.0
Chengdu      510100 30.57 104.07 21.0    Kunming      530100 25.04 102.71  8.0
Shenyang     210100 41.80 123.43  9.0    Dalian       210200 38.91 121.61  7.0
Changchun    220100 43.82 125.32  9.0    Harbin       230100 45.80 126.53 10.0
Lanzhou      620100 36.06 103.83  4.0    Urumqi       650100 43.83  87.62  4.0
Hohhot       150100 40.84 111.75  3.0    Haikou       460100 20.04 110.20  3.0
Xining       630100 36.62 101.78  2.0    Yinchuan     640100 38.49 106.23  3.0
Lhasa        540100 29.65  91.14  1.0    Hong_Kong    810000 22.32 114.17  7.0
"""
CITIES = tuple(
    City(name.replace("_", " "), region, float(lat), float(lon), float(weight))
    for line in _CITY_TABLE.splitlines()
    if line and not line.startswith("#")
    for name, region, lat, lon, weight in zip(*[iter(line.split())] * 5, strict=True)
)
_BY_NAME = {c.name: c for c in CITIES}
_IN_SALES = tuple(c for c in CITIES if c.province in SALES_REGIONS)
_HUBS = {c.province: c.region for c in CITIES if c.region.endswith("0100")}  # the capitals
_PROVINCES = tuple(sorted({c.province for c in CITIES}))
_TOURIST_SHOPS = tuple(_BY_NAME[n] for n in ("Changsha", "Zhangjiajie", "Anhua"))
_PRINT_SHOPS = tuple(_BY_NAME[n] for n in ("Guangzhou", "Shenzhen", "Dongguan", "Xiamen"))


@dataclass(frozen=True)
class MarketConfig:
    """The size of the market and how the people in it behave (probabilities are 0-1)."""

    seed: int = 20240601
    days: float = 180.0  # genuine packages sell over this many days
    genuine_packages: int = 20_000
    copied_codes: int = 200  # genuine packages whose label gets copied
    forged_codes: int = 40
    stolen_labels: int = 300
    revoked_packages: int = 1_000
    # copies
    copies_min: int = 3  # fakes per copied label: log-normal, 2 sigmas below the median …
    copies_max: int = 200  # … and 2 above (clipped to the range)
    p_fakes_online: float = 0.6  # sold online rather than on market stalls
    p_fake_household_scans: float = 0.6  # "scan to verify", the seller says
    p_proof_scans: float = 0.5  # the print shop scans a proof with a phone
    # genuine packages and households
    p_household_scans: float = 0.4  # someone in the household scans the package
    p_member_scans: float = 0.2  # each other member scans as well
    p_giver_scans: float = 0.2  # a household that gives the package away scans it first
    p_clerk_scans: float = 0.1  # the shop clerk scans at the sale
    p_gift: float = 0.12
    p_online: float = 0.06  # bought online, posted anywhere in China
    p_tourist: float = 0.04  # bought by a visitor to Hunan, taken home
    p_trip: float = 0.02  # taken on a trip and scanned there
    # what the server sees
    p_geolocation: float = 0.25  # people who allow the page's geolocation
    p_mobile: float = 0.45  # a scan on mobile data rather than Wi-Fi
    p_roaming_sim: float = 0.05  # people whose SIM belongs to another province
    p_no_place: float = 0.04  # scans whose IP does not resolve
    p_wrong_province: float = 0.005  # the IP resolves to a random province
    p_cookie_lost: float = 0.05  # a repeat scan comes with a fresh cookie
    outages: tuple[tuple[float, float], ...] = ((41.5, 0.02), (133.2, 0.03))  # (day, days)
    revoked_on_day: float = 100.0  # the revoked enterprise's authorization ends
    stolen_reported_on_day: float = 110.0  # the stolen batch is revoked


@dataclass(frozen=True)
class ScanEvent:
    """One scan, with the truth about it."""

    at: float  # seconds after the market opened
    serial: str
    scanner: str
    point: tuple[float, float] | None  # measured position, when the browser gave one
    region: str | None  # the client IP's region, when it resolved
    on_copy: bool  # the package is a fake carrying a copied label
    unauthorized: tuple[str, ...]  # what the state checks answer at that moment
    cannot_verify: bool  # the database is away at that moment


@dataclass(frozen=True)
class CopyRun:
    """How one label was copied."""

    fakes: int  # K
    online: bool  # sold online, else on market stalls
    first_sale: float  # seconds after the market opened


@dataclass
class Market:
    """The simulated scans, time-ordered, and the truth about every code."""

    config: MarketConfig
    events: list[ScanEvent]
    kinds: dict[str, str]  # serial -> one of KINDS
    copies: dict[str, CopyRun]  # copied serial -> its copy run
    start: datetime = datetime(2024, 3, 1, tzinfo=UTC)
    sales_regions: tuple[str, ...] = SALES_REGIONS

    def at(self, seconds: float) -> datetime:
        """The moment ``seconds`` after the market opened."""
        return datetime.fromtimestamp(self.start.timestamp() + seconds, UTC)


@dataclass(frozen=True)
class _Package:
    serial: str
    on_copy: bool = False
    state: Callable[[float], tuple[str, ...]] = lambda day: ()  # day -> unauthorized reasons


@dataclass(slots=True)
class _Person:
    scanner: str  # changes when the cookie is lost
    sim_province: str  # mobile data comes out in the SIM's province
    geolocates: bool  # allows the page's geolocation
    scans: int = 0


@dataclass
class _Simulation:
    config: MarketConfig
    rng: random.Random
    events: list[ScanEvent] = field(default_factory=list)
    kinds: dict[str, str] = field(default_factory=dict)
    copies: dict[str, CopyRun] = field(default_factory=dict)
    clerks: dict[tuple[str, int], _Person] = field(default_factory=dict)
    ids: int = 0

    # --- people, and what the server sees of them -------------------------------------------

    def person(self, city: City) -> _Person:
        c, rng = self.config, self.rng
        sim = rng.choice(_PROVINCES) if rng.random() < c.p_roaming_sim else city.province
        return _Person(self.new_id(), sim, rng.random() < c.p_geolocation)

    def new_id(self) -> str:
        self.ids += 1
        return f"s{self.ids}"

    def household(self, city: City) -> list[_Person]:
        size = self.rng.choices((1, 2, 3, 4), weights=(25, 35, 28, 12))[0]
        return [self.person(city) for _ in range(size)]

    def clerk(self, city: City) -> _Person:
        key = (city.name, self.rng.randrange(max(1, round(city.weight * 3))))  # shops per city
        if key not in self.clerks:
            self.clerks[key] = self.person(city)
        return self.clerks[key]

    def ip_region(self, person: _Person, city: City) -> str | None:
        c, rng = self.config, self.rng
        if rng.random() < c.p_no_place:
            return None
        if rng.random() < c.p_wrong_province:
            return rng.choice(_PROVINCES)
        if rng.random() < c.p_mobile:  # routed home, out through the carrier's hub
            hub = _HUBS.get(person.sim_province, person.sim_province)
            return hub if rng.random() < 0.5 else person.sim_province
        return city.region

    def scan(self, package: _Package, person: _Person, city: City, at: float) -> None:
        rng = self.rng
        if person.scans and rng.random() < self.config.p_cookie_lost:
            person.scanner = self.new_id()
        person.scans += 1
        point = None
        if person.geolocates and rng.random() < 0.8:  # some scans deny it or time out
            point = (city.lat + rng.gauss(0, 0.05), city.lon + rng.gauss(0, 0.05))
        down = any(d * DAY <= at < (d + span) * DAY for d, span in self.config.outages)
        answer = package.state(at / DAY)
        if down:
            answer = tuple(r for r in answer if r in _OFFLINE)
        region = self.ip_region(person, city)
        event = ScanEvent(
            at, package.serial, person.scanner, point, region, package.on_copy, answer, down
        )
        self.events.append(event)

    # --- time -------------------------------------------------------------------------------

    def delay(self) -> float:
        """Seconds from getting a package to scanning it: minutes to a couple of weeks."""
        return min(self.rng.lognormvariate(math.log(6 * HOUR), 1.6), 20 * DAY)

    def travel(self, a: City, b: City) -> float:
        """Door-to-door seconds from one city to another by road, rail or air."""
        km = _km(a, b)
        if km < 50:
            return self.rng.uniform(0.3, 1.5) * HOUR
        hours = km / 80 if km < 300 else 3 + km / 600  # drive; or reach a station or airport
        return hours * self.rng.uniform(1.0, 1.5) * HOUR

    # --- households -------------------------------------------------------------------------

    def household_scans(
        self,
        package: _Package,
        members: list[_Person],
        city: City,
        got_at: float,
        until: float = math.inf,
        p_scan: float | None = None,
    ) -> None:
        """The household holding the package from ``got_at`` to ``until`` scans it, or not."""
        c, rng = self.config, self.rng
        if rng.random() >= (c.p_household_scans if p_scan is None else p_scan):
            return
        primary, *others = members
        at = got_at + self.delay()
        for _ in range(rng.choices((1, 2, 3), weights=(55, 30, 15))[0]):
            if at < until:
                self.scan(package, primary, city, at)
            # again at once to show someone, or another day
            at += rng.uniform(60, 1800) if rng.random() < 0.6 else self.delay()
        for other in others:
            at = got_at + self.delay()
            if rng.random() < c.p_member_scans and at < until:
                self.scan(package, other, city, at)

    def receive(self, package: _Package, members: list[_Person], city: City, at: float) -> None:
        """A household gets a package: keeps it, gives it away, or takes it on a trip."""
        c, rng = self.config, self.rng
        u = rng.random()
        if u < c.p_gift:
            given_at = at + rng.uniform(0.5, 10) * DAY
            self.household_scans(package, members, city, at, given_at, c.p_giver_scans)
            to = city if rng.random() < 0.5 else _pick(rng, CITIES)
            self.household_scans(package, self.household(to), to, given_at + self.travel(city, to))
        elif u < c.p_gift + c.p_trip:
            leaves = at + rng.uniform(1, 20) * DAY
            self.household_scans(package, members, city, at, until=leaves)
            there = _pick(rng, CITIES)
            arrives = leaves + self.travel(city, there) + rng.uniform(1, 72) * HOUR
            self.scan(package, members[0], there, arrives)
        else:
            self.household_scans(package, members, city, at)

    # --- the ways labels reach people --------------------------------------------------------

    def sell_genuine(self, package: _Package, sold_at: float) -> City:
        """Sell a package in a shop, online or to a tourist; return the city it sold in."""
        c, rng = self.config, self.rng
        u = rng.random()
        if u < c.p_online:  # posted from Anhua
            home = _pick(rng, CITIES)
            self.receive(package, self.household(home), home, sold_at + rng.uniform(2, 5) * DAY)
            return home
        tourist = u < c.p_online + c.p_tourist
        shop = rng.choice(_TOURIST_SHOPS) if tourist else _pick(rng, _IN_SALES)
        if rng.random() < c.p_clerk_scans:
            self.scan(package, self.clerk(shop), shop, sold_at - rng.uniform(0, 600))
        if not tourist:
            self.receive(package, self.household(shop), shop, sold_at)
            return shop
        home = _pick(rng, CITIES)
        members = self.household(home)
        if rng.random() < 0.3:  # checks it in the shop
            self.scan(package, members[0], shop, sold_at + rng.uniform(0, 600))
        arrives = sold_at + self.travel(shop, home) + rng.uniform(2, 48) * HOUR
        self.receive(package, members, home, arrives)
        return shop

    def copy_label(self, serial: str, sold_at: float, sold_in: City) -> None:
        """Copy a genuine package's label onto K fakes, sold over days or weeks elsewhere."""
        c, rng = self.config, self.rng
        run = CopyRun(
            fakes=_fakes(rng, c.copies_min, c.copies_max),
            online=rng.random() < c.p_fakes_online,
            first_sale=sold_at + rng.uniform(3, 30) * DAY,
        )
        self.copies[serial] = run
        fake = _Package(serial, on_copy=True)
        if rng.random() < c.p_proof_scans:
            shop = rng.choice(_PRINT_SHOPS)
            printer, printed_at = self.person(shop), run.first_sale - rng.uniform(1, 7) * DAY
            for _ in range(rng.randint(1, 3)):
                self.scan(fake, printer, shop, printed_at + rng.uniform(0, HOUR))
        selling = _log_uniform(rng, 5, 60) * DAY
        stalls = rng.choices((1, 2, 3, 4, 5), weights=(25, 25, 20, 15, 15))[0]
        markets = [_pick(rng, CITIES, avoid=sold_in) for _ in range(stalls)]
        for _ in range(run.fakes):
            city = _pick(rng, CITIES, avoid=sold_in) if run.online else rng.choice(markets)
            got_at = run.first_sale + rng.uniform(0, selling) + (3 * DAY if run.online else 0)
            members = self.household(city)
            self.household_scans(fake, members, city, got_at, p_scan=c.p_fake_household_scans)

    def forge(self, serial: str) -> None:
        """A code with a forged signature, printed on fakes sold in a few cities."""
        rng = self.rng
        reason = ("bad_signature",) if rng.random() < 0.7 else ("unknown_key",)
        package = _Package(serial, state=lambda day: reason)
        self.kinds[serial] = "forged"
        markets = [_pick(rng, CITIES) for _ in range(rng.randint(1, 3))]
        start = rng.uniform(0, self.config.days) * DAY
        for _ in range(_log_uniform(rng, 1, 100)):
            city = rng.choice(markets)
            got_at = start + rng.uniform(0, 60) * DAY
            self.household_scans(package, self.household(city), city, got_at)

    def steal(self, serials: list[str]) -> None:
        """A batch taken from the printer before delivery: one label per fake package."""
        c, rng = self.config, self.rng
        stolen_on = rng.uniform(20, 60)

        def state(day: float) -> tuple[str, ...]:
            return ("batch_not_active",) if day < c.stolen_reported_on_day else ("batch_revoked",)

        for serial in serials:
            self.kinds[serial] = "stolen"
            city = _pick(rng, CITIES)
            got_at = (stolen_on + rng.uniform(5, 100)) * DAY
            self.household_scans(_Package(serial, state=state), self.household(city), city, got_at)


def _cumulative(cities: tuple[City, ...]) -> list[float]:
    total, out = 0.0, []
    for city in cities:
        total += city.weight
        out.append(total)
    return out


_CUMULATIVE = {cities: _cumulative(cities) for cities in (CITIES, _IN_SALES)}


def _pick(rng: random.Random, cities: tuple[City, ...], avoid: City | None = None) -> City:
    """A city drawn by population (cumulative weights keep rng.choices quick)."""
    while (city := rng.choices(cities, cum_weights=_CUMULATIVE[cities])[0]) is avoid:
        pass
    return city


def _fakes(rng: random.Random, low: int, high: int) -> int:
    """K: log-normal, ``low`` and ``high`` two standard deviations below and above the median."""
    median, sigma = math.sqrt(low * high), math.log(high / low) / 4
    return min(high, max(low, round(rng.lognormvariate(math.log(median), sigma))))


def _log_uniform(rng: random.Random, low: int, high: int) -> int:
    return round(math.exp(rng.uniform(math.log(low), math.log(high))))


def _km(a: City, b: City) -> float:
    # Equirectangular: within a few per cent at these distances, and quick.
    x = math.radians(b.lon - a.lon) * math.cos(math.radians((a.lat + b.lat) / 2))
    return 6371.0 * math.hypot(x, math.radians(b.lat - a.lat))


def simulate(config: MarketConfig | None = None) -> Market:
    """Run the market: every scan of every code, time-ordered, with the truth about each."""
    config = config or MarketConfig()
    sim = _Simulation(config, random.Random(config.seed))
    rng, last_sale = sim.rng, (config.days - 20) * DAY
    copied = set(rng.sample(range(config.genuine_packages), config.copied_codes))
    for n in range(config.genuine_packages):
        serial, sold_at = f"G{n}", rng.uniform(0, last_sale)
        sim.kinds[serial] = "copied" if n in copied else "genuine"
        sold_in = sim.sell_genuine(_Package(serial), sold_at)
        if n in copied:
            sim.copy_label(serial, sold_at, sold_in)

    def revoked(day: float) -> tuple[str, ...]:
        return ("authorization_revoked",) if day >= config.revoked_on_day else ()

    for n in range(config.revoked_packages):
        sim.kinds[f"R{n}"] = "revoked"
        sim.sell_genuine(_Package(f"R{n}", state=revoked), rng.uniform(0, last_sale))
    for n in range(config.forged_codes):
        sim.forge(f"F{n}")
    sim.steal([f"S{n}" for n in range(config.stolen_labels)])
    sim.events.sort(key=lambda e: e.at)
    return Market(config, sim.events, sim.kinds, sim.copies)


# --- replaying the market through the rules ------------------------------------------------------


_K_GROUPS = ((9, "K 3-9"), (29, "K 10-29"), (99, "K 30-99"), (math.inf, "K 100-200"))
_SEEN_GROUPS = ((2, "2"), (3, "3"), (5, "4-5"), (math.inf, "6+"))
GROUPS = (
    *(label for _, label in _K_GROUPS),
    *(f"fake scanners {label}" for _, label in _SEEN_GROUPS),
    "sold online",
    "sold on stalls",
)


@dataclass
class Figures:
    """What the rules made of a market: scans by (expected, answered) verdict, and copies."""

    confusion: dict[tuple[str, str], int]  # (expected, answered) -> scans
    copied_codes: int = 0
    copies_unscanned: int = 0  # no fake carrying the label was ever scanned
    copies_one_scanner: int = 0  # fakes scanned by one scanner only
    copies_catchable: int = 0  # fakes scanned by two different scanners or more
    copies_caught: int = 0  # catchable and flagged duplicate_suspected at least once
    genuine_scanned: int = 0  # genuine codes (never copied) scanned at least once
    genuine_flagged: int = 0  # … of which flagged duplicate_suspected at least once
    by_group: dict[str, list[int]] = field(  # group -> [caught, catchable]
        default_factory=lambda: {group: [0, 0] for group in GROUPS}
    )
    flagged_reasons: dict[str, int] = field(default_factory=dict)  # "kind:reason" -> codes

    def scans(self, *, expected: str | None = None, answered: str | None = None) -> int:
        """Scans with this expected and/or answered verdict."""
        return sum(
            n
            for (e, a), n in self.confusion.items()
            if expected in (None, e) and answered in (None, a)
        )

    def summary(self) -> dict[str, float]:
        """The four target figures (see bench/detection.py for their definitions)."""
        pairs = {
            "duplicate_recall": (self.copies_caught, self.copies_catchable),
            "false_duplicate_rate": (self.genuine_flagged, self.genuine_scanned),
            "unauthorized_recall": (
                self.scans(expected="unauthorized", answered="unauthorized"),
                self.scans(expected="unauthorized"),
            ),
            "false_unauthorized_rate": (
                self.scans(expected="genuine", answered="unauthorized"),
                self.scans(expected="genuine"),
            ),
        }
        return {name: round(p / w, 4) if w else 0.0 for name, (p, w) in pairs.items()}


def replay(market: Market, config: DetectionConfig | None = None) -> Figures:
    """Feed every scan through :func:`assess` and :func:`verdict_of` as the scan path does.

    Dicts play the database: a (serial, scanner) set says whether a scanner is new, and one
    summary per serial is kept. A scan is not recorded when the database is away or the
    signature fails. The unauthorized reasons come from the simulator's truth: the state
    checks that produce them are tested against the database elsewhere.
    """
    config = config or DetectionConfig()
    summaries: dict[str, SerialSummary] = {}
    seen: set[tuple[str, str]] = set()
    flagged: dict[str, tuple[str, ...]] = {}
    confusion: dict[tuple[str, str], int] = {}
    for event in market.events:
        reasons: tuple[str, ...] = ()
        if not event.cannot_verify and not _OFFLINE.intersection(event.unauthorized):
            new = (event.serial, event.scanner) not in seen
            seen.add((event.serial, event.scanner))
            scan = Scan(market.at(event.at), event.scanner, event.point, event.region)
            result = assess(summaries.get(event.serial), scan, new, market.sales_regions, config)
            summaries[event.serial] = result.summary
            reasons = result.reasons
        answered = verdict_of(event.unauthorized, reasons, event.cannot_verify)
        if answered == "duplicate_suspected":
            flagged[event.serial] = reasons
        key = (_expected(market, event), answered)
        confusion[key] = confusion.get(key, 0) + 1
    figures = Figures(confusion)
    _count_copies(market, figures, flagged)
    _count_genuine(market, figures, flagged, summaries)
    return figures


def _expected(market: Market, event: ScanEvent) -> str:
    if event.unauthorized:
        return "unauthorized"
    if event.cannot_verify:
        return "cannot_verify"
    run = market.copies.get(event.serial)
    if run is not None and (event.on_copy or event.at >= run.first_sale):
        return "duplicate_suspected"  # once fakes are out, the code itself is compromised
    return "genuine"


def _count_copies(market: Market, figures: Figures, flagged: dict[str, tuple[str, ...]]) -> None:
    fake_scanners: dict[str, set[str]] = {}
    for event in market.events:
        if event.on_copy:
            fake_scanners.setdefault(event.serial, set()).add(event.scanner)
    for serial, run in market.copies.items():
        figures.copied_codes += 1
        scanners = len(fake_scanners.get(serial, ()))
        figures.copies_unscanned += scanners == 0
        figures.copies_one_scanner += scanners == 1
        if scanners < 2:
            continue
        caught = serial in flagged
        figures.copies_catchable += 1
        figures.copies_caught += caught
        for group in _groups(run, scanners):
            figures.by_group[group][0] += caught
            figures.by_group[group][1] += 1


def _groups(run: CopyRun, scanners: int) -> tuple[str, ...]:
    fakes = next(label for top, label in _K_GROUPS if run.fakes <= top)
    seen = next(label for top, label in _SEEN_GROUPS if scanners <= top)
    return fakes, f"fake scanners {seen}", "sold online" if run.online else "sold on stalls"


def _count_genuine(
    market: Market,
    figures: Figures,
    flagged: dict[str, tuple[str, ...]],
    summaries: dict[str, SerialSummary],
) -> None:
    for serial, kind in market.kinds.items():
        if kind == "genuine" and serial in summaries:
            figures.genuine_scanned += 1
            figures.genuine_flagged += serial in flagged
        for reason in flagged.get(serial, ()):
            key = f"{kind}:{reason}"
            figures.flagged_reasons[key] = figures.flagged_reasons.get(key, 0) + 1
