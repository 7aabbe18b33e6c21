"""Authorizations: an enterprise's right to use the special mark on one GI product.

An authorization has a validity period ``[valid_from, valid_until)`` (``valid_until`` None:
open-ended; see :mod:`gimark.trace.dates` for how calendar dates map onto it) and its own
status history. Whether an enterprise was allowed to use the mark at a moment combines three
things: the period, the authorization's history and the enterprise's history — a suspended or
revoked enterprise suspends or revokes all of its authorizations (动态监管, 一票否决).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from gimark.core.db import utcnow
from gimark.core.errors import not_found
from gimark.trace import history
from gimark.trace.errors import (
    AuthorizationExpiredError,
    AuthorizationRevokedError,
    AuthorizationSuspendedError,
    EnterpriseNotActiveError,
    InvalidValidityError,
    NotAuthorizedError,
    OverlappingAuthorizationError,
)
from gimark.trace.models import Action, Authorization, AuthorizationStatusChange, Enterprise, Status
from gimark.trace.services import (
    ACTOR_LIMIT,
    clean_text,
    get_enterprise,
    get_product,
    record_change,
)


class Reason(enum.StrEnum):
    """Why an enterprise was, or was not, allowed to use the mark at a moment.

    The values other than ``authorized`` are reason codes of the verification contract.
    """

    AUTHORIZED = "authorized"
    NOT_AUTHORIZED = "not_authorized"  # no authorization covers the moment (or not yet begun)
    EXPIRED = "authorization_expired"
    SUSPENDED = "authorization_suspended"
    REVOKED = "authorization_revoked"


# When several things are wrong, the gravest is reported: a revoked user's expired
# authorization is news about the revocation, not the date.
_GRAVITY = (
    Reason.AUTHORIZED,
    Reason.NOT_AUTHORIZED,
    Reason.EXPIRED,
    Reason.SUSPENDED,
    Reason.REVOKED,
)
_BY_STATUS = {
    Status.ACTIVE: Reason.AUTHORIZED,
    Status.SUSPENDED: Reason.SUSPENDED,
    Status.REVOKED: Reason.REVOKED,
}
_ERRORS: dict[Reason, type[NotAuthorizedError]] = {
    Reason.NOT_AUTHORIZED: NotAuthorizedError,
    Reason.EXPIRED: AuthorizationExpiredError,
    Reason.SUSPENDED: AuthorizationSuspendedError,
    Reason.REVOKED: AuthorizationRevokedError,
}


@dataclass(frozen=True)
class AuthorizationState:
    """The answer to "was this enterprise allowed to use the mark on this product at ``at``"."""

    ok: bool
    reason: Reason  # a str: "authorized", "not_authorized", "authorization_suspended", …
    authorization_id: int | None = None  # the authorization the answer rests on, if any


def authorize(
    session: Session,
    *,
    enterprise_id: int,
    product_id: int,
    valid_from: dt.datetime | None,
    valid_until: dt.datetime | None,
    actor: str,
) -> Authorization:
    """Authorize an enterprise to use the mark on a product over ``[valid_from, valid_until)``.

    ``valid_from`` None means from now; ``valid_until`` None means open-ended (until revoked).

    Raises:
        NotFoundError: no such enterprise or product.
        EnterpriseNotActiveError: the enterprise is suspended or revoked now.
        InvalidValidityError: ``valid_until`` is not after the start.
        OverlappingAuthorizationError: a live authorization of the same pair overlaps the period.
    """
    enterprise = get_enterprise(session, enterprise_id, lock=True)  # serializes the overlap check
    product = get_product(session, product_id)
    now = utcnow()
    status = history.status_at(enterprise.changes, now)
    if status is not Status.ACTIVE:
        raise EnterpriseNotActiveError(
            id=enterprise.id,
            status=str(status),
            status_zh="" if status is None else history.STATUS_ZH[status],
        )
    start = now if valid_from is None else valid_from
    if valid_until is not None and valid_until <= start:
        raise InvalidValidityError(
            valid_from=history.format_instant(start),
            valid_until=history.format_instant(valid_until),
        )
    _refuse_overlap(session, enterprise.id, product.id, start, valid_until)
    authorization = Authorization(
        enterprise=enterprise,
        product=product,
        valid_from=start,
        valid_until=valid_until,
        status=Status.ACTIVE,
        created_at=now,
    )
    authorization.changes.append(
        AuthorizationStatusChange(
            action=Action.CREATE,
            status=Status.ACTIVE,
            reason="",
            actor=clean_text(actor, "actor", "操作人", ACTOR_LIMIT),
            # A backdated authorization is in force from its start, so its history must be too;
            # a future one is recorded now, so that it can be suspended before it begins.
            effective_at=min(start, now),
            recorded_at=now,
        )
    )
    session.add(authorization)
    session.flush()
    return authorization


def _refuse_overlap(
    session: Session,
    enterprise_id: int,
    product_id: int,
    start: dt.datetime,
    until: dt.datetime | None,
) -> None:
    for other in _pair(session, enterprise_id, product_id):
        other_until = _effective_until(other)
        if (until is None or other.valid_from < until) and (
            other_until is None or start < other_until
        ):
            raise OverlappingAuthorizationError(
                enterprise_id=enterprise_id, product_id=product_id, existing_id=other.id
            )


def _effective_until(authorization: Authorization) -> dt.datetime | None:
    """Where an authorization's period really ends: its end, or its revocation if earlier.

    A suspended authorization still counts in full: a new one over it would get around the
    suspension instead of reinstating.
    """
    last = history.latest_change(authorization.changes)
    until = authorization.valid_until
    if last is not None and last.status is Status.REVOKED:
        until = last.effective_at if until is None else min(until, last.effective_at)
    return until


def _pair(session: Session, enterprise_id: int, product_id: int) -> Sequence[Authorization]:
    query = (
        select(Authorization)
        .where(Authorization.enterprise_id == enterprise_id, Authorization.product_id == product_id)
        .options(selectinload(Authorization.changes))
        .order_by(Authorization.id)
    )
    return session.scalars(query).all()


def get_authorization(
    session: Session, authorization_id: int, *, lock: bool = False
) -> Authorization:
    """The authorization with ``authorization_id``; ``lock`` holds its row (see get_enterprise).

    Raises:
        NotFoundError: there is none.
    """
    query = select(Authorization).where(Authorization.id == authorization_id)
    authorization = session.scalar(query.with_for_update() if lock else query)
    if authorization is None:
        raise not_found("授权", "authorization", authorization_id)
    return authorization


def list_authorizations(
    session: Session, *, enterprise_id: int | None = None, product_id: int | None = None
) -> Sequence[Authorization]:
    """Authorizations, oldest first, optionally of one enterprise and/or one product."""
    query = (
        select(Authorization)
        .options(
            selectinload(Authorization.changes),
            selectinload(Authorization.enterprise).selectinload(Enterprise.changes),
        )
        .order_by(Authorization.id)
    )
    if enterprise_id is not None:
        query = query.where(Authorization.enterprise_id == enterprise_id)
    if product_id is not None:
        query = query.where(Authorization.product_id == product_id)
    return session.scalars(query).all()


def change_authorization_status(
    session: Session,
    authorization_id: int,
    action: Action,
    *,
    reason: str,
    actor: str,
    effective_at: dt.datetime | None = None,
) -> Authorization:
    """Suspend, revoke or reinstate one authorization, from ``effective_at`` (default: now) on.

    The rules are the enterprise's (see
    :func:`gimark.trace.services.change_enterprise_status`).

    Raises:
        NotFoundError: no such authorization.
        MissingValueError: no reason for a suspension or revocation.
        ChangeOutOfOrderError: ``effective_at`` precedes the authorization's latest change.
        RevocationFinalError: the authorization is revoked.
        IllegalTransitionError: the action does not apply to the authorization's status.
    """
    authorization = get_authorization(session, authorization_id, lock=True)
    subject = history.Subject("授权", "authorization", authorization.id)
    record_change(
        session,
        authorization,
        authorization.changes,
        AuthorizationStatusChange,
        subject,
        action,
        reason,
        actor,
        effective_at,
    )
    return authorization


def authorization_state(
    session: Session, *, enterprise_id: int, product_id: int, at: dt.datetime
) -> AuthorizationState:
    """Whether the enterprise was allowed to use the mark on the product at the instant ``at``.

    Unknown ids answer ``not_authorized``: this is a question, not an operation. Among several
    authorizations of the pair, one that allows is enough; otherwise the gravest reason wins.
    The enterprise's own suspension or revocation at ``at`` then turns an otherwise allowing
    (or expired) answer into ``authorization_suspended`` / ``authorization_revoked``.
    """
    enterprise = session.get(Enterprise, enterprise_id)
    return judge(_pair(session, enterprise_id, product_id), enterprise, at)


def judge(
    authorizations: Iterable[Authorization], enterprise: Enterprise | None, at: dt.datetime
) -> AuthorizationState:
    """The answer of :func:`authorization_state` from rows already loaded (histories included).

    Verification keeps these rows cached and asks at every scan, without a query.
    """
    best = AuthorizationState(ok=False, reason=Reason.NOT_AUTHORIZED)
    for authorization in authorizations:
        reason = own_reason_at(authorization, at)
        if _better(reason, best.reason):
            best = AuthorizationState(reason is Reason.AUTHORIZED, reason, authorization.id)
    if enterprise is None:
        return best
    reason = _with_enterprise(best.reason, enterprise, at)
    return AuthorizationState(reason is Reason.AUTHORIZED, reason, best.authorization_id)


def turning_points(
    authorizations: Iterable[Authorization], enterprise: Enterprise | None
) -> tuple[dt.datetime, ...]:
    """The instants at which :func:`judge`'s answer for these rows may change, in order:
    from one of them up to the next it is the same (a change is in force from its instant
    on, a period starts at ``valid_from`` and ends at ``valid_until``)."""
    instants: set[dt.datetime] = set()
    for authorization in authorizations:
        instants.update(change.effective_at for change in authorization.changes)
        instants.add(authorization.valid_from)
        if authorization.valid_until is not None:
            instants.add(authorization.valid_until)
    if enterprise is not None:
        instants.update(change.effective_at for change in enterprise.changes)
    return tuple(sorted(instants))


def reason_at(authorization: Authorization, at: dt.datetime) -> Reason:
    """One authorization's answer at ``at``, its enterprise's status included."""
    return _with_enterprise(own_reason_at(authorization, at), authorization.enterprise, at)


def _with_enterprise(reason: Reason, enterprise: Enterprise, at: dt.datetime) -> Reason:
    """Let the enterprise's suspension or revocation at ``at`` outrank ``reason``."""
    if reason is Reason.NOT_AUTHORIZED:  # nothing granted then: the enterprise adds nothing
        return reason
    status = history.status_at(enterprise.changes, at)
    # Before the enterprise was registered (None) is no obstacle: a backdated authorization
    # speaks for that time.
    enterprise_reason = Reason.AUTHORIZED if status is None else _BY_STATUS[status]
    return max(reason, enterprise_reason, key=_GRAVITY.index)


def _better(reason: Reason, than: Reason) -> bool:
    if reason is Reason.AUTHORIZED or than is Reason.AUTHORIZED:
        return reason is Reason.AUTHORIZED and than is not Reason.AUTHORIZED
    return _GRAVITY.index(reason) > _GRAVITY.index(than)


def own_reason_at(authorization: Authorization, at: dt.datetime) -> Reason:
    """One authorization's own answer at ``at``: its period and history, not the enterprise's."""
    status = history.status_at(authorization.changes, at)
    if status is Status.REVOKED:
        return Reason.REVOKED
    if at < authorization.valid_from or status is None:
        return Reason.NOT_AUTHORIZED
    if authorization.valid_until is not None and at >= authorization.valid_until:
        return Reason.EXPIRED
    return _BY_STATUS[status]


def require_authorized(
    session: Session, *, enterprise_id: int, product_id: int, at: dt.datetime
) -> AuthorizationState:
    """Like :func:`authorization_state`, but a refusal raises (for callers that must stop).

    Raises:
        NotAuthorizedError: not allowed at ``at``; the error's class and ``code`` carry the
            reason (AuthorizationSuspendedError, AuthorizationRevokedError,
            AuthorizationExpiredError are subclasses).
    """
    state = authorization_state(session, enterprise_id=enterprise_id, product_id=product_id, at=at)
    if not state.ok:
        raise _ERRORS[state.reason](
            enterprise_id=enterprise_id, product_id=product_id, at=history.format_instant(at)
        )
    return state
