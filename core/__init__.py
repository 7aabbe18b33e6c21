"""gimark.core."""
