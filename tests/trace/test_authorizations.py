"""Authorizations: granting, status history and "was it allowed at that moment" (both databases)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from gimark.core.db import Database, utcnow
from gimark.core.errors import NotFoundError
from gimark.trace import services
from gimark.trace.authorizations import (
    AuthorizationState,
    Reason,
    authorization_state,
    authorize,
    change_authorization_status,
    get_authorization,
    judge,
    list_authorizations,
    require_authorized,
    turning_points,
)
from gimark.trace.errors import (
    AuthorizationExpiredError,
    AuthorizationRevokedError,
    AuthorizationSuspendedError,
    EnterpriseNotActiveError,
    IllegalTransitionError,
    InvalidValidityError,
    MissingValueError,
    NotAuthorizedError,
    OverlappingAuthorizationError,
    RevocationFinalError,
)
from gimark.trace.models import (
    Action,
    Authorization,
    AuthorizationStatusChange,
    Enterprise,
    Status,
)

DAY = dt.timedelta(days=1)
TICK = dt.timedelta(microseconds=1)
Factory = Callable[..., Any]


def counts(db: Database) -> tuple[int, int]:
    """Authorizations and their changes: a refusal must leave both unchanged."""
    with db.session() as s:
        return (
            s.scalar(select(func.count()).select_from(Authorization)) or 0,
            s.scalar(select(func.count()).select_from(AuthorizationStatusChange)) or 0,
        )


@pytest.fixture
def pair(make_enterprise: Factory, make_product: Factory) -> tuple[int, int]:
    """An active enterprise and a product: (enterprise id, product id)."""
    return make_enterprise().id, make_product().id


def grant(
    db: Database, pair: tuple[int, int], start: dt.datetime | None, until: dt.datetime | None
) -> int:
    with db.session() as s:
        return authorize(
            s,
            enterprise_id=pair[0],
            product_id=pair[1],
            valid_from=start,
            valid_until=until,
            actor="admin",
        ).id


def change(
    db: Database,
    ident: int,
    action: Action,
    at: dt.datetime | None = None,
    *,
    enterprise: bool = False,
) -> None:
    with db.session() as s:
        change_fn = services.change_enterprise_status if enterprise else change_authorization_status
        change_fn(s, ident, action, reason=f"{action.value} reason", actor="admin", effective_at=at)


def reasons(db: Database, pair: tuple[int, int], moments: list[dt.datetime]) -> list[Reason]:
    with db.session() as s:
        return [
            authorization_state(s, enterprise_id=pair[0], product_id=pair[1], at=at).reason
            for at in moments
        ]


# --- granting --------------------------------------------------------------------------------


def test_authorize_from_now_open_ended(db: Database, pair: tuple[int, int]) -> None:
    before = utcnow()
    ident = grant(db, pair, None, None)
    with db.session() as s:
        stored = get_authorization(s, ident)
        assert before <= stored.valid_from <= utcnow()
        assert stored.valid_until is None and stored.status is Status.ACTIVE
        [created] = stored.changes
        assert (created.action, created.actor, created.effective_at) == (
            Action.CREATE,
            "admin",
            stored.valid_from,
        )


def test_backdated_authorization_is_in_force_from_its_start(
    db: Database, pair: tuple[int, int]
) -> None:
    start = utcnow() - 100 * DAY
    ident = grant(db, pair, start, start + 365 * DAY)
    with db.session() as s:
        assert get_authorization(s, ident).changes[0].effective_at == start
    assert reasons(db, pair, [start - TICK, start]) == [Reason.NOT_AUTHORIZED, Reason.AUTHORIZED]


def test_unknown_enterprise_or_product_is_refused(db: Database, pair: tuple[int, int]) -> None:
    with pytest.raises(NotFoundError, match="enterprise 404 not found"):
        grant(db, (404, pair[1]), None, None)
    with pytest.raises(NotFoundError, match="product 405 not found"):
        grant(db, (pair[0], 405), None, None)
    assert counts(db) == (0, 0)


@pytest.mark.parametrize(
    ("path", "match"),
    [
        ([Action.SUSPEND], "enterprise .* is suspended"),
        ([Action.REVOKE], "enterprise .* is revoked"),
    ],
)
def test_inactive_enterprise_is_refused(
    db: Database, pair: tuple[int, int], path: list[Action], match: str
) -> None:
    for action in path:
        change(db, pair[0], action, enterprise=True)
    with pytest.raises(EnterpriseNotActiveError, match=match):
        grant(db, pair, None, None)
    assert counts(db) == (0, 0)


def test_reinstated_enterprise_can_be_authorized(db: Database, pair: tuple[int, int]) -> None:
    change(db, pair[0], Action.SUSPEND, enterprise=True)
    change(db, pair[0], Action.REINSTATE, enterprise=True)
    assert grant(db, pair, None, None) > 0


@pytest.mark.parametrize("length", [dt.timedelta(0), -DAY])
def test_empty_period_is_refused(db: Database, pair: tuple[int, int], length: dt.timedelta) -> None:
    start = utcnow()
    with pytest.raises(InvalidValidityError, match="is not after its start"):
        grant(db, pair, start, start + length)
    assert counts(db) == (0, 0)


def test_overlapping_authorization_is_refused(db: Database, pair: tuple[int, int]) -> None:
    start = utcnow()
    first = grant(db, pair, start, start + 30 * DAY)
    for period in [(start + 29 * DAY, None), (start - DAY, start + TICK), (start - DAY, None)]:
        with pytest.raises(OverlappingAuthorizationError, match=f"holds authorization {first}"):
            grant(db, pair, *period)
    # Back to back is not an overlap: the end is exclusive.
    grant(db, pair, start + 30 * DAY, start + 60 * DAY)
    grant(db, pair, start - 10 * DAY, start)
    assert counts(db) == (3, 3)


def test_suspended_authorization_still_blocks_a_new_one(
    db: Database, pair: tuple[int, int]
) -> None:
    first = grant(db, pair, None, None)
    change(db, first, Action.SUSPEND)
    with pytest.raises(OverlappingAuthorizationError):
        grant(db, pair, None, None)


def test_revoked_authorization_blocks_only_until_its_revocation(
    db: Database, pair: tuple[int, int]
) -> None:
    start = utcnow() - 10 * DAY
    first = grant(db, pair, start, None)
    revoked_at = utcnow()
    change(db, first, Action.REVOKE, revoked_at)
    with pytest.raises(OverlappingAuthorizationError):
        grant(db, pair, start, None)  # would re-authorize the time before the revocation
    assert grant(db, pair, revoked_at, None) != first


def test_other_products_do_not_overlap(
    db: Database, pair: tuple[int, int], make_product: Factory
) -> None:
    grant(db, pair, None, None)
    grant(db, (pair[0], make_product(name_en="Other").id), None, None)
    with db.session() as s:
        assert len(list_authorizations(s, enterprise_id=pair[0])) == 2
        assert len(list_authorizations(s, product_id=pair[1])) == 1


# --- status changes --------------------------------------------------------------------------


def test_authorization_status_changes(db: Database, pair: tuple[int, int]) -> None:
    ident = grant(db, pair, None, None)
    for action in (Action.SUSPEND, Action.REINSTATE, Action.REVOKE):
        change(db, ident, action)
    with db.session() as s:
        stored = get_authorization(s, ident)
        assert stored.status is Status.REVOKED
        assert [c.action for c in stored.changes] == [
            Action.CREATE,
            Action.SUSPEND,
            Action.REINSTATE,
            Action.REVOKE,
        ]


def test_authorization_status_refusals(db: Database, pair: tuple[int, int]) -> None:
    ident = grant(db, pair, None, None)
    with pytest.raises(IllegalTransitionError, match=f"authorization {ident} is active"):
        change(db, ident, Action.REINSTATE)
    with pytest.raises(MissingValueError, match="reason"), db.session() as s:
        change_authorization_status(s, ident, Action.SUSPEND, reason="", actor="admin")
    change(db, ident, Action.REVOKE)
    with pytest.raises(RevocationFinalError, match="revocation is final"):
        change(db, ident, Action.REINSTATE)
    with pytest.raises(NotFoundError, match="authorization 999 not found"):
        change(db, 999, Action.SUSPEND)
    assert counts(db) == (1, 2)


# --- authorization_state: the answer at a moment ---------------------------------------------


def test_state_over_the_validity_period(db: Database, pair: tuple[int, int]) -> None:
    start = utcnow() - 10 * DAY
    until = start + 30 * DAY
    grant(db, pair, start, until)
    moments = [start - TICK, start, until - TICK, until, until + 365 * DAY]
    assert reasons(db, pair, moments) == [
        Reason.NOT_AUTHORIZED,
        Reason.AUTHORIZED,
        Reason.AUTHORIZED,
        Reason.EXPIRED,
        Reason.EXPIRED,
    ]


def test_state_follows_the_authorization_history(db: Database, pair: tuple[int, int]) -> None:
    t = utcnow()
    ident = grant(db, pair, t - 10 * DAY, t + 30 * DAY)
    change(db, ident, Action.SUSPEND, t + DAY)
    change(db, ident, Action.REINSTATE, t + 2 * DAY)
    change(db, ident, Action.REVOKE, t + 3 * DAY)
    moments = [
        t,
        t + DAY - TICK,
        t + DAY,
        t + 2 * DAY,
        t + 3 * DAY - TICK,
        t + 3 * DAY,
        t + 99 * DAY,
    ]
    assert reasons(db, pair, moments) == [
        Reason.AUTHORIZED,
        Reason.AUTHORIZED,
        Reason.SUSPENDED,
        Reason.AUTHORIZED,
        Reason.AUTHORIZED,
        Reason.REVOKED,
        Reason.REVOKED,  # revoked outranks expired
    ]


def test_state_follows_the_enterprise_history(db: Database, pair: tuple[int, int]) -> None:
    t = utcnow()
    grant(db, pair, t - 10 * DAY, t + 5 * DAY)
    change(db, pair[0], Action.SUSPEND, t + DAY, enterprise=True)
    change(db, pair[0], Action.REINSTATE, t + 2 * DAY, enterprise=True)
    change(db, pair[0], Action.REVOKE, t + 3 * DAY, enterprise=True)
    moments = [t - 5 * DAY, t + DAY, t + 2 * DAY, t + 3 * DAY, t + 10 * DAY]
    assert reasons(db, pair, moments) == [
        Reason.AUTHORIZED,  # before the enterprise was registered: the backdated grant speaks
        Reason.SUSPENDED,
        Reason.AUTHORIZED,
        Reason.REVOKED,
        Reason.REVOKED,  # expired by then too, but the revocation is the news
    ]


def test_the_state_changes_only_at_the_turning_points(db: Database, pair: tuple[int, int]) -> None:
    t = utcnow()
    ident = grant(db, pair, t - 10 * DAY, t + 5 * DAY)
    change(db, ident, Action.SUSPEND, t - DAY)
    change(db, ident, Action.REINSTATE, t)
    change(db, pair[0], Action.SUSPEND, t + DAY, enterprise=True)
    change(db, pair[0], Action.REINSTATE, t + 2 * DAY, enterprise=True)
    grant(db, pair, t + 5 * DAY, None)  # the renewal
    with db.session() as s:
        rows = s.scalars(select(Authorization).where(Authorization.enterprise_id == pair[0])).all()
        enterprise = s.get(Enterprise, pair[0])
        points = turning_points(rows, enterprise)
        ends = [points[0] - DAY, *points, t + 99 * DAY]
        spans = list(itertools.pairwise(ends))
        answers = []
        for start, end in spans:
            inside = [start, start + (end - start) / 2, end - TICK]
            answer = {judge(rows, enterprise, at).reason for at in inside}
            assert len(answer) == 1, (start, end, answer)  # one answer from start to end
            answers.append(answer.pop())
    # Some instants change nothing (the rows' own creation): the answers, runs collapsed.
    assert [answer for answer, _ in itertools.groupby(answers)] == [
        Reason.NOT_AUTHORIZED,  # before the grant
        Reason.AUTHORIZED,
        Reason.SUSPENDED,
        Reason.AUTHORIZED,
        Reason.SUSPENDED,  # the enterprise's suspension
        Reason.AUTHORIZED,  # reinstated, then renewed
    ]


def test_state_without_an_authorization(db: Database, pair: tuple[int, int]) -> None:
    change(db, pair[0], Action.REVOKE, enterprise=True)
    with db.session() as s:
        for enterprise_id, product_id in [pair, (404, pair[1]), (pair[0], 405)]:
            state = authorization_state(
                s, enterprise_id=enterprise_id, product_id=product_id, at=utcnow()
            )
            assert state == AuthorizationState(ok=False, reason=Reason.NOT_AUTHORIZED)


def test_a_renewal_answers_for_its_own_period(db: Database, pair: tuple[int, int]) -> None:
    t = utcnow()
    old = grant(db, pair, t - 20 * DAY, t)
    new = grant(db, pair, t, None)
    with db.session() as s:
        states = [
            authorization_state(s, enterprise_id=pair[0], product_id=pair[1], at=at)
            for at in (t - DAY, t + DAY)
        ]
    assert states == [
        AuthorizationState(ok=True, reason=Reason.AUTHORIZED, authorization_id=old),
        AuthorizationState(ok=True, reason=Reason.AUTHORIZED, authorization_id=new),
    ]


@pytest.mark.parametrize(
    ("setup", "error", "code"),
    [
        ("none", NotAuthorizedError, "not_authorized"),
        ("expired", AuthorizationExpiredError, "authorization_expired"),
        ("suspended", AuthorizationSuspendedError, "authorization_suspended"),
        ("revoked", AuthorizationRevokedError, "authorization_revoked"),
    ],
)
def test_require_authorized_raises_the_reason(
    db: Database, pair: tuple[int, int], setup: str, error: type[NotAuthorizedError], code: str
) -> None:
    t = utcnow()
    if setup != "none":
        ident = grant(db, pair, t - 10 * DAY, t - DAY if setup == "expired" else None)
        if setup in ("suspended", "revoked"):
            change(db, ident, Action.SUSPEND if setup == "suspended" else Action.REVOKE)
    with pytest.raises(error, match=f"enterprise {pair[0]}") as caught, db.session() as s:
        require_authorized(s, enterprise_id=pair[0], product_id=pair[1], at=utcnow())
    assert caught.value.code == code


def test_require_authorized_returns_the_state(db: Database, pair: tuple[int, int]) -> None:
    ident = grant(db, pair, None, None)
    with db.session() as s:
        state = require_authorized(s, enterprise_id=pair[0], product_id=pair[1], at=utcnow())
    assert state == AuthorizationState(ok=True, reason=Reason.AUTHORIZED, authorization_id=ident)
    assert state.reason == "authorized"  # a str, as the verification contract spells it
