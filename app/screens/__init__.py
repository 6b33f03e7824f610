"""Workstation dialogs and screens, one per file."""
