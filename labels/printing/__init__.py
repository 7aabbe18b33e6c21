"""Printing: a batch's label run (manifest, layout, QR, PDF/PNG/SVG sheets).

Printing builds on issuing and nothing else of labels. Public: ``runs`` (a run, end to end),
``layout``, ``qr`` and ``sheets`` (what a label and a sheet look like), ``errors`` and ``cli``
(``gimark run``). ``manifest``, ``staging``, ``sheet_pdf`` and ``sheet_images`` are the run's
and the sheets' own.
"""

__all__ = ["cli", "errors", "layout", "qr", "runs", "sheets"]
