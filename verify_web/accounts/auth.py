"""Signing in to the portal: Flask-Login sessions, CSRF on every form, role checks.

The session cookie holds only the account id and its session version, signed with the app's
SECRET_KEY. Each request reloads the account, so a deactivated account is signed out at its next
request, and so is a session older than the account's version: signing out and changing the
password raise the version, which ends every session of the account, copied cookies included.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext, lazy_gettext
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFProtect
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired

from gimark.core.limits import Backoff, RateLimitedError, reset
from gimark.core.settings import Settings
from gimark.verify_web import errors, throttle
from gimark.verify_web.accounts.errors import AccountError, RoleRequiredError
from gimark.verify_web.accounts.models import Account, Role
from gimark.verify_web.accounts.services import authenticate, end_sessions
from gimark.verify_web.extensions import database
from gimark.verify_web.i18n import error_message
from gimark.verify_web.throttle import address_key, value_key

F = TypeVar("F", bound=Callable[..., Any])

login_manager = LoginManager()
csrf = CSRFProtect()
bp = Blueprint("auth", __name__, url_prefix="/portal")

ROLE_ZH = {
    Role.ADMIN: "管理员",
    Role.ENTERPRISE: "用标企业",
    Role.PRINTER: "印制企业",
    Role.INSPECTOR: "市场监管",
}


@dataclass(frozen=True)
class PortalUser(UserMixin):  # type: ignore[misc]  # flask_login ships no types
    """The signed-in account, detached from the database session it was read in."""

    id: int
    username: str
    role: Role
    enterprise_id: int | None
    printer_id: int | None
    session_version: int

    @classmethod
    def of(cls, account: Account) -> PortalUser:
        """A snapshot of ``account``."""
        return cls(
            account.id,
            account.username,
            account.role,
            account.enterprise_id,
            account.printer_id,
            account.session_version,
        )

    def get_id(self) -> str:
        """What Flask-Login keeps in the session: ``<account id>:<session version>``.

        The version rides in the id so that Flask-Login stores it at sign-in and hands it back
        to :func:`_load_user` on every request, with no second session key to keep in step.
        """
        return f"{self.id}:{self.session_version}"


@login_manager.user_loader  # type: ignore[untyped-decorator]  # flask_login ships no types
def _load_user(user_id: str) -> PortalUser | None:
    # Anything but "<id>:<version>" (a cookie from before versions, a forged value) is simply
    # no session: the visitor is anonymous and gets the sign-in page, never an error.
    account_id, _, version = user_id.partition(":")
    if not (account_id.isdigit() and version.isdigit()):
        return None
    with database(current_app).session() as s:
        account = s.get(Account, int(account_id))
        if account is None or not account.active or account.session_version != int(version):
            return None
        return PortalUser.of(account)


def signed_in() -> PortalUser:
    """The signed-in user (call only behind :func:`role_required`)."""
    user = current_user._get_current_object()
    assert isinstance(user, PortalUser)
    return user


def role_required(*roles: Role) -> Callable[[F], F]:
    """Let a view run only for a signed-in account with one of ``roles``.

    Anonymous visitors are sent to the sign-in page; other roles get RoleRequiredError (403).
    """

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                raise RoleRequiredError(
                    role="/".join(roles), role_zh="/".join(ROLE_ZH[r] for r in roles)
                )
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate


class LoginForm(FlaskForm):  # type: ignore[misc]  # flask_wtf ships no types
    username = StringField(lazy_gettext("Username"), validators=[InputRequired()])
    password = PasswordField(lazy_gettext("Password"), validators=[InputRequired()])


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site; None for anything that could leave it."""
    if not target or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """The sign-in form; a failure answers 401 with the reason in the reader's language.

    Attempts are limited per username (with lockouts that double) and per address; while
    either is over its limit even the right password is refused, 429 with Retry-After, so
    that guessing learns nothing. Signing in clears the username's count.
    """
    form = LoginForm()
    if form.validate_on_submit():
        settings: Settings = current_app.config["GIMARK_SETTINGS"]
        user_key = value_key(
            "login", form.username.data.strip().lower()
        )  # as authenticate() reads it
        try:
            throttle.check(
                address_key("login"), settings.limit_login_per_address, settings.limit_login_window
            )
            throttle.check(
                user_key,
                settings.limit_login_failures,
                settings.limit_login_window,
                backoff=Backoff(settings.limit_login_lockout, settings.limit_login_lockout_max),
            )
        except RateLimitedError as exc:
            page = render_template("portal/login.html", form=form, error=error_message(exc))
            return page, exc.http_status, errors.retry_after(exc)
        try:
            with database(current_app).session() as s:
                account = authenticate(s, username=form.username.data, password=form.password.data)
                user = PortalUser.of(account)
        except AccountError as exc:
            return render_template("portal/login.html", form=form, error=error_message(exc)), 401
        reset(database(current_app), user_key)
        login_user(user)
        return redirect(safe_next(request.args.get("next")) or url_for("portal.index"))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("portal.index"))
    return render_template("portal/login.html", form=form, error=None)


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """Sign out (POST with a CSRF token only, so a link on another site cannot do it).

    Signing out ends every session of the account, not only this browser's: a copy of the
    cookie (a shared computer, a stolen cookie) must not outlive the sign-out.
    """
    if current_user.is_authenticated:
        with database(current_app).session() as s:
            end_sessions(s, signed_in().id)
    logout_user()
    flash(gettext("You are signed out."), "info")
    return redirect(url_for("auth.login"))


def protect_forms(blueprint: Blueprint) -> None:
    """Check the CSRF token of every POST to ``blueprint``.

    Opt-in per blueprint rather than app-wide: the JSON API (reports from apps) carries no
    form token, and must not be refused for it.
    """

    def check() -> None:
        if current_app.config.get("WTF_CSRF_ENABLED", True):
            csrf.protect()

    blueprint.before_request(check)


protect_forms(bp)  # once, at import: a blueprint cannot change after its first registration


def init_app(app: Flask) -> None:
    """Install Flask-Login and CSRF protection; register the sign-in pages."""
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)  # see protect_forms
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", 8 * 3600)  # seconds: a working day's tab
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"
    # Flask-Login flashes login_message through this callback; a lazy string cannot go into
    # the session cookie, so the message is translated here, at flash time.
    login_manager.localize_callback = lambda _message: gettext("Please sign in to see this page.")
    errors.serve_html_errors(app, bp)
    app.register_blueprint(bp)
