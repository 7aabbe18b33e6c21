"""Whatever is scanned or typed gets an answer: generated garbage against the API and the page.

A seeded generator (reproducible, and fast enough for 10,000 requests) makes random bytes and
Unicode, truncations and character flips of a real code, huge strings, percent-encodings,
look-alike URLs and typo'd serials, with garbage lat/lon/lang beside them. Every answer must
be a 200 that says not_ours, or unauthorized for malformed input, or for a well-formed
forgery bad_signature / unknown_key. Never a 5xx, never anything else.
"""

from __future__ import annotations

import random
import re
import string
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import pytest
from flask.testing import FlaskClient

from gimark.labels.issuing.errors import BadSerialError
from gimark.labels.issuing.serials import ALPHABET, looks_like_serial, parse_serial

BASE32 = string.ascii_uppercase + "234567"
ALLOWED = {
    "not_ours": {("not_ours",)},
    "unauthorized": {("malformed",), ("bad_signature",), ("unknown_key",)},
}
GARBAGE_NUMBERS = [
    *("", "nan", "NaN", "inf", "-inf", "1e309", "-1e309", "91", "-90.0001", "180.5", "abc"),
    *("0x1A", "1_0", "9" * 500, "２８.８", " 28.8 ", "28,8", "1e-7", "--1", "+", ".", "%00"),
]
UNICODE_RANGES = [
    (0x20, 0x7E),
    (0xA0, 0x2FF),
    (0x4E00, 0x9FFF),
    (0xFF01, 0xFF5E),
    (0x1F300, 0x1FAFF),
]
ODD_CHARS = "\u200b\u200e\u202e\ufeff\u0301\u0131\u017f\t\n\r\x00\x7f\\\"'<>&#?/%"


def random_unicode(rng: random.Random, length: int) -> str:
    chars = []
    for _ in range(length):
        if rng.random() < 0.15:
            chars.append(rng.choice(ODD_CHARS))
        else:
            low, high = rng.choice(UNICODE_RANGES)
            chars.append(chr(rng.randint(low, high)))
    return "".join(chars)


def flip(rng: random.Random, payload: str, times: int = 1) -> str:
    """``times`` base32 characters, at different places, changed to others: different bytes,
    same shape (no slack bits: 120 characters of 5 bits are exactly the 75 bytes). Different
    places: a second change at the first one's place could restore the real code."""
    chars = list(payload)
    for i in rng.sample(range(len(payload)), times):
        chars[i] = rng.choice(BASE32.replace(payload[i], ""))
    return "".join(chars)


def generators(base: str, payload: str) -> list[Callable[[random.Random], str]]:
    real = f"{base}/{payload}"
    return [
        lambda r: bytes(r.randrange(256) for _ in range(r.randint(0, 300))).decode("latin-1"),
        lambda r: random_unicode(r, r.randint(0, 200)),
        lambda r: real[: r.randrange(len(real))],
        lambda r: f"{base}/{payload[: r.randrange(len(payload))]}",
        lambda r: f"{base}/{flip(r, payload)}",
        lambda r: f"{base}/{flip(r, payload, times=2)}".lower(),
        lambda r: payload[: r.randint(100, 119)] + r.choice(["", "=", "1", "8", "0", "Ω"]),
        lambda r: r.choice([real, payload]) * r.randint(2, 900),  # up to ~100,000 characters
        lambda r: "".join(f"%{r.randrange(256):02X}" for _ in range(r.randint(1, 60))),
        lambda r: real.replace(payload[: r.randint(1, 40)], quote(payload[:5]) + "%ZZ%"),
        lambda r: (
            r.choice(["ftp://", "javascript:", "data:,", "HTTP://127.0.0.1:8000/VX/"]) + payload
        ),
        # Not "?" or "#": a query or fragment after a real code is the scanner app's, and the
        # code stays genuine.
        lambda r: f"{base}/{payload}{r.choice(['/', '%', '/../', '%2F', '='])}{payload[:9]}",
        lambda r: "".join(r.choice(ALPHABET + "UVIOL-") for _ in range(r.randint(9, 13))),
    ]


def is_valid_serial(text: str) -> bool:
    """A typed serial whose check passes is a lookup, not garbage: it may even exist."""
    if not looks_like_serial(text):
        return False
    try:
        parse_serial(text)
    except BadSerialError:
        return False
    return True


def cases(base: str, payload: str, count: int, seed: int) -> Iterator[tuple[str, str, str]]:
    """``count`` (route, URL, text) triples, spread over the API, the QR path and /check."""
    rng = random.Random(seed)
    makers = generators(base, payload)
    made = 0
    while made < count:
        text = rng.choice(makers)(rng)
        if is_valid_serial(text):
            continue
        extra = {k: rng.choice(GARBAGE_NUMBERS) for k in ("lat", "lon") if rng.random() < 0.5}
        if rng.random() < 0.2:
            extra["lang"] = random_unicode(rng, 3)
        query = urlencode(extra)
        route = ("api", "qr", "check")[made % 3]
        if route == "qr":
            tail = text.removeprefix(base + "/")
            url = rng.choice(["/V/", "/v/"]) + quote(tail, safe=rng.choice(["", "/"]))
        else:
            code = urlencode({"code": text})
            url = ("/api/v1/verify?" if route == "api" else "/check?") + code
        yield route, url + ("&" if "?" in url else "?") + query, text
        made += 1


def check_answer(route: str, text: str, response: Any, seen: Counter[str]) -> str | None:
    """What is wrong with the answer, or None; ``seen`` counts the reasons given."""
    if response.status_code != 200:
        return f"status {response.status_code}"
    if route == "check" and not text.strip():  # nothing typed: the form to type it
        return None if 'name="code"' in response.get_data(as_text=True) else "no form"
    if route == "api":
        body = response.get_json()
        verdict, reasons = body["verdict"], tuple(r["code"] for r in body["reasons"])
    else:
        page = response.get_data(as_text=True)
        tones = re.findall(r'class="verdict verdict-([a-z]+)"', page)
        verdict = {"bad": "unauthorized", "none": "not_ours"}.get(tones[0] if tones else "", "?")
        reasons = tuple(re.findall(r'data-reason="([a-z_]+)"', page))
    if reasons not in ALLOWED.get(verdict, ()):
        return f"{verdict} {reasons}"
    seen.update(reasons)
    return None


@pytest.mark.parametrize(
    ("db", "count"), [("sqlite", 10_000), ("postgresql", 500)], indirect=["db"]
)
def test_generated_garbage_always_gets_an_answer(
    client: FlaskClient, live_codes: list[str], count: int
) -> None:
    base, _, payload = live_codes[0].rpartition("/")
    assert urlsplit(base).path == "/V"
    failures, seen = [], Counter[str]()
    for n, (route, url, text) in enumerate(cases(base, payload, count, seed=20261124)):
        # Each from an address of its own: one address sending 10,000 would meet the scan
        # limit (tests/verify_web/test_limits.py), which is not what this test is about.
        address = {"REMOTE_ADDR": f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"}
        response = client.get(url, follow_redirects=True, environ_base=address)
        problem = check_answer(route, text, response, seen)
        if problem is not None:
            failures.append((problem, route, url[:300]))
    assert failures == [], f"{len(failures)} bad answers, e.g. {failures[:5]}"
    # The generator reaches every kind of refusal, not only the easy one.
    assert set(seen) == {"not_ours", "malformed", "bad_signature", "unknown_key"}, seen
