"""Scanning: judging a scanned code, recording the scan, detecting copied labels.

Scanning builds on issuing. Public: ``service`` (a scan end to end), ``verification`` (the
verifier online), ``judge`` (the state rules, online and offline), ``duplicates`` (the scan
pattern), ``reasons`` (the words of every reason), ``registry_cache`` and ``state`` (what the
verify JSON shows of a batch and its party) and ``models`` (the scan log). ``sql``,
``prepared``, ``store``, ``first_scans``, ``locking`` and ``batch_ranges`` are the scan path's
own.
"""

__all__ = [
    "duplicates",
    "judge",
    "models",
    "reasons",
    "registry_cache",
    "service",
    "state",
    "verification",
]
