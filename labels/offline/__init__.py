"""Offline checking: the signed status list and ``gimark verify`` from published files."""
