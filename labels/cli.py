"""Batch and label-run commands."""

from __future__ import annotations

import click


def register(root: click.Group) -> None:
    """Add this package's commands to the ``gimark`` root group."""
