"""Accounts of the portal: who signs in, with which role, and how."""
