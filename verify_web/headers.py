"""The security headers every response carries, and the cookie flags, in one place.

What the browser is told:

- ``Content-Security-Policy``: everything from this site only (``default-src 'self'``), no
  inline script or style (the pages have none: verify.js and gimark.css are files), no
  plug-ins, no ``<base>`` that could re-point relative URLs, forms post only back here, and
  no other site may frame a page (a framed verdict could be dressed up as another's).
- ``X-Content-Type-Options: nosniff``: a report photo or a JSON answer is never run as script.
- ``Referrer-Policy: same-origin``: nothing at all goes to another site (the verification
  URL carries the code, a scan's query the phone's place), as with ``no-referrer``; but the
  portal's own forms keep their ``Referer``, which Flask-WTF's CSRF check requires over
  HTTPS (``WTF_CSRF_SSL_STRICT``). base.html's ``<meta name="referrer">`` says the same.
- ``Cache-Control: private, no-store`` on the portal's pages: they show one account's
  batches and must not stay in a shared or back-button cache.

Cookies: served over HTTPS (GIMARK_BASE_URL is ``HTTPS://``), every cookie a view sets gets
``Secure``; Flask's session cookie is written after these hooks run, so
``SESSION_COOKIE_SECURE`` covers it (see :func:`cookie_config`). HSTS belongs to the TLS
terminator (docs/deployment.md), which knows whether HTTPS is really served.
"""

from __future__ import annotations

from typing import Any, Final

from flask import Flask, request
from werkzeug.wrappers import Response

from gimark.core.settings import Settings

CONTENT_SECURITY_POLICY: Final = "; ".join(
    (
        "default-src 'self'",
        "base-uri 'none'",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    )
)
HEADERS: Final = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers too old for CSP 2
}
PRIVATE_PAGES: Final = "private, no-store"
# The blueprints whose pages belong to one signed-in account.
PRIVATE_BLUEPRINTS: Final = frozenset({"portal", "auth"})


def served_over_https(settings: Settings) -> bool:
    """Whether the public base URL is HTTPS: then no cookie may travel in clear."""
    return settings.base_url.startswith("HTTPS://")


def cookie_config(settings: Settings) -> dict[str, Any]:
    """Flask's and Flask-Login's cookie settings for ``settings``' scheme."""
    secure = served_over_https(settings)
    return {
        "SESSION_COOKIE_SECURE": secure,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",  # the session never rides on another site's POST
        "REMEMBER_COOKIE_SECURE": secure,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
    }


def secure_cookie(header: str) -> str:
    """A ``Set-Cookie`` value with the ``Secure`` attribute, added if it lacks it."""
    attributes = {part.strip().split("=", 1)[0].lower() for part in header.split(";")[1:]}
    return header if "secure" in attributes else f"{header}; Secure"


def _add_headers(response: Response, *, https: bool) -> Response:
    for name, value in HEADERS.items():
        response.headers[name] = value
    if request.blueprint in PRIVATE_BLUEPRINTS:
        response.headers["Cache-Control"] = PRIVATE_PAGES
    if https and "Set-Cookie" in response.headers:
        cookies = response.headers.getlist("Set-Cookie")
        response.headers.setlist("Set-Cookie", [secure_cookie(c) for c in cookies])
    return response


def init_app(app: Flask) -> None:
    """Add the headers to every response, error pages and static files included.

    Register it before the other parts: Flask runs ``after_request`` hooks in reverse, so
    this one sees the cookies theirs set.
    """
    settings: Settings = app.config["GIMARK_SETTINGS"]
    https = served_over_https(settings)
    app.after_request(lambda response: _add_headers(response, https=https))
