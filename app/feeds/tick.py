"""One price update for one symbol, as every feed emits it."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from engine.money import fmt


@dataclass(frozen=True, slots=True)
class PriceTick:
    at_ms: int
    symbol: str
    mark: Decimal
    last: Decimal
    index: Decimal

    def to_command(self) -> dict:
        """The scenario `price` line for this tick (decimals as strings, as the scenario format requires)."""
        return {"do": "price", "symbol": self.symbol,
                "mark": fmt(self.mark), "last": fmt(self.last), "index": fmt(self.index)}
