"""The batches recent scans found, by serial range: what a label's first scan needs to be
judged without reading the database first.

What it holds is a guess: a batch may have been revoked, a range voided since it was read. The
write that records such a scan checks the guess in the same statement
(:func:`gimark.labels.scanning.first_scans.store_first_scan`) and lands only if it still holds;
if not, the scan is judged again from what the database says. So the cache needs no
invalidation, only a bound on its size.
"""

from __future__ import annotations

import bisect
import threading
from collections import OrderedDict
from typing import Final

from gimark.labels.scanning.state import BatchInfo

__all__ = ["BatchRanges"]

DEFAULT_SIZE: Final = 4096  # batches; each a few hundred bytes


class BatchRanges:
    """The last ``size`` batches seen, found by a serial in their range."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._batches: OrderedDict[int, BatchInfo] = OrderedDict()  # by id, least recent first
        self._starts: list[tuple[int, int]] = []  # (serial_first, id), sorted

    def remember(self, batch: BatchInfo) -> None:
        """Keep ``batch`` (replacing what was known of it)."""
        if batch.serial_first is None or batch.serial_last is None:
            return  # no serials yet: nothing to find it by
        with self._lock:
            if batch.id in self._batches:
                self._batches.move_to_end(batch.id)
                self._batches[batch.id] = batch
                return
            self._batches[batch.id] = batch
            bisect.insort(self._starts, (batch.serial_first, batch.id))
            if len(self._batches) > self.size:
                _, oldest = self._batches.popitem(last=False)
                assert oldest.serial_first is not None
                self._starts.remove((oldest.serial_first, oldest.id))

    def find(self, serial: int) -> BatchInfo | None:
        """The batch whose range holds ``serial``, if one is known."""
        with self._lock:
            at = bisect.bisect_right(self._starts, (serial, float("inf"))) - 1
            if at < 0:
                return None
            batch = self._batches[self._starts[at][1]]
        if batch.serial_last is None or serial > batch.serial_last:
            return None
        return batch
