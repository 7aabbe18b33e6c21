"""The public web service: verification pages, the API, the portal and the published keys."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["create_app"]


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask app (see :func:`gimark.verify_web.app.create_app`)."""
    # Imported here so that loading a model module of this package (accounts, for the
    # migrations) does not pull in the whole web layer.
    from gimark.verify_web.app import create_app as build

    return build(test_config)
