"""Scanning: judging a scanned code, recording the scan, detecting copied labels."""
