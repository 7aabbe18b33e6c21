"""What the verification page says, in the reader's language, built from the verify JSON.

The page and ``GET /api/v1/verify`` show the same facts: this module only words them (the
verdict and reasons from :mod:`gimark.labels.scanning.reasons`, dates in China's time, places as
"湖南省益阳市" / "Yiyang, Hunan").
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from flask_babel import format_date, gettext, lazy_gettext

from gimark.labels.scanning.reasons import REASONS, VERDICTS
from gimark.trace.errors import InvalidRegionError
from gimark.trace.models import ProductKind
from gimark.trace.regions import Region, lookup, validate_region_code
from gimark.verify_web.i18n import lang, pick

# The verdict's colour: green genuine, amber "look again", red refused, grey not a label code.
TONES: Final = {
    "genuine": "ok",
    "duplicate_suspected": "warn",
    "cannot_verify": "warn",
    "unauthorized": "bad",
    "not_ours": "none",
}
KINDS: Final = {
    ProductKind.PROTECTED_PRODUCT.value: lazy_gettext("Protected geographical-indication product"),
    ProductKind.CERTIFICATION_MARK.value: lazy_gettext(
        "Geographical indication registered as a certification mark"
    ),
    ProductKind.COLLECTIVE_MARK.value: lazy_gettext(
        "Geographical indication registered as a collective mark"
    ),
}
BATCH_STATES: Final = {
    "delivered": lazy_gettext("released for sale"),
    "revoked": lazy_gettext("revoked"),
}
_NOT_RELEASED = lazy_gettext("not released for sale")


def verdict_words(verdict: str) -> str:
    """The verdict's name, e.g. "正品标签"."""
    words = VERDICTS[verdict]
    return pick(words.zh, words.en)


def reason_words(code: str) -> str:
    """What a reason code means to the person holding the package."""
    words = REASONS.get(code)
    return pick(words.zh, words.en) if words is not None else code


def day(value: str | dt.datetime | None) -> str | None:
    """A date as people write it: "2026年11月24日" / "24 Nov 2026" (China's calendar day)."""
    if value is None:
        return None
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    return str(format_date(moment, "y年M月d日" if lang() == "zh" else "d MMM y"))


def place_name(code: str | None) -> str | None:
    """A GB/T 2260 place from the province down: "湖南省益阳市" / "Yiyang, Hunan"."""
    if not code:
        return None
    try:
        validate_region_code(code)
    except InvalidRegionError:
        return code
    chain: list[Region] = []
    for candidate in (code[:2] + "0000", code[:4] + "00", code):
        region = lookup(candidate)  # the most specific known: skip levels the table lacks
        if region.code == candidate and region not in chain:
            chain.append(region)
    return pick("".join(r.name_zh for r in chain), ", ".join(r.name_en for r in reversed(chain)))


def scan_history(scans: dict[str, Any] | None) -> str | None:
    """The scans of a code in one sentence; ``count`` is of distinct scanners."""
    if scans is None:
        return None
    count = int(scans.get("count") or 0)
    if count == 0:
        return str(gettext("This code has not been checked before."))
    first = day(scans.get("first_at"))
    place = place_name((scans.get("first_region") or {}).get("code"))
    # Two languages, so "once" and "N times" are two messages rather than ngettext forms.
    if count == 1 and place:
        text = gettext(
            "This code has been checked once, on %(day)s in %(place)s.", day=first, place=place
        )
    elif count == 1:
        text = gettext("This code has been checked once, on %(day)s.", day=first)
    elif place:
        text = gettext(
            "This code has been checked %(num)d times; first on %(day)s in %(place)s.",
            num=count,
            day=first,
            place=place,
        )
    else:
        text = gettext(
            "This code has been checked %(num)d times; first on %(day)s.", num=count, day=first
        )
    return str(text)


def kind_words(kind: str) -> str:
    """The legal form of the GI, in words."""
    words = KINDS.get(kind)
    return str(words) if words is not None else kind


def batch_words(batch: dict[str, Any]) -> str:
    """The batch as a consumer needs it: its number, whether it was released, and when."""
    status = str(BATCH_STATES.get(batch["status"], _NOT_RELEASED))
    delivered = day(batch.get("delivered_at"))
    if delivered and batch["status"] == "delivered":
        return str(
            gettext(
                "No. %(id)s, %(status)s on %(day)s", id=batch["id"], status=status, day=delivered
            )
        )
    return str(gettext("No. %(id)s, %(status)s", id=batch["id"], status=status))
