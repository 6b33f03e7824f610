"""Positions in one-way mode: one per (account, symbol), and per (symbol, lead) in the copy account."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import ClassVar

from .clock import format_time
from .instruments import Instrument
from .money import ZERO, fmt, from_units, to_units, usdt, from_units_or_none, to_units_or_none

ISOLATED = "isolated"
CROSS = "cross"
LONG, SHORT = 1, -1


def side_name(side: int) -> str:
    return "long" if side > 0 else "short"


@dataclass(slots=True, eq=False)
class Position:
    TABLE: ClassVar[str] = "positions"
    COLUMNS: ClassVar[tuple[str, ...]] = ("account", "symbol", "lead", "side", "qty", "entry_price", "leverage",
                                          "margin_mode", "margin", "opened_ms", "realized_pnl", "tp", "sl",
                                          "managed")
    KEY: ClassVar[tuple[str, ...]] = ("account", "symbol", "lead")
    # What a margin synchronization or a funding payment changes (saved as just this: see engine.changes).
    MARGIN: ClassVar[tuple[str, ...]] = ("margin",)
    SAVED_IN_PART: ClassVar[frozenset[str]] = frozenset(MARGIN)

    account: str
    symbol: str
    lead: str            # "" outside the copy account
    side: int            # +1 long, −1 short
    qty: Decimal
    entry_price: Decimal  # weighted average, on the 1e-8 grid
    leverage: int
    margin_mode: str
    margin: Decimal      # isolated: the margin the position owns; cross: 0
    opened_ms: int
    realized_pnl: Decimal = ZERO
    tp: Decimal | None = None
    sl: Decimal | None = None
    # A protected-portfolio copy position: the copier may not touch it (SPEC §7.6).
    managed: bool = False
    # Derived, never stored: the liquidation price the risk index holds this position under, and for an
    # isolated position what that price was solved from (see RiskIndex.refresh).
    liquidation_price: Decimal | None = None
    liquidation_basis: tuple | None = None

    def key(self) -> tuple[str, str, str]:
        return (self.account, self.symbol, self.lead)

    def row(self) -> tuple:
        return (self.account, self.symbol, self.lead, self.side, to_units(self.qty), to_units(self.entry_price),
                self.leverage, self.margin_mode, to_units(self.margin), self.opened_ms, to_units(self.realized_pnl),
                to_units_or_none(self.tp), to_units_or_none(self.sl), int(self.managed))

    @classmethod
    def from_row(cls, row: tuple) -> "Position":
        return cls(row[0], row[1], row[2], row[3], from_units(row[4]), from_units(row[5]), row[6], row[7],
                   from_units(row[8]), row[9], from_units(row[10]), from_units_or_none(row[11]), from_units_or_none(row[12]), bool(row[13]))

    @property
    def isolated(self) -> bool:
        return self.margin_mode == ISOLATED

    @property
    def entry_notional(self) -> Decimal:
        return self.qty * self.entry_price

    @property
    def initial_margin(self) -> Decimal:
        """Entry notional / leverage: the margin the position was opened with (the ROE base)."""
        return usdt(self.entry_notional / self.leverage)

    def unrealized_pnl(self, mark: Decimal) -> Decimal:
        return usdt(self.side * self.qty * (mark - self.entry_price))

    def maintenance_margin(self, instrument: Instrument, mark: Decimal) -> Decimal:
        return usdt(instrument.maintenance_margin(self.qty * mark))

    # Unrounded, for the liquidation condition: the liquidation price is solved exactly, so the check at
    # that price must be exact too (rounding each amount to 1e-8 could let a position sit on its price).
    def exact_unrealized_pnl(self, mark: Decimal) -> Decimal:
        with localcontext(prec=50):
            return self.side * self.qty * (mark - self.entry_price)

    def exact_maintenance_margin(self, instrument: Instrument, mark: Decimal) -> Decimal:
        with localcontext(prec=50):
            return instrument.maintenance_margin(self.qty * mark)

    def roe(self, mark: Decimal) -> Decimal | None:
        initial = self.initial_margin
        return None if initial == 0 else self.unrealized_pnl(mark) / initial

    def view(self, instrument: Instrument, mark: Decimal) -> dict:
        roe = self.roe(mark)
        return {
            "symbol": self.symbol, "side": side_name(self.side), "qty": fmt(self.qty),
            "entry_price": fmt(self.entry_price), "mark_price": fmt(mark), "leverage": self.leverage,
            "margin_mode": self.margin_mode,
            "margin": fmt(self.margin if self.isolated else self.initial_margin),
            "unrealized_pnl": fmt(self.unrealized_pnl(mark)),
            "roe": None if roe is None else fmt(roe.quantize(Decimal("1e-8"))),
            "maintenance_margin": fmt(self.maintenance_margin(instrument, mark)),
            "liquidation_price": fmt(self.liquidation_price),
            "lead": self.lead or None,
            "realized_pnl": fmt(self.realized_pnl),
            "tp": fmt(self.tp), "sl": fmt(self.sl),
            "opened_at": format_time(self.opened_ms),
        }


