"""The verify JSON of the contract, built from a scan's outcome; the page shows the same."""

from __future__ import annotations

import functools
from typing import Any, Final

from gimark.labels.issuing.serials import format_serial
from gimark.labels.scanning.reasons import reason_json, verdict_json
from gimark.labels.scanning.registry_cache import Party
from gimark.labels.scanning.service import Outcome
from gimark.labels.scanning.state import BatchInfo
from gimark.trace.errors import InvalidRegionError
from gimark.trace.regions import lookup


@functools.lru_cache(maxsize=4096)  # the callers only serialize it
def region_json(code: str | None) -> dict[str, str] | None:
    """A region code with its names, or None."""
    if code is None:
        return None
    try:
        region = lookup(code)
    except InvalidRegionError:
        return {"code": code, "name_zh": code, "name_en": code}
    return {"code": code, "name_zh": region.name_zh, "name_en": region.name_en}


NOT_RELEASED: Final = "batch_not_active"


def withheld(outcome: Outcome) -> bool:
    """Whether the answer says only "not released": a typed serial of an undelivered batch.

    A typed serial shows no signature, and serials run in sequence: anyone can type their way
    through labels that are still at the printer. Naming the product, the enterprise (its
    credit code) or the batch of those would publish who is about to get labels, and the
    other reasons (voided, the authorization) what state the run is in. A scanned code proves
    its signature and keeps the full answer.
    """
    return outcome.finding.typed and NOT_RELEASED in outcome.reasons


def outcome_json(outcome: Outcome) -> dict[str, Any]:
    """``{"verdict", "reasons", "serial", "product", "enterprise", "batch", "scans", "trace"}``.

    For a :func:`withheld` answer every key is there, but the reasons are ``batch_not_active``
    alone and product, enterprise, batch and scans are null.
    """
    finding = outcome.finding
    serial = finding.serial
    hide = withheld(outcome)
    party = None if hide else finding.party
    return {
        # "batch_not_active" is an unauthorized reason, and unauthorized beats every verdict.
        "verdict": outcome.verdict,
        "verdict_text": verdict_json(outcome.verdict),
        "reasons": [reason_json(code) for code in ((NOT_RELEASED,) if hide else outcome.reasons)],
        "serial": format_serial(serial) if serial is not None else None,
        "serial_number": serial,
        "typed": finding.typed,
        "product": None if party is None else _product(party),
        "enterprise": None if party is None else _enterprise(party),
        "batch": None if hide else _batch(outcome),
        "scans": None if hide else _scans(outcome),
        "trace": [],  # origin trace events: none recorded yet for any batch
        "recorded": outcome.recorded,
    }


# A party (product, enterprise) lives for one state generation and shows the same on every
# scan of its labels: its JSON is built once. The callers only serialize it.
@functools.lru_cache(maxsize=256)
def _product(party: Party) -> dict[str, Any]:
    product = party.product
    return {
        "id": product.id,
        "name_zh": product.name_zh,
        "name_en": product.name_en,
        "kind": product.kind.value,
        "region": region_json(product.region),
        "reg_no": product.reg_no,
        "holder": product.holder,
    }


@functools.lru_cache(maxsize=256)
def _enterprise(party: Party) -> dict[str, Any]:
    return {"name": party.enterprise.name, "uscc": party.enterprise.uscc}


def _batch(outcome: Outcome) -> dict[str, Any] | None:
    batch = outcome.finding.batch
    return None if batch is None else _batch_json(batch)


@functools.lru_cache(maxsize=1024)  # a batch shows the same on every scan of its labels
def _batch_json(batch: BatchInfo) -> dict[str, Any]:
    return {
        "id": batch.id,
        "status": batch.status.value,
        "approved_at": batch.approved_at.isoformat() if batch.approved_at else None,
        "delivered_at": batch.delivered_at.isoformat() if batch.delivered_at else None,
    }


def _scans(outcome: Outcome) -> dict[str, Any] | None:
    summary = outcome.summary
    if outcome.finding.party is None:
        return None  # not ours, or forged: the serial's history belongs to another label
    if summary is None:
        return {"count": 0, "first_at": None, "first_region": None}
    return {
        # Repeat scans by one scanner count once, as brand-protection platforms count sessions.
        "count": summary.scanner_count,
        "total": summary.scan_count,
        "first_at": summary.first_at.isoformat(),
        "first_region": region_json(summary.first_region),
        "last_at": summary.last_at.isoformat(),
    }
