"""Spark lines: a series as one row of block characters, lowest ▁ to highest █."""
from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

BARS = "▁▂▃▄▅▆▇█"


def spark(values: Sequence[Decimal]) -> str:
    if not values:
        return ""
    low, high = min(values), max(values)
    if high == low:
        return BARS[0] * len(values)
    top = len(BARS) - 1
    return "".join(BARS[int((value - low) / (high - low) * top)] for value in values)
