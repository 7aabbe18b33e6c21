"""The scan path's statements on both databases: lock and claim, store and log; and a scan
whose pooled connection died in the pool is still recorded once."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest
from sqlalchemy import Connection, func, select

import gimark.core.db
from gimark.core.db import Database, utcnow
from gimark.core.settings import Settings
from gimark.keys import services as keys
from gimark.labels import batches
from gimark.labels.codes import encode_url, sign_code
from gimark.labels.duplicates import DetectionConfig, SerialSummary
from gimark.labels.models import BatchStatus
from gimark.labels.scan_models import ScanRecord, SerialScanner
from gimark.labels.scan_store import lock_and_claim, read_summary, record
from gimark.labels.scanning import Scanning, ScanService

BASE = Settings().base_url
SERIAL = 42


def row(serial: int | None, verdict: str = "genuine") -> dict[str, object]:
    return {
        "at": utcnow(),
        "serial": serial,
        "typed": False,
        "verdict": verdict,
        "reasons": "",
        "scanner": "shop",
        "region": "430981",
        "lat": None,
        "lon": None,
        "place_source": "ip",
        "ua_family": "other",
        "ip_hash": None,
    }


def summary_after_one_scan(scanner: str) -> SerialSummary:
    now = utcnow()
    return SerialSummary(
        scan_count=1,
        scanner_count=1,
        first_at=now,
        first_region="430981",
        last_at=now,
        last_scanner=scanner,
        last_region="430981",
        outside_scanners=0,
        outside_provinces=(),
        travel_conflicts=0,
        site_count=0,
        sites=(),
        reasons=(),
        flagged_at=None,
    )


def counts(db: Database) -> tuple[int, int]:
    with db.session() as s:
        scans = s.scalar(select(func.count()).select_from(ScanRecord)) or 0
        scanners = s.scalar(select(func.count()).select_from(SerialScanner)) or 0
    return scans, scanners


def test_the_first_scan_finds_a_placeholder_and_claims_its_scanner(db: Database) -> None:
    now = utcnow()
    before, is_new = db.in_transaction(lambda conn: lock_and_claim(conn, SERIAL, "a", now))
    assert (before, is_new) == (None, True)
    again = db.in_transaction(lambda conn: lock_and_claim(conn, SERIAL, "a", now))
    assert again == (None, False)  # a placeholder is no scan; the scanner is known now
    other = db.in_transaction(lambda conn: lock_and_claim(conn, SERIAL, "b", now))
    assert other == (None, True)


def test_record_writes_the_summary_and_the_row_together(db: Database) -> None:
    now = utcnow()
    stored = summary_after_one_scan("a")

    def scan(conn: Connection) -> None:
        lock_and_claim(conn, SERIAL, "a", now)
        record(conn, row(SERIAL), stored)

    db.in_transaction(scan)
    with db.reading() as conn:
        assert read_summary(conn, SERIAL) == stored
    assert counts(db) == (1, 1)


def test_a_scan_that_shapes_nothing_writes_only_its_row(db: Database) -> None:
    db.in_transaction(lambda conn: record(conn, row(None, "not_ours"), None))
    with db.reading() as conn:
        assert read_summary(conn, SERIAL) is None
    assert counts(db) == (1, 0)


def test_a_scan_on_a_connection_that_died_in_the_pool_is_recorded_once(
    db: Database,
    settings: Settings,
    make_batch: Callable[..., int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if db.dialect != "postgresql":
        pytest.skip("only a server connection can die in the pool")
    monkeypatch.setattr(gimark.core.db, "IDLE_BEFORE_PING", 3600.0)  # never ping: it dies in use
    batch_id = make_batch(status=BatchStatus.DELIVERED)
    assert settings.key_passphrase is not None
    with db.session() as s:
        serial = batches.get_batch(s, batch_id).serial_first
        signer = keys.load_signer(s, settings, settings.key_passphrase)
    assert serial is not None
    code = encode_url(sign_code(signer, serial), BASE)
    service = ScanService(db, (BASE,), DetectionConfig())
    who = Scanning(scanner="household-1", region="430981", place_source="ip")
    assert service.scan(code, who, utcnow()).recorded
    pid = db.in_transaction(lambda conn: conn.exec_driver_sql("SELECT pg_backend_pid()").scalar())
    url = db.engine.url
    with psycopg.connect(
        host=url.host, port=url.port, user=url.username, dbname=url.database, autocommit=True
    ) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    again = service.scan(code, who, utcnow())
    assert (again.verdict, again.recorded) == ("genuine", True)
    assert again.summary is not None and again.summary.scan_count == 2
    assert counts(db) == (2, 1)
