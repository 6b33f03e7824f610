"""Market state per symbol: index, mark and last prices, and the rate set for the next funding."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from .money import ZERO


def _price_text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


@dataclass(slots=True)
class Market:
    TABLE: ClassVar[str] = "markets"
    COLUMNS: ClassVar[tuple[str, ...]] = ("symbol", "index_price", "mark", "last", "funding_rate",
                                          "open_24h", "updated_ms")
    KEY: ClassVar[tuple[str, ...]] = ("symbol",)

    symbol: str
    index: Decimal
    mark: Decimal
    last: Decimal
    # None: the simulated rate of SPEC §6 applies at the next funding time.
    funding_rate: Decimal | None = None
    # The price a day ago, for the 24 h change column (kept on the first tick of each day).
    open_24h: Decimal = ZERO
    updated_ms: int = 0

    def key(self) -> str:
        return self.symbol

    def row(self) -> tuple:
        # Prices are stored as exact decimal text: ticks go down to 1e-5 and must survive unchanged.
        return (self.symbol, str(self.index), str(self.mark), str(self.last),
                _price_text(self.funding_rate), str(self.open_24h), self.updated_ms)

    @classmethod
    def from_row(cls, row: tuple) -> "Market":
        return cls(row[0], Decimal(row[1]), Decimal(row[2]), Decimal(row[3]),
                   None if row[4] is None else Decimal(row[4]), Decimal(row[5]), row[6])
