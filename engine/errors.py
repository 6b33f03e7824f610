"""Rejections: every refused command carries a code and a sentence, and changes nothing."""
from __future__ import annotations


class Rejected(Exception):
    """A command was refused. `code` is machine-readable, `message` is for a trader."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def shown(raw: object, limit: int = 60) -> str:
    """A refused value, for a message: its repr cut short. A hostile line may carry megabytes of text,
    or an integer of thousands of digits, whose repr Python itself refuses to build."""
    try:
        text = repr(raw)
    except ValueError:
        return "a number too large to show"
    return text if len(text) <= limit else text[:limit - 3] + "..."
