"""gimark.keys."""
