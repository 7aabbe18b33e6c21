"""The landing page, and the trivial endpoint: liveness for load balancers, and the baseline
the verify benchmark measures against."""

from __future__ import annotations

from flask import Blueprint, Flask, render_template

bp = Blueprint("pages", __name__)


@bp.get("/")
def index() -> str:
    """What gimark is, in Chinese and English."""
    return render_template("index.html")


@bp.get("/healthz")
def healthz() -> dict[str, str]:
    """Liveness for load balancers and the benchmark's baseline (touches nothing)."""
    return {"status": "ok"}


def init_app(app: Flask) -> None:
    """Register the blueprint."""
    app.register_blueprint(bp)
