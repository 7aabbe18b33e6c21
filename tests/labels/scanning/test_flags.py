"""Clearing a duplicate flag: scans through the real JSON API, the clearing through the CLI."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from gimark.core.db import Database
from gimark.labels.issuing import batches
from gimark.labels.issuing.models import BatchStatus
from gimark.labels.issuing.serials import format_serial
from gimark.labels.scanning.models import FlagClearance, ScanRecord

Run = Callable[..., Any]


@pytest.fixture
def genuine(
    db: Database, make_batch: Callable[..., int], code_of: Callable[[int], str]
) -> tuple[str, str]:
    """The QR text of a delivered label, and its printed serial."""
    batch_id = make_batch(status=BatchStatus.DELIVERED)
    with db.session() as s:
        serial = batches.get_batch(s, batch_id).serial_first
    assert serial is not None
    return code_of(serial), format_serial(serial)


def scan(app: Flask, code: str, person: int) -> str:
    """The verdict a person at their own address gets (a new phone: the cookie it is issued
    is a real one, and it is their scanner)."""
    response = app.test_client().get(
        "/api/v1/verify",
        query_string={"code": code},
        environ_base={"REMOTE_ADDR": f"192.0.2.{person}"},
    )
    return str(response.get_json()["verdict"])


def test_a_cleared_flag_lets_the_next_scan_be_judged_afresh(
    app: Flask, db: Database, run: Run, genuine: tuple[str, str]
) -> None:
    code, serial = genuine
    verdicts = [scan(app, code, person) for person in range(1, 7)]
    assert verdicts[-1] == "duplicate_suspected"  # six people: one more than max_scanners
    listed = run("flag", "list", "--json").json()
    assert [(row["serial"], row["reasons"]) for row in listed] == [(serial, ["many_scanners"])]

    before = dt.datetime.now(dt.UTC)
    cleared = run("flag", "clear", serial, "--reason", "店内展销会多人查验", "--json").json()
    assert cleared["serial"] == serial and cleared["cleared_reasons"] == ["many_scanners"]

    assert scan(app, code, 7) == "genuine"
    assert run("flag", "list", "--json").json() == []
    with db.session() as s:
        row = s.scalars(select(FlagClearance)).one()
        logged = s.scalars(select(ScanRecord)).all()
    assert format_serial(row.serial) == serial and row.reason == "店内展销会多人查验"
    assert row.actor.startswith("cli:") and row.actor == cleared["actor"]
    assert before <= row.at <= dt.datetime.now(dt.UTC) and row.scanner_count == 6
    assert len(logged) >= 7  # the scan log is the evidence: clearing keeps it


def test_clearing_a_serial_that_is_not_flagged_is_one_line(
    app: Flask, run: Run, genuine: tuple[str, str]
) -> None:
    code, serial = genuine
    assert scan(app, code, 1) == "genuine"
    result = run("flag", "clear", serial, "--reason", "查看", "--json", ok=False)
    assert result.exit_code == 3 and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert '"not_flagged"' in result.stderr
    blank = run("flag", "clear", serial, "--reason", "  ", ok=False)
    assert blank.exit_code == 1 and "解除标记须说明理由" in blank.stderr
    typo = run("flag", "clear", "0000-0000-01Y", "--reason", "x", ok=False)
    assert typo.exit_code != 0 and len(typo.stderr.strip().splitlines()) == 1


def test_no_flagged_serials_is_said(run: Run) -> None:
    assert run("flag", "list", "--json").json() == []
    assert "no flagged serials" in run("flag", "list").stdout
