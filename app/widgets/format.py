"""How numbers look on screen: thousands separators, tick-aware prices, signed colours."""
from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from rich.text import Text


def money(value: Decimal | None, places: int = 2) -> str:
    if value is None:
        return "—"
    return f"{value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN):,}"


def price(value: Decimal | None, tick: Decimal | None = None) -> str:
    if value is None:
        return "—"
    places = max(0, -tick.normalize().as_tuple().exponent) if tick is not None else 2
    return money(value, places)


def qty(value: Decimal | None) -> str:
    return "—" if value is None else f"{value.normalize():f}"


def signed(value: Decimal | None, places: int = 2, suffix: str = "") -> Text:
    if value is None:
        return Text("—", style="dim")
    style = "green" if value > 0 else "red" if value < 0 else ""
    sign = "+" if value > 0 else ""
    return Text(f"{sign}{money(value, places)}{suffix}", style=style)


def side(name: str) -> Text:
    """buy / long in green, sell / short in red."""
    return Text(name, style="green" if name in ("buy", "long") else "red")


def percent(ratio: Decimal | None, places: int = 2) -> Text:
    if ratio is None:
        return Text("—", style="dim")
    return signed(ratio * 100, places, "%")


def countdown(ms: int) -> str:
    seconds = max(0, ms // 1000)
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
