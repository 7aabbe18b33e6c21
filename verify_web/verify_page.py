"""The verification page: what a phone shows after scanning a label's QR code.

Routes: the QR URL (``<base path>/<payload>``, the path also in lower case: some scanner
apps lower-case URLs), ``/check?code=`` for a typed serial, and the report form
(``/report``, ``/report/thanks``). Every verdict is an answer, so every one is a 200 page;
it works with JavaScript off (``static/verify.js`` only adds the location button).
"""

from __future__ import annotations

from typing import Final
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from werkzeug.routing import PathConverter
from werkzeug.wrappers import Response

from gimark.core.settings import Settings
from gimark.labels.issuing.codes import trim
from gimark.verify_web import errors, verdict_view
from gimark.verify_web.accounts.auth import protect_forms
from gimark.verify_web.i18n import error_message
from gimark.verify_web.reports.errors import ReportError
from gimark.verify_web.reports.views import read_report, receive
from gimark.verify_web.scan import is_scan, scan_answered, scan_request
from gimark.verify_web.throttle import limit_typed_lookup
from gimark.verify_web.verdict_json import outcome_json

NAME: Final = "verify_page"
# A measured place helps only where a signed code's scan pattern is kept.
_LOCATABLE: Final = frozenset({"genuine", "duplicate_suspected", "unauthorized"})
_REPORT_OPEN: Final = frozenset({"duplicate_suspected", "unauthorized"})


def scan(base: str, payload: str) -> Response:
    """The page of a scanned QR URL."""
    # The QR text as printed: the base it was printed under (scheme and case do not matter
    # to the parser) and the payload, whatever the scanner app did to the rest of the URL.
    return _answer(f"{base}/{payload}", scanned=True)


def check() -> ResponseReturnValue:
    """A typed serial (or a pasted QR text); without one, the form to type it.

    Raises:
        RateLimitedError: too many typed serials from this address (429, Retry-After).
    """
    code = trim(request.args.get("code", ""))
    if not code:
        return render_template("verify/check.html")
    limit_typed_lookup(code)
    return _answer(code, scanned=False)


def _answer(text: str, scanned: bool) -> Response:
    outcome, scanner, new = scan_request(text)
    data = outcome_json(outcome)
    locate = (
        scanned
        and outcome.finding.party is not None  # a signed code of ours, its pattern kept
        and outcome.verdict in _LOCATABLE
        and not request.args.get("lat")
    )
    page = render_template(
        "verify.html",
        data=data,
        view=verdict_view,
        code=text,
        locate=locate,
        report_open=outcome.verdict in _REPORT_OPEN,
        reportable=is_scan(request),
    )
    return scan_answered(make_response(page, 200), scanner, new)


def report_form() -> str:
    """The report form on its own (linked to, and shown again when a report is refused)."""
    return render_template("verify/report.html", code=request.args.get("code", ""), error=None)


def report() -> ResponseReturnValue:
    """The page's report form: stored as the API stores it, then a thank-you page."""
    try:
        draft, photo = read_report(request)
        report_id = receive(draft, photo)
    except ReportError as exc:
        form = request.form
        page = render_template(
            "verify/report.html",
            error=error_message(exc),
            code=form.get("code", ""),
            text=form.get("text", ""),
            contact=form.get("contact", ""),
        )
        return page, exc.http_status, errors.retry_after(exc)
    # 303: the thank-you page is fetched with GET, and reloading it does not post again.
    return redirect(url_for(".thanks", id=report_id, lang=request.args.get("lang")), 303)


def thanks() -> str:
    """After a report: thanks, and its number to quote if the reporter calls."""
    number = request.args.get("id", "")
    return render_template("verify/thanks.html", number=number if number.isdigit() else None)


class _Payload(PathConverter):
    """The rest of the path, whatever it holds: werkzeug's ``path`` stops at a newline, and a
    damaged QR text with one must still get its answer, not a 404."""

    regex = r"[^/][\s\S]*?"


def base_paths(bases: tuple[str, ...]) -> dict[str, str]:
    """Each URL path a QR may open (as printed, and lower-cased) and the base it belongs to."""
    paths: dict[str, str] = {}
    for base in bases:
        path = urlsplit(base).path.rstrip("/")
        for variant in (path, path.lower()):
            paths.setdefault(variant, base)
    return paths


def blueprint(settings: Settings) -> Blueprint:
    """The page's blueprint; its QR routes depend on the configured base URLs."""
    bp = Blueprint(NAME, __name__)
    # Each rule gets its own endpoint: rules of one endpoint that differ only in defaults
    # make werkzeug redirect to the first (a round trip on a slow phone network).
    for n, (path, base) in enumerate(base_paths(settings.bases).items()):
        if path:
            bp.add_url_rule(f"{path}/", f"empty_{n}", scan, defaults={"base": base, "payload": ""})
            rule = f"{path}/<gimark_payload:payload>"
            bp.add_url_rule(rule, f"scan_{n}", scan, defaults={"base": base})
        else:  # a base without a path: codes at the root, one segment only
            bp.add_url_rule("/<payload>", f"scan_{n}", scan, defaults={"base": base})
    bp.add_url_rule("/check", "check", check)
    bp.add_url_rule("/report", "report_form", report_form)
    bp.add_url_rule("/report", "report", report, methods=["POST"])
    bp.add_url_rule("/report/thanks", "thanks", thanks)
    protect_forms(bp)
    return bp


def init_app(app: Flask) -> None:
    """Register the page (one blueprint per app: the routes follow the app's settings)."""
    app.url_map.converters["gimark_payload"] = _Payload
    bp = blueprint(app.config["GIMARK_SETTINGS"])
    errors.serve_html_errors(app, bp)
    app.register_blueprint(bp)
