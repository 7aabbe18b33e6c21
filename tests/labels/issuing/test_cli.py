"""The batch and run commands, run as an admin and a printer run them (both databases)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gimark.core.db import Database
from gimark.labels.issuing.serials import format_serial

Run = Callable[..., Any]


def one_line_error(result: Any) -> str:
    """The stderr of a failed command: exactly one line, no traceback."""
    assert result.exit_code != 0
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    [line] = result.stderr.splitlines()
    return str(line)


@pytest.fixture
def requested(run: Run, authorized: Any) -> Callable[[int], int]:
    """``gimark batch request`` for the authorized pair; returns the batch id."""

    def request(quantity: int) -> int:
        result = run(
            "batch", "request", "--enterprise", str(authorized.enterprise_id),
            "--product", str(authorized.product_id), "--quantity", str(quantity), "--json",
        )  # fmt: skip
        assert set(result.json()) == {"id"}
        return int(result.json()["id"])

    return request


@pytest.fixture
def approve(run: Run, printer_id: int, signing_key: str) -> Callable[[int], dict[str, Any]]:
    def approve(batch_id: int) -> dict[str, Any]:
        result = run("batch", "approve", str(batch_id), "--printer", str(printer_id), "--json")
        return dict(result.json())

    return approve


def test_a_batch_from_request_to_delivery(
    run: Run,
    requested: Callable[[int], int],
    approve: Callable[[int], dict[str, Any]],
    db: Database,
) -> None:
    batch_id = requested(100)
    approved = approve(batch_id)
    assert approved == approved | {
        "id": batch_id,
        "serial_first": 1,
        "serial_last": 100,
        "serial_first_printed": format_serial(1),
        "serial_last_printed": format_serial(100),
    }
    _print(db, batch_id)  # what `run generate` records once its files are written

    voided = run(
        "run", "void", str(batch_id), format_serial(7), f"{format_serial(10)}..12", "--json"
    ).json()
    assert voided["voided"] == [[7, 7], [10, 12]] and voided["count"] == 4
    assert voided["ledger"] == {
        "ordered": 100, "printed": 100, "voided": 4, "delivered": 0, "balanced": False,
    }  # fmt: skip

    delivered = run("batch", "deliver", str(batch_id), "--delivered", "96", "--json").json()
    assert delivered["status"] == "delivered"
    assert delivered["ledger"] == {
        "ordered": 100, "printed": 100, "voided": 4, "delivered": 96, "balanced": True,
    }  # fmt: skip

    shown = run("batch", "show", str(batch_id), "--json").json()
    assert [e["action"] for e in shown["events"]] == [
        "request", "approve", "generate", "void", "deliver",
    ]  # fmt: skip
    assert shown["events"][3]["reason"] == "spoiled in printing / 印制损耗"
    assert shown["events"][0]["actor"].startswith("cli:")
    assert [(v["first"], v["last_printed"]) for v in shown["voided"]] == [
        (7, format_serial(7)),
        (10, format_serial(12)),
    ]
    assert "balanced" in run("batch", "show", str(batch_id)).stdout

    revoked = run("batch", "revoke", str(batch_id), "--reason", "recall", "--json").json()
    assert revoked["status"] == "revoked"
    [listed] = run("batch", "list", "--status", "revoked", "--json").json()
    assert listed["id"] == batch_id and listed["ledger"]["balanced"] is True


def _print(db: Database, batch_id: int) -> None:
    from gimark.labels.issuing.batches import mark_printed

    with db.session() as s:
        mark_printed(s, batch_id, actor="printer:test", detail={"files": []})


def test_a_wrong_delivered_count_is_refused_with_the_figures(
    run: Run,
    requested: Callable[[int], int],
    approve: Callable[[int], dict[str, Any]],
    db: Database,
) -> None:
    batch_id = requested(50)
    approve(batch_id)
    _print(db, batch_id)
    run("run", "void", str(batch_id), "1..5")

    result = run("batch", "deliver", str(batch_id), "--delivered", "50", "--json", ok=False)
    error = json.loads(one_line_error(result))["error"]
    assert error["code"] == "ledger_imbalance"
    assert "5 voided, so 45 must be delivered, but 50 were reported" in error["en"]
    assert run("batch", "show", str(batch_id), "--json").json()["status"] == "printed"


@pytest.mark.parametrize("quantity", ["0", "-3", "1001"])
def test_request_refuses_a_bad_quantity(run: Run, authorized: Any, quantity: str) -> None:
    result = run(
        "batch", "request", "--enterprise", str(authorized.enterprise_id),
        "--product", str(authorized.product_id), "--quantity", quantity,
        env={"GIMARK_MAX_BATCH_QUANTITY": "1000"}, ok=False,
    )  # fmt: skip
    assert f"quantity {quantity} is not valid" in one_line_error(result)
    assert run("batch", "list", "--json").json() == []


def test_request_refuses_an_unauthorized_enterprise(
    run: Run, make_enterprise: Any, authorized: Any
) -> None:
    stranger = make_enterprise(name="无授权企业").id
    result = run(
        "batch", "request", "--enterprise", str(stranger),
        "--product", str(authorized.product_id), "--quantity", "10", ok=False,
    )  # fmt: skip
    assert "was not authorized" in one_line_error(result)


def test_approving_twice_names_the_status(
    run: Run,
    requested: Callable[[int], int],
    approve: Callable[[int], dict[str, Any]],
    printer_id: int,
) -> None:
    batch_id = requested(10)
    approve(batch_id)
    result = run("batch", "approve", str(batch_id), "--printer", str(printer_id), ok=False)
    assert f"batch {batch_id} is approved and cannot be approved" in one_line_error(result)


def test_voiding_a_serial_of_another_batch_names_both(
    run: Run, requested: Callable[[int], int], approve: Callable[[int], dict[str, Any]]
) -> None:
    mine, other = requested(10), requested(10)
    approve(mine)
    approve(other)
    result = run("run", "void", str(mine), format_serial(15), ok=False)
    assert f"belongs to batch {other}, not to batch {mine}" in one_line_error(result)
    assert run("batch", "show", str(mine), "--json").json()["voided_count"] == 0


def test_void_refuses_a_mistyped_serial(
    run: Run, requested: Callable[[int], int], approve: Callable[[int], dict[str, Any]]
) -> None:
    batch_id = requested(10)
    approve(batch_id)
    typo = format_serial(3)[:-1] + ("1" if format_serial(3)[-1] != "1" else "2")
    result = run("run", "void", str(batch_id), typo, ok=False)
    assert "probably a typo" in one_line_error(result)


def test_reject_needs_a_reason(run: Run, requested: Callable[[int], int]) -> None:
    batch_id = requested(10)
    assert run("batch", "reject", str(batch_id), ok=False).exit_code != 0
    rejected = run("batch", "reject", str(batch_id), "--reason", "duplicate", "--json").json()
    assert rejected == {"id": batch_id, "status": "rejected"}


def test_generating_a_revoked_batch_is_refused_before_any_work(
    run: Run,
    requested: Callable[[int], int],
    approve: Callable[[int], dict[str, Any]],
    tmp_path: Path,
) -> None:
    batch_id = requested(10)
    approve(batch_id)
    run("batch", "revoke", str(batch_id), "--reason", "recall")
    out = tmp_path / "run"
    result = run("run", "generate", str(batch_id), "--out", str(out), "--json", ok=False)
    error = json.loads(one_line_error(result))["error"]
    assert error["code"] == "batch_not_printable" and "revoked" in error["en"]
    assert not out.exists()


def test_generate_refuses_an_unknown_format(run: Run) -> None:
    result = run("run", "generate", "1", "--format", "csv,tiff", ok=False)
    assert "choose from csv, pdf, png, svg" in one_line_error(result)


def test_generate_writes_the_run_and_marks_the_batch_printed(
    run: Run,
    requested: Callable[[int], int],
    approve: Callable[[int], dict[str, Any]],
    tmp_path: Path,
) -> None:
    pytest.importorskip("gimark.labels.printing.runs")
    batch_id = requested(12)
    approve(batch_id)
    out = tmp_path / "run"
    result = run("run", "generate", str(batch_id), "--out", str(out), "--format", "csv", "--json")
    written = result.json()
    assert written["count"] == 12
    assert written["files"] and all(Path(f).is_file() for f in written["files"])
    assert run("batch", "show", str(batch_id), "--json").json()["status"] == "printed"
