"""Calendar dates as the registry means them: days in China (Asia/Shanghai, UTC+8 all year).

An authorization "from 2026-01-01 until 2026-12-31" starts at 2026-01-01 00:00 in China and
includes all of 31 December. It is stored as the half-open interval
``[2026-01-01 00:00+08:00, 2027-01-01 00:00+08:00)`` in UTC, so that "is ``at`` inside?" is
``valid_from <= at < valid_until`` with no end-of-day rounding anywhere.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")


def start_of_day(day: dt.date) -> dt.datetime:
    """The first instant of ``day`` in China, in UTC."""
    return dt.datetime.combine(day, dt.time(), tzinfo=CHINA).astimezone(dt.UTC)


def end_of_day(day: dt.date) -> dt.datetime:
    """The exclusive end of ``day`` in China (the next day's first instant), in UTC."""
    return start_of_day(day + dt.timedelta(days=1))


def parse_instant(text: str) -> dt.datetime:
    """Read a date (its start in China) or an ISO 8601 time (no offset: China time), in UTC.

    Raises:
        ValueError: ``text`` is neither.
    """
    value = dt.datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        # A bare date parses as midnight; either way a zone-less time is a time in China.
        value = value.replace(tzinfo=CHINA)
    return value.astimezone(dt.UTC)
