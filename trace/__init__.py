"""gimark.trace."""
