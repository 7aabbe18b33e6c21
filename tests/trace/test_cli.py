"""The registry commands, run as a user runs them (both databases)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest

from gimark.trace.dates import CHINA

USCC = "91350100M000100Y43"
PRINTER_USCC = "91430100M00000050K"
Run = Callable[..., Any]


def one_line_error(result: Any) -> str:
    """The stderr of a failed command: exactly one line, no traceback."""
    assert result.exit_code != 0
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    [line] = result.stderr.splitlines()
    return str(line)


@pytest.fixture
def product_id(run: Run) -> int:
    result = run(
        "product", "add", "--name-zh", "沅江芦笋", "--name-en", "Yuanjiang Asparagus",
        "--kind", "protected-product", "--region", "430981", "--reg-no", "AGI-2019-01",
        "--holder", "沅江市芦笋协会", "--json",
    )  # fmt: skip
    return int(result.json()["id"])


@pytest.fixture
def enterprise_id(run: Run) -> int:
    return int(
        run("enterprise", "add", "--name", "沅江芦笋合作社", "--uscc", USCC, "--json").json()["id"]
    )


def test_product_add_and_list(run: Run, product_id: int) -> None:
    [product] = run("product", "list", "--json").json()
    assert product == product | {
        "id": product_id,
        "name_zh": "沅江芦笋",
        "name_en": "Yuanjiang Asparagus",
        "kind": "protected-product",
        "region": "430981",
        "reg_no": "AGI-2019-01",
        "holder": "沅江市芦笋协会",
    }
    assert "沅江芦笋" in run("product", "list").stdout


def test_product_add_prints_only_the_id(run: Run) -> None:
    result = run(
        "product", "add", "--name-zh", "西湖龙井", "--name-en", "West Lake Longjing",
        "--kind", "certification-mark", "--region", "330106", "--json",
    )  # fmt: skip
    assert json.loads(result.stdout) == {"id": 1}


def test_enterprise_add_and_show(run: Run, enterprise_id: int) -> None:
    shown = run("enterprise", "show", str(enterprise_id), "--json").json()
    assert (shown["uscc"], shown["region"], shown["status"]) == (USCC, "350100", "active")
    assert shown["region_name_en"] == "Fuzhou"
    assert [c["action"] for c in shown["changes"]] == ["create"]
    assert shown["changes"][0]["actor"].startswith("cli:")
    [listed] = run("enterprise", "list", "--json").json()
    assert listed["id"] == enterprise_id


@pytest.mark.parametrize(
    ("code", "detail"),
    [
        ("91350100M000100Y44", "position 18"),
        ("91350100M00010", "18 characters"),
        ("91350100M0001I0Y43", "'I' is not allowed"),
    ],
)
def test_invalid_credit_code_is_one_clear_line(run: Run, code: str, detail: str) -> None:
    line = one_line_error(run("enterprise", "add", "--name", "某公司", "--uscc", code, ok=False))
    assert line.startswith("gimark: 统一社会信用代码")
    assert detail in line
    assert run("enterprise", "list", "--json").json() == []


def test_invalid_credit_code_as_json(run: Run) -> None:
    result = run("printer", "add", "--name", "印务", "--uscc", USCC[:-1] + "0", "--json", ok=False)
    error = json.loads(one_line_error(result))["error"]
    assert error["code"] == "invalid_credit_code"
    assert "should be 3, found 0" in error["en"]
    assert run("printer", "list", "--json").json() == []


def test_enterprise_status_commands(run: Run, enterprise_id: int) -> None:
    ident = str(enterprise_id)
    suspended = run("enterprise", "suspend", ident, "--reason", "抽检不合格", "--json").json()
    assert (suspended["id"], suspended["action"], suspended["status"]) == (
        enterprise_id, "suspend", "suspended",
    )  # fmt: skip
    run("enterprise", "reinstate", ident, "--json")
    assert run("enterprise", "revoke", ident, "--reason", "伪造产地", "--json").json()[
        "status"
    ] == ("revoked")
    shown = run("enterprise", "show", ident, "--json").json()
    assert [(c["action"], c["reason"]) for c in shown["changes"]] == [
        ("create", ""), ("suspend", "抽检不合格"), ("reinstate", ""), ("revoke", "伪造产地"),
    ]  # fmt: skip
    line = one_line_error(run("enterprise", "reinstate", ident, ok=False))
    assert "revocation is final" in line and "一票否决" in line


def test_status_change_refusals(run: Run, enterprise_id: int) -> None:
    line = one_line_error(run("enterprise", "suspend", str(enterprise_id), ok=False))
    assert "reason must not be empty" in line
    result = run("enterprise", "suspend", "999", "--reason", "x", ok=False)
    assert result.exit_code == 3
    assert "enterprise 999 not found" in one_line_error(result)


def test_future_effective_change(run: Run, enterprise_id: int) -> None:
    result = run(
        "enterprise", "revoke", str(enterprise_id), "--reason", "到期不续",
        "--effective", "2999-01-01", "--json",
    )  # fmt: skip
    assert result.json()["status"] == "active"  # not yet
    assert result.json()["effective_at"] == "2998-12-31T16:00:00+00:00"
    line = one_line_error(
        run("enterprise", "suspend", str(enterprise_id), "--reason", "x", "--effective", "soon",
            ok=False)
    )  # fmt: skip
    assert "'soon' is not a date" in line


def test_authorize_with_china_calendar_days(run: Run, enterprise_id: int, product_id: int) -> None:
    result = run(
        "authorize", "--enterprise", str(enterprise_id), "--product", str(product_id),
        "--from", "2026-01-01", "--until", "2026-12-31", "--json",
    )  # fmt: skip
    granted = result.json()
    # 00:00 in China on the first day; the exclusive end is the day after the last, 00:00 China.
    assert granted["valid_from"] == "2025-12-31T16:00:00+00:00"
    assert granted["valid_until"] == "2026-12-31T16:00:00+00:00"
    [listed] = run("authorization", "list", "--enterprise", str(enterprise_id), "--json").json()
    assert (listed["id"], listed["status"]) == (granted["id"], "active")
    assert listed["state"] == (
        "authorized" if _today() <= dt.date(2026, 12, 31) else "authorization_expired"
    )


def _today() -> dt.date:
    return dt.datetime.now(CHINA).date()


def test_authorize_refusals(run: Run, enterprise_id: int, product_id: int) -> None:
    base = ("authorize", "--enterprise", str(enterprise_id), "--product", str(product_id))
    line = one_line_error(run(*base, "--from", "2026-02-01", "--until", "2026-01-31", ok=False))
    assert "validity period is empty" in line
    assert "does not match the format" in one_line_error(
        run(*base, "--from", "2026-13-01", ok=False)
    )
    unknown = run("authorize", "--enterprise", "404", "--product", str(product_id), ok=False)
    assert unknown.exit_code == 3 and "enterprise 404 not found" in one_line_error(unknown)
    run("enterprise", "suspend", str(enterprise_id), "--reason", "整改")
    assert "is suspended" in one_line_error(run(*base, ok=False))
    assert run("authorization", "list", "--json").json() == []


def test_authorization_status_commands(run: Run, enterprise_id: int, product_id: int) -> None:
    ident = str(
        run("authorize", "--enterprise", str(enterprise_id), "--product", str(product_id),
            "--json").json()["id"]
    )  # fmt: skip
    assert (
        run("authorization", "suspend", ident, "--reason", "抽检", "--json").json()["status"]
        == "suspended"
    )
    [listed] = run("authorization", "list", "--json").json()
    assert listed["state"] == "authorization_suspended"
    run("authorization", "reinstate", ident)
    run("authorization", "revoke", ident, "--reason", "违规")
    shown = run("enterprise", "show", str(enterprise_id), "--json").json()
    assert shown["authorizations"][0]["state"] == "authorization_revoked"


def test_printer_add_and_list(run: Run) -> None:
    printed = run("printer", "add", "--name", "湖南印务有限公司", "--uscc", PRINTER_USCC, "--json")
    assert printed.json() == {"id": 1}
    [printer] = run("printer", "list", "--json").json()
    assert printer == {
        "id": 1,
        "name": "湖南印务有限公司",
        "uscc": PRINTER_USCC,
        "status": "active",
    }
    again = run("printer", "add", "--name", "重复", "--uscc", PRINTER_USCC, ok=False)
    assert "already registered as printer 1" in one_line_error(again)


def test_a_revoked_enterprise_revokes_its_authorizations(
    run: Run, enterprise_id: int, product_id: int
) -> None:
    run("authorize", "--enterprise", str(enterprise_id), "--product", str(product_id))
    run("enterprise", "revoke", str(enterprise_id), "--reason", "一票否决")
    [listed] = run("authorization", "list", "--product", str(product_id), "--json").json()
    assert (listed["status"], listed["state"]) == ("active", "authorization_revoked")
    shown = run("enterprise", "show", str(enterprise_id)).stdout
    assert "authorization_revoked" in shown and "一票否决" in shown
