"""The fill model (there is no crowd order book) and the fill record.

A taker fills at once at the last price moved against it by half the spread plus a size impact,
both in basis points (impact per 1,000,000 USDT of notional), then rounded to the tick against the
taker. A resting limit fills at its own price, as maker.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import ClassVar

from .clock import format_time
from .config import EngineConfig
from .instruments import Instrument
from .money import fmt, from_units, to_units
from .positions import side_name

_BPS = Decimal("0.0001")
_MILLION = Decimal(1_000_000)


def taker_price(config: EngineConfig, instrument: Instrument, last: Decimal, side: int, qty: Decimal) -> Decimal:
    moved = (config.slippage_bps + config.impact_bps * (qty * last) / _MILLION) * _BPS
    raw = last * (1 + side * moved)
    rounding = ROUND_CEILING if side > 0 else ROUND_FLOOR
    price = (raw / instrument.tick).to_integral_value(rounding=rounding) * instrument.tick
    return max(price, instrument.tick)


def fee_rate(config: EngineConfig, instrument: Instrument, maker: bool) -> Decimal:
    if maker:
        return instrument.maker_fee if config.maker_fee is None else config.maker_fee
    return instrument.taker_fee if config.taker_fee is None else config.taker_fee


@dataclass(slots=True)  # not frozen: built per copier in a fan-out (README, Performance)
class Fill:
    """One execution against an account: a trade, a liquidation or an auto-deleveraging."""
    TABLE: ClassVar[str] = "fills"
    COLUMNS: ClassVar[tuple[str, ...]] = ("seq", "at_ms", "account", "symbol", "lead", "side", "qty", "price",
                                          "fee", "realized_pnl", "maker", "kind", "order_ref", "opened_ms",
                                          "closed_qty")
    seq: int
    at_ms: int
    account: str
    symbol: str
    lead: str
    side: int
    qty: Decimal
    price: Decimal
    fee: Decimal
    realized_pnl: Decimal
    maker: bool
    kind: str          # trade | liquidation | adl
    order_ref: str
    # For a fill that closed (part of) a position: when that position was opened, and how much closed.
    opened_ms: int | None
    closed_qty: Decimal

    def row(self) -> tuple:
        return (self.seq, self.at_ms, self.account, self.symbol, self.lead, self.side, to_units(self.qty),
                to_units(self.price), to_units(self.fee), to_units(self.realized_pnl), int(self.maker), self.kind,
                self.order_ref, self.opened_ms, to_units(self.closed_qty))

    @classmethod
    def from_row(cls, row: tuple) -> "Fill":
        return cls(row[0], row[1], row[2], row[3], row[4], row[5], from_units(row[6]), from_units(row[7]),
                   from_units(row[8]), from_units(row[9]), bool(row[10]), row[11], row[12], row[13],
                   from_units(row[14]))

    def view(self) -> dict:
        return {"at": format_time(self.at_ms), "account": self.account, "symbol": self.symbol,
                "lead": self.lead or None, "side": "buy" if self.side > 0 else "sell",
                "position_side": side_name(self.side), "qty": fmt(self.qty), "price": fmt(self.price),
                "fee": fmt(self.fee), "realized_pnl": fmt(self.realized_pnl), "maker": self.maker,
                "kind": self.kind, "order": self.order_ref}
