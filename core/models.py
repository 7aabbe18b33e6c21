"""One place that knows every domain's tables, for migrations and test schemas."""

from __future__ import annotations

import importlib

MODEL_MODULES = (
    "gimark.core.generation",
    "gimark.keys.models",
    "gimark.trace.models",
    "gimark.labels.issuing.models",
    "gimark.labels.scanning.models",
    "gimark.verify_web.accounts.models",
    "gimark.verify_web.reports.models",
    "gimark.core.limits",
)


def import_all_models() -> None:
    """Import every models module so that ``Base.metadata`` holds every table."""
    for name in MODEL_MODULES:
        importlib.import_module(name)
