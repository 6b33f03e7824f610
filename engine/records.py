"""Append-only records that users read back: notifications (and, later, outcomes and liquidations)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .clock import format_time


@dataclass(slots=True, frozen=True)
class Notification:
    TABLE: ClassVar[str] = "notifications"
    COLUMNS: ClassVar[tuple[str, ...]] = ("seq", "user", "kind", "text", "at_ms")

    seq: int
    user: str
    kind: str
    text: str
    at_ms: int

    def row(self) -> tuple:
        return (self.seq, self.user, self.kind, self.text, self.at_ms)

    @classmethod
    def from_row(cls, row: tuple) -> "Notification":
        return cls(*row)

    def view(self) -> dict:
        return {"user": self.user, "kind": self.kind, "text": self.text, "at": format_time(self.at_ms)}
