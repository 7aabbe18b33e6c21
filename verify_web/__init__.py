"""The public web service: verification pages, the API and the published keys."""

from __future__ import annotations

from gimark.verify_web.app import create_app

__all__ = ["create_app"]
