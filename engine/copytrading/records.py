"""What copying leaves behind: one outcome per copier per lead fill or margin signal, the per-order
copy records, and weekly settlement statements."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from ..clock import format_time
from ..money import fmt, from_units, from_units_or_none, to_units, to_units_or_none




@dataclass(slots=True)  # not frozen: built per copier in a fan-out (README, Performance)
class Outcome:
    TABLE: ClassVar[str] = "outcomes"
    COLUMNS: ClassVar[tuple[str, ...]] = ("seq", "at_ms", "lead", "lead_order", "copier", "symbol", "kind", "status",
                                          "code", "message", "qty", "price", "delta")
    seq: int
    at_ms: int
    lead: str
    lead_order: str
    copier: str
    symbol: str
    kind: str          # open | close | margin_sync
    status: str        # filled | failed
    code: str | None
    message: str | None
    qty: Decimal | None
    price: Decimal | None
    delta: Decimal | None

    def row(self) -> tuple:
        return (self.seq, self.at_ms, self.lead, self.lead_order, self.copier, self.symbol, self.kind, self.status,
                self.code, self.message, to_units_or_none(self.qty), to_units_or_none(self.price), to_units_or_none(self.delta))

    @classmethod
    def from_row(cls, row: tuple) -> "Outcome":
        return cls(*row[:10], from_units_or_none(row[10]), from_units_or_none(row[11]), from_units_or_none(row[12]))

    def view(self) -> dict:
        return {"lead": self.lead, "lead_order": self.lead_order, "copier": self.copier, "kind": self.kind,
                "status": self.status, "code": self.code, "qty": fmt(self.qty), "price": fmt(self.price),
                "delta": fmt(self.delta), "symbol": self.symbol, "message": self.message,
                "at": format_time(self.at_ms)}


@dataclass(slots=True, eq=False)
class CopyOrder:
    """One copied lead order in the copier's per-order view (FIFO against later closes)."""
    TABLE: ClassVar[str] = "copy_orders"
    COLUMNS: ClassVar[tuple[str, ...]] = ("seq", "copier", "lead", "lead_order", "symbol", "side", "qty", "open_qty",
                                          "entry_price", "fees", "realized_pnl", "status", "opened_ms", "closed_ms",
                                          "relation")
    KEY: ClassVar[tuple[str, ...]] = ("seq",)
    # What a close changes (saved as just these columns: see engine.changes).
    CLOSING: ClassVar[tuple[str, ...]] = ("open_qty", "fees", "realized_pnl", "status", "closed_ms")
    SAVED_IN_PART: ClassVar[frozenset[str]] = frozenset(CLOSING)
    # Open records, and closed ones a snapshot has yet to show (listed in the engine's meta).
    @staticmethod
    def load_where(meta) -> str:
        unshown = [int(seq) for seq in meta.get("unshown_closed_copy_orders", "").split(",") if seq]
        return f"status = 'open' OR seq IN ({', '.join(map(str, unshown))})" if unshown else "status = 'open'"

    seq: int
    copier: str
    lead: str
    lead_order: str
    symbol: str
    side: int
    qty: Decimal          # as copied
    open_qty: Decimal     # still open
    entry_price: Decimal
    fees: Decimal
    realized_pnl: Decimal
    status: str           # open | closed
    opened_ms: int
    closed_ms: int | None = None
    # The follow it was copied under: its PnL is that follow's, even once the copier has unfollowed and
    # followed the same lead again (None: recorded before this was kept; the newest follow of the pair).
    relation: int | None = None

    def key(self) -> int:
        return self.seq

    def row(self) -> tuple:
        return (self.seq, self.copier, self.lead, self.lead_order, self.symbol, self.side, to_units(self.qty),
                to_units(self.open_qty), to_units(self.entry_price), to_units(self.fees),
                to_units(self.realized_pnl), self.status, self.opened_ms, self.closed_ms, self.relation)

    @classmethod
    def from_row(cls, row: tuple) -> "CopyOrder":
        return cls(row[0], row[1], row[2], row[3], row[4], row[5], from_units(row[6]), from_units(row[7]),
                   from_units(row[8]), from_units(row[9]), from_units(row[10]), row[11], row[12], row[13], row[14])

    @property
    def net_pnl(self) -> Decimal:
        return self.realized_pnl - self.fees

    def view(self) -> dict:
        return {"lead": self.lead, "lead_order": self.lead_order, "symbol": self.symbol,
                "side": "long" if self.side > 0 else "short", "qty": fmt(self.qty), "open_qty": fmt(self.open_qty),
                "entry_price": fmt(self.entry_price), "fees": fmt(self.fees), "status": self.status,
                "realized_pnl": fmt(self.realized_pnl), "opened_at": format_time(self.opened_ms),
                "closed_at": None if self.closed_ms is None else format_time(self.closed_ms)}


@dataclass(slots=True, frozen=True)
class Settlement:
    TABLE: ClassVar[str] = "settlements"
    COLUMNS: ClassVar[tuple[str, ...]] = ("seq", "at_ms", "copier", "lead", "mode", "net_result", "compensation",
                                          "profit_shared", "rebate_released", "reason")
    seq: int
    at_ms: int
    copier: str
    lead: str
    mode: str
    net_result: Decimal
    compensation: Decimal
    profit_shared: Decimal
    rebate_released: Decimal
    reason: str          # weekly | unfollow

    def row(self) -> tuple:
        return (self.seq, self.at_ms, self.copier, self.lead, self.mode, to_units(self.net_result),
                to_units(self.compensation), to_units(self.profit_shared), to_units(self.rebate_released), self.reason)

    @classmethod
    def from_row(cls, row: tuple) -> "Settlement":
        return cls(row[0], row[1], row[2], row[3], row[4], from_units(row[5]), from_units(row[6]),
                   from_units(row[7]), from_units(row[8]), row[9])

    def view(self) -> dict:
        return {"at": format_time(self.at_ms), "copier": self.copier, "lead": self.lead, "mode": self.mode,
                "net_result": fmt(self.net_result), "compensation": fmt(self.compensation),
                "profit_shared": fmt(self.profit_shared), "rebate_released": fmt(self.rebate_released),
                "reason": self.reason}

