"""Fixtures for batch tests: an authorized enterprise, a printer, a signing key, batches;
and for the scan path's statements: scan rows, summaries and counts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from gimark.core.db import Database, utcnow
from gimark.core.settings import Settings
from gimark.keys import services as keys
from gimark.labels.issuing import batches, ledger
from gimark.labels.issuing.allocation import next_serial
from gimark.labels.issuing.codes import encode_url, sign_code
from gimark.labels.issuing.models import Batch, BatchEvent, BatchStatus, VoidedRange
from gimark.labels.scanning.duplicates import SerialSummary
from gimark.labels.scanning.models import ScanRecord, SerialScanner

ADMIN = "admin:test"
PRINTER = "printer:test"
Factory = Callable[..., Any]


@dataclass(frozen=True)
class Parties:
    """An enterprise authorized for a product, and the authorization."""

    enterprise_id: int
    product_id: int
    authorization_id: int


@dataclass(frozen=True)
class Snapshot:
    """Everything a batch operation may change; a refusal must leave it equal."""

    batches: tuple[tuple[Any, ...], ...]
    events: int
    voided: tuple[tuple[int, int, int], ...]
    next_serial: int


@pytest.fixture
def authorized(db: Database, make_enterprise: Factory, make_product: Factory) -> Parties:
    from gimark.trace.authorizations import authorize

    enterprise_id, product_id = make_enterprise().id, make_product().id
    with db.session() as s:
        grant = authorize(
            s,
            enterprise_id=enterprise_id,
            product_id=product_id,
            valid_from=None,
            valid_until=None,
            actor=ADMIN,
        )
        return Parties(enterprise_id, product_id, grant.id)


@pytest.fixture
def printer_id(make_printer: Factory) -> int:
    return int(make_printer().id)


@pytest.fixture
def signing_key(db: Database, settings: Settings) -> str:
    """The active issuer key's kid."""
    from gimark.keys.services import create_key

    assert settings.key_passphrase is not None
    with db.session() as s:
        return create_key(s, settings, settings.key_passphrase).kid


@pytest.fixture
def code_of(db: Database, settings: Settings, signing_key: str) -> Callable[..., str]:
    """The QR text of a serial under ``base`` (default: the settings' base), signed with the
    issuer's active key."""

    def sign(serial: int, base: str | None = None) -> str:
        assert settings.key_passphrase is not None
        with db.session() as s:
            signer = keys.load_signer(s, settings, settings.key_passphrase)
        return encode_url(sign_code(signer, serial), base or settings.base_url)

    return sign


@pytest.fixture
def request_batch(db: Database, authorized: Parties) -> Callable[..., int]:
    """Request a batch of the authorized pair; returns its id."""

    def make(quantity: int = 100, max_quantity: int = 10_000_000) -> int:
        with db.session() as s:
            batch = batches.request_batch(
                s,
                enterprise_id=authorized.enterprise_id,
                product_id=authorized.product_id,
                quantity=quantity,
                actor="enterprise:test",
                max_quantity=max_quantity,
            )
            return batch.id

    return make


@pytest.fixture
def make_batch(
    db: Database, request_batch: Callable[..., int], printer_id: int, signing_key: str
) -> Callable[..., int]:
    """A batch brought to ``status`` (requested, approved, printed or delivered); its id."""

    def make(quantity: int = 100, status: BatchStatus = BatchStatus.APPROVED) -> int:
        batch_id = request_batch(quantity)
        steps = [BatchStatus.APPROVED, BatchStatus.PRINTED, BatchStatus.DELIVERED]
        for step in steps[: steps.index(status) + 1] if status in steps else []:
            with db.session() as s:
                _advance(s, batch_id, step, printer_id)
        return batch_id

    return make


def _advance(s: Any, batch_id: int, step: BatchStatus, printer_id: int) -> None:
    if step is BatchStatus.APPROVED:
        batches.approve_batch(s, batch_id, printer_id=printer_id, actor=ADMIN)
    elif step is BatchStatus.PRINTED:
        batches.mark_printed(s, batch_id, actor=PRINTER, detail={"files": []})
    else:
        ledger.deliver_batch(s, batch_id, actor=PRINTER)


@pytest.fixture
def snapshot(db: Database) -> Callable[[], Snapshot]:
    """Take a :class:`Snapshot` of the batch tables and the serial counter."""

    def take() -> Snapshot:
        with db.session() as s:
            rows = s.execute(
                select(
                    Batch.id,
                    Batch.status,
                    Batch.printer_id,
                    Batch.serial_first,
                    Batch.serial_last,
                    Batch.key_kid,
                    Batch.voided_count,
                    Batch.approved_at,
                    Batch.printed_at,
                    Batch.delivered_at,
                    Batch.revoked_at,
                ).order_by(Batch.id)
            ).all()
            voided = s.execute(
                select(VoidedRange.batch_id, VoidedRange.first, VoidedRange.last).order_by(
                    VoidedRange.id
                )
            ).all()
            return Snapshot(
                batches=tuple(tuple(r) for r in rows),
                events=s.scalar(select(func.count()).select_from(BatchEvent)) or 0,
                voided=tuple((r[0], r[1], r[2]) for r in voided),
                next_serial=next_serial(s),
            )

    return take


ScanRow = Callable[..., dict[str, Any]]


@pytest.fixture
def scan_row() -> ScanRow:
    """A row of ``scans`` (the columns the scan path writes) for ``serial``."""

    def make(serial: int | None, verdict: str = "genuine", scanner: str = "shop") -> dict[str, Any]:
        return {
            "at": utcnow(),
            "serial": serial,
            "typed": False,
            "verdict": verdict,
            "reasons": "",
            "scanner": scanner,
            "region": "430981",
            "lat": None,
            "lon": None,
            "place_source": "ip",
            "ua_family": "other",
            "ip_hash": None,
        }

    return make


@pytest.fixture
def scanned_once() -> Callable[[str], SerialSummary]:
    """The summary of a serial after one scan by ``scanner``."""

    def make(scanner: str) -> SerialSummary:
        now = utcnow()
        return SerialSummary(1, 1, now, "430981", now, scanner, "430981")

    return make


@pytest.fixture
def scan_counts(db: Database) -> Callable[[], tuple[int, int]]:
    """(rows in ``scans``, rows in ``serial_scanners``)."""

    def count() -> tuple[int, int]:
        with db.session() as s:
            scans = s.scalar(select(func.count()).select_from(ScanRecord)) or 0
            scanners = s.scalar(select(func.count()).select_from(SerialScanner)) or 0
        return scans, scanners

    return count
