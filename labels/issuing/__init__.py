"""Issuing: signed codes, printed serials, batches, serial allocation and the printing ledger.

Its public modules are listed in ``__all__``: ``codes`` (the signed code format), ``serials``
(the printed serial), ``batches`` (a batch's life, re-exporting ``ledger`` and ``records``),
``ledger`` (voids, delivery, the reconciliation), ``models`` (the tables), ``errors`` and
``cli`` (``gimark batch``). ``allocation`` and ``records`` are the batches' own.
"""

__all__ = ["batches", "cli", "codes", "errors", "ledger", "models", "serials"]
