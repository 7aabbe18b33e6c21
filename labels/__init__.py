"""gimark.labels."""
