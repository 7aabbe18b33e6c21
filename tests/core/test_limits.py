"""Rate limits counted in the database: the same for every worker sharing it."""

from __future__ import annotations

import datetime as dt

import pytest

from gimark.core.db import Database
from gimark.core.limits import KEEP_SECONDS, Backoff, Decision, hit, prune, reset

T0 = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def test_the_attempt_after_the_limit_is_refused_until_the_window_ends(db: Database) -> None:
    answers = [hit(db, "k", 3, 60, now=at(i)) for i in range(4)]
    assert answers == [Decision(True, 0)] * 3 + [Decision(False, 57)]
    assert hit(db, "k", 3, 60, now=at(59)) == Decision(False, 1)
    assert hit(db, "k", 3, 60, now=at(60)) == Decision(True, 0)  # a new window


def test_keys_are_counted_apart(db: Database) -> None:
    for _ in range(2):
        hit(db, "ip:aaaa", 2, 60, now=T0)
    assert not hit(db, "ip:aaaa", 2, 60, now=T0).allowed
    assert hit(db, "ip:bbbb", 2, 60, now=T0).allowed


def test_two_databases_objects_on_one_database_share_the_count(db: Database) -> None:
    other = Database(db.url)
    try:
        assert hit(db, "k", 2, 60, now=T0).allowed
        assert hit(other, "k", 2, 60, now=T0).allowed
        assert not hit(db, "k", 2, 60, now=T0).allowed
    finally:
        other.dispose()


@pytest.mark.parametrize(
    ("lockout", "expected"),
    [(1, 10), (2, 20), (3, 40), (4, 50), (5, 50)],  # doubling, up to the most
)
def test_each_lockout_lasts_twice_the_last(db: Database, lockout: int, expected: int) -> None:
    backoff = Backoff(first=10, most=50)
    clock = 0
    for _ in range(lockout):
        while (answer := hit(db, "u", 2, 600, backoff=backoff, now=at(clock))).allowed:
            pass
        clock += answer.retry_after_seconds
    assert answer.retry_after_seconds == expected


def test_attempts_during_a_lockout_do_not_extend_it(db: Database) -> None:
    backoff = Backoff(first=10, most=50)
    for _ in range(3):
        hit(db, "u", 2, 600, backoff=backoff, now=T0)
    assert hit(db, "u", 2, 600, backoff=backoff, now=at(9)) == Decision(False, 1)
    assert hit(db, "u", 2, 600, backoff=backoff, now=at(10)).allowed


def test_reset_forgets_the_count_and_the_lockouts(db: Database) -> None:
    backoff = Backoff(first=10, most=50)
    for _ in range(3):
        hit(db, "u", 2, 600, backoff=backoff, now=T0)
    reset(db, "u")
    assert hit(db, "u", 2, 600, backoff=backoff, now=T0).allowed


@pytest.mark.parametrize(("limit", "window", "key"), [(0, 60, "k"), (1, 0, "k"), (1, 1, "k" * 201)])
def test_nonsense_limits_are_refused(db: Database, limit: int, window: int, key: str) -> None:
    with pytest.raises(ValueError, match=r"rate[- ]limit"):
        hit(db, key, limit, window)


def test_limits_are_read_from_the_environment() -> None:
    from gimark.core.errors import ConfigurationError
    from gimark.core.settings import Settings, load_settings

    env = {"GIMARK_LIMIT_LOGIN_FAILURES": "8", "GIMARK_LIMIT_REPORT_WINDOW": "0"}
    settings = load_settings(env)
    assert (settings.limit_login_failures, settings.limit_report_window) == (8, 0)
    assert load_settings({}).limit_photos_per_scanner == Settings.limit_photos_per_scanner
    with pytest.raises(ConfigurationError, match="GIMARK_LIMIT_UPLOAD_BYTES"):
        load_settings({"GIMARK_LIMIT_UPLOAD_BYTES": "lots"})


def test_pruning_forgets_windows_that_ended_a_day_ago_and_keeps_the_rest(db: Database) -> None:
    hit(db, "old", 1, 60, now=T0)
    hit(db, "recent", 1, 60, now=at(KEEP_SECONDS))
    assert prune(db, now=at(KEEP_SECONDS + 61)) == 1
    assert not hit(db, "recent", 1, 60, now=at(KEEP_SECONDS + 1)).allowed  # still counted
    assert hit(db, "old", 1, 60, now=at(KEEP_SECONDS + 62)).allowed
