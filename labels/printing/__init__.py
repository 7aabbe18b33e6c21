"""Printing: a batch's label run (manifest, layout, QR, PDF/PNG/SVG sheets)."""
