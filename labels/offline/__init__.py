"""Offline checking: the signed status list and ``gimark verify`` from published files.

Offline checking builds on scanning (its judge) and issuing. Public: ``statuslist`` (build,
sign and read a list), ``judge`` (a code checked from the list), ``errors`` and ``cli``
(``gimark verify``, ``gimark status``). ``payload`` is the list's own.
"""

__all__ = ["cli", "errors", "judge", "statuslist"]
