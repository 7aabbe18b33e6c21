"""The batches a verifier remembers, found by a serial in their range."""

from __future__ import annotations

import datetime as dt

from gimark.labels.issuing.models import BatchStatus
from gimark.labels.scanning.batch_ranges import BatchRanges
from gimark.labels.scanning.state import BatchInfo

T0 = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def batch(id: int, first: int | None, last: int | None, status: BatchStatus) -> BatchInfo:
    return BatchInfo(id, 1, 1, status, first, last, "kid", T0, T0, T0)


def test_a_serial_finds_the_batch_whose_range_holds_it() -> None:
    ranges = BatchRanges()
    ranges.remember(batch(1, 100, 199, BatchStatus.DELIVERED))
    ranges.remember(batch(2, 300, 399, BatchStatus.DELIVERED))
    found = [ranges.find(serial) for serial in (100, 199, 300, 399)]
    assert [b.id if b is not None else None for b in found] == [1, 1, 2, 2]
    assert ranges.find(99) is None  # before every range
    assert ranges.find(250) is None  # between two ranges: not known, not "no batch"
    assert ranges.find(400) is None


def test_what_is_remembered_last_replaces_what_was_known() -> None:
    ranges = BatchRanges()
    ranges.remember(batch(1, 100, 199, BatchStatus.PRINTED))
    ranges.remember(batch(1, 100, 199, BatchStatus.DELIVERED))
    found = ranges.find(120)
    assert found is not None and found.status is BatchStatus.DELIVERED


def test_a_batch_without_serials_is_not_kept() -> None:
    ranges = BatchRanges()
    ranges.remember(batch(1, None, None, BatchStatus.REQUESTED))
    assert ranges.find(0) is None


def test_the_least_recently_remembered_batch_goes_first() -> None:
    ranges = BatchRanges(size=2)
    ranges.remember(batch(1, 100, 199, BatchStatus.DELIVERED))
    ranges.remember(batch(2, 200, 299, BatchStatus.DELIVERED))
    ranges.remember(batch(1, 100, 199, BatchStatus.DELIVERED))  # seen again: now the latest
    ranges.remember(batch(3, 300, 399, BatchStatus.DELIVERED))
    assert ranges.find(250) is None
    assert [ranges.find(s) is not None for s in (150, 350)] == [True, True]
