"""Rejections: every refused command carries a code and a sentence, and changes nothing."""
from __future__ import annotations


class Rejected(Exception):
    """A command was refused. `code` is machine-readable, `message` is for a trader."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
