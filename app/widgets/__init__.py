"""Workstation widgets, one per file."""
