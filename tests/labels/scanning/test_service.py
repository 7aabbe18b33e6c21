"""Scans end to end on both databases: verdicts, the scan log, concurrent scans of one code."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from gimark.core.db import Database, utcnow
from gimark.core.settings import Settings
from gimark.labels.issuing import batches, ledger
from gimark.labels.issuing.models import BatchStatus
from gimark.labels.issuing.serials import format_serial
from gimark.labels.scanning.duplicates import DetectionConfig
from gimark.labels.scanning.models import ScanRecord, SerialScanner
from gimark.labels.scanning.service import OPTIMISTIC_ATTEMPTS, Scanning, ScanService

BASE = Settings().base_url
HOME = Scanning(scanner="household-1", region="430981", place_source="ip")


@pytest.fixture
def service(db: Database) -> ScanService:
    return ScanService(db, (BASE,), DetectionConfig())


@pytest.fixture
def genuine_code(
    db: Database, make_batch: Callable[..., int], code_of: Callable[[int], str]
) -> str:
    batch_id = make_batch(status=BatchStatus.DELIVERED)
    with db.session() as s:
        serial = batches.get_batch(s, batch_id).serial_first
    assert serial is not None
    return code_of(serial)


def scans_logged(db: Database) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(ScanRecord)) or 0


def test_a_household_scanning_again_stays_genuine(
    db: Database, service: ScanService, genuine_code: str
) -> None:
    now = utcnow()
    first = service.scan(genuine_code, HOME, now)
    again = service.scan(genuine_code, HOME, now + dt.timedelta(minutes=3))
    assert (first.verdict, again.verdict) == ("genuine", "genuine")
    assert again.summary is not None
    assert (again.summary.scan_count, again.summary.scanner_count) == (2, 1)
    assert scans_logged(db) == 2


def test_copies_scanned_far_apart_are_flagged_and_stay_flagged(
    service: ScanService, genuine_code: str
) -> None:
    now = utcnow()
    places = ["110101", "440103", "310101", "510104", "500156", "210102", "610102"]
    outcomes = [
        service.scan(
            genuine_code,
            Scanning(scanner=f"buyer-{i}", region=region, place_source="ip"),
            now + dt.timedelta(hours=i),
        )
        for i, region in enumerate(places)
    ]
    assert outcomes[0].verdict == "genuine"
    assert outcomes[-1].verdict == "duplicate_suspected"
    assert "many_scanners" in outcomes[-1].reasons or "outside_sales_region" in outcomes[-1].reasons
    later = service.scan(genuine_code, HOME, now + dt.timedelta(days=2))
    assert later.verdict == "duplicate_suspected"  # sticky


def test_typed_serials_and_forgeries_do_not_shape_a_genuine_codes_pattern(
    db: Database, service: ScanService, genuine_code: str
) -> None:
    from gimark.labels.issuing.codes import parse

    serial = parse(genuine_code, (BASE,)).serial
    now = utcnow()
    for i in range(10):
        typed = service.scan(format_serial(serial), Scanning(scanner=f"typist-{i}"), now)
        assert typed.verdict == "genuine"
    assert service.scan(genuine_code, HOME, now).verdict == "genuine"
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(SerialScanner)) == 1
    assert scans_logged(db) == 11


def test_not_ours_is_an_answer_and_is_logged(db: Database, service: ScanService) -> None:
    outcome = service.scan("https://weixin.qq.com/x/abc", HOME, utcnow())
    assert (outcome.verdict, outcome.reasons) == ("not_ours", ("not_ours",))
    assert scans_logged(db) == 1


def test_a_scan_after_a_server_restart_is_recorded_once(
    db: Database, service: ScanService, genuine_code: str, server_restart: Callable[[], None]
) -> None:
    assert service.scan(genuine_code, HOME, utcnow()).recorded
    server_restart()
    again = service.scan(genuine_code, HOME, utcnow())
    assert (again.verdict, again.recorded) == ("genuine", True)
    assert again.summary is not None and again.summary.scan_count == 2
    db.dispose()  # the count's own pooled connection died too
    assert scans_logged(db) == 2


def test_a_database_that_is_away_says_cannot_verify(genuine_code: str) -> None:
    from support.pgcluster import free_port

    gone = Database(f"postgresql://nobody@127.0.0.1:{free_port()}/gone", pool_pre_ping=False)
    outcome = ScanService(gone, (BASE,), DetectionConfig()).scan(genuine_code, HOME, utcnow())
    assert (outcome.verdict, outcome.reasons, outcome.recorded) == (
        "cannot_verify",
        ("state_unavailable",),
        False,
    )
    gone.dispose()


@pytest.mark.parametrize("attempts", [OPTIMISTIC_ATTEMPTS, 0], ids=["optimistic", "locking"])
def test_concurrent_scans_of_one_code_lose_no_update(
    db: Database, genuine_code: str, attempts: int
) -> None:
    service = ScanService(db, (BASE,), DetectionConfig(), optimistic_attempts=attempts)
    threads, per_thread = 8, 5
    start = threading.Barrier(threads)
    now = utcnow()

    def scan_many(n: int) -> None:
        start.wait()
        for i in range(per_thread):
            who = Scanning(scanner=f"shop-{n % 2}", region="430981", place_source="ip")
            service.scan(genuine_code, who, now + dt.timedelta(seconds=i))

    workers = [threading.Thread(target=scan_many, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    final = service.scan(genuine_code, HOME, now + dt.timedelta(minutes=1))
    assert final.summary is not None
    assert final.summary.scan_count == threads * per_thread + 1
    assert final.summary.scanner_count == 3
    assert scans_logged(db) == threads * per_thread + 1


def test_scans_judged_from_the_caches_still_see_every_change_of_state(
    db: Database,
    service: ScanService,
    make_batch: Callable[..., int],
    code_of: Callable[[int], str],
) -> None:
    batch_id = make_batch(quantity=10, status=BatchStatus.PRINTED)
    with db.session() as s:
        first = batches.get_batch(s, batch_id).serial_first
    assert first is not None
    code = [code_of(first + i) for i in range(4)]
    now = utcnow()
    assert service.scan(code[0], HOME, now).reasons == ("batch_not_active",)
    assert service.verifier.batches.find(first + 1) is not None  # the next scans can guess
    with db.session() as s:
        ledger.void_serials(s, batch_id, [(first + 1, first + 1)], reason="smudged", actor="t")
    assert "serial_voided" in service.scan(code[1], HOME, now).reasons
    with db.session() as s:
        ledger.deliver_batch(s, batch_id, actor="t")
    assert service.scan(code[2], HOME, now).verdict == "genuine"
    with db.session() as s:
        batches.revoke_batch(s, batch_id, reason="stolen", actor="t")
    assert service.scan(code[3], HOME, now).reasons == ("batch_revoked",)
    assert scans_logged(db) == 4


def test_a_look_judges_as_a_scan_and_writes_nothing(
    db: Database, service: ScanService, genuine_code: str
) -> None:
    now = utcnow()
    looks = [service.look(genuine_code, now + dt.timedelta(minutes=i)) for i in range(5)]
    assert {look.verdict for look in looks} == {"genuine"}
    assert not any(look.recorded for look in looks) and looks[0].summary is None
    assert scans_logged(db) == 0
    first = service.scan(genuine_code, HOME, now + dt.timedelta(hours=1))
    assert first.verdict == "genuine" and first.summary is not None
    assert first.summary.scan_count == 1  # the looks were not folded in
    seen = service.look(genuine_code, now + dt.timedelta(hours=2))
    assert seen.summary == first.summary and scans_logged(db) == 1


def test_a_look_at_a_flagged_code_says_what_its_pattern_says(
    service: ScanService, genuine_code: str
) -> None:
    now = utcnow()
    places = ["110101", "440103", "310101", "510104", "500156", "210102", "610102"]
    for i, region in enumerate(places):
        flagged = service.scan(
            genuine_code,
            Scanning(scanner=f"buyer-{i}", region=region, place_source="ip"),
            now + dt.timedelta(hours=i),
        )
    look = service.look(genuine_code, now + dt.timedelta(days=1))
    assert flagged.verdict == look.verdict == "duplicate_suspected"
    assert set(flagged.summary.reasons if flagged.summary else ()) <= set(look.reasons)


def test_a_look_without_the_database_says_what_it_can(genuine_code: str) -> None:
    from support.pgcluster import free_port

    gone = Database(f"postgresql://nobody@127.0.0.1:{free_port()}/gone", pool_pre_ping=False)
    outcome = ScanService(gone, (BASE,), DetectionConfig()).look(genuine_code, utcnow())
    assert (outcome.verdict, outcome.recorded) == ("cannot_verify", False)
    gone.dispose()
