"""Consumers' reports of suspect products: the API, the checks and the stored photos."""
