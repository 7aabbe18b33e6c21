"""Issuing: signed codes, printed serials, batches, serial allocation and the printing ledger."""
