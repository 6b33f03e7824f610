"""Orders that rest: limits waiting for the price, stops waiting for their trigger, trailing stops.

Open orders live in memory in their account and in a trigger book per (symbol, price source); the
orders table keeps every order with its final status as history.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, ClassVar

from .clock import format_time
from .money import ZERO, fmt, from_units, to_units
from .triggers import DOWN, UP, TriggerBook

if TYPE_CHECKING:
    from .accounts import TradingAccount
    from .exchange import Exchange

OPEN = "open"              # a resting limit
UNTRIGGERED = "untriggered"  # a stop or trailing stop waiting for its trigger
FILLED, CANCELLED, EXPIRED = "filled", "cancelled", "expired"
LIVE = (OPEN, UNTRIGGERED)


@dataclass(slots=True, eq=False)
class Order:
    TABLE: ClassVar[str] = "orders"
    COLUMNS: ClassVar[tuple[str, ...]] = ("seq", "account", "symbol", "lead", "client_id", "side", "type", "qty",
                                          "price", "trig", "trigger_by", "callback", "tif", "reduce_only",
                                          "leverage", "margin_mode", "status", "created_ms", "reserved_margin",
                                          "extreme", "tp", "sl")
    KEY: ClassVar[tuple[str, ...]] = ("seq",)
    # Only live orders are loaded into memory; the rest is history.
    LOAD_WHERE: ClassVar[str] = "status IN ('open', 'untriggered')"

    seq: int
    account: str
    symbol: str
    lead: str
    client_id: str
    side: int
    type: str
    qty: Decimal
    price: Decimal | None
    trigger: Decimal | None
    trigger_by: str
    callback: Decimal | None
    tif: str
    reduce_only: bool
    leverage: int
    margin_mode: str
    status: str
    created_ms: int
    reserved_margin: Decimal = ZERO
    extreme: Decimal | None = None   # trailing stop: best price seen since placing
    tp: Decimal | None = None
    sl: Decimal | None = None

    def key(self) -> int:
        return self.seq

    def row(self) -> tuple:
        return (self.seq, self.account, self.symbol, self.lead, self.client_id, self.side, self.type,
                to_units(self.qty), _text(self.price), _text(self.trigger), self.trigger_by, _text(self.callback),
                self.tif, int(self.reduce_only), self.leverage, self.margin_mode, self.status, self.created_ms,
                to_units(self.reserved_margin), _text(self.extreme), _text(self.tp), _text(self.sl))

    @classmethod
    def from_row(cls, row: tuple) -> "Order":
        return cls(row[0], row[1], row[2], row[3], row[4], row[5], row[6], from_units(row[7]), _dec(row[8]),
                   _dec(row[9]), row[10], _dec(row[11]), row[12], bool(row[13]), row[14], row[15], row[16], row[17],
                   from_units(row[18]), _dec(row[19]), _dec(row[20]), _dec(row[21]))

    def view(self) -> dict:
        return {"client_id": self.client_id, "symbol": self.symbol, "side": "buy" if self.side > 0 else "sell",
                "type": self.type, "qty": fmt(self.qty), "price": fmt(self.price), "status": self.status,
                "trigger": fmt(self.trigger), "trigger_by": self.trigger_by, "reduce_only": self.reduce_only,
                "tif": self.tif, "lead": self.lead or None, "created_at": format_time(self.created_ms)}


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _dec(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def trigger_level(order: Order) -> tuple[str, Decimal | None, int]:
    """(price source, level, direction) under which the order waits in the books."""
    if order.status == OPEN:  # a resting limit fills when the last price trades through it
        return "last", order.price, DOWN if order.side > 0 else UP
    if order.type == "trailing_stop":
        return order.trigger_by, None, UP
    return order.trigger_by, order.trigger, UP if order.side > 0 else DOWN


def order_book(exchange: "Exchange", symbol: str, source: str) -> TriggerBook:
    book = exchange.order_books.get((symbol, source))
    if book is None:
        book = exchange.order_books[(symbol, source)] = TriggerBook()
    return book


def rest_order(exchange: "Exchange", account: "TradingAccount", order: Order) -> None:
    account.orders[order.seq] = order
    exchange.orders_by_seq[order.seq] = order
    index_order(exchange, order)
    exchange.changes.save(order)


def index_order(exchange: "Exchange", order: Order) -> None:
    source, level, direction = trigger_level(order)
    if order.type == "trailing_stop" and order.status == UNTRIGGERED:
        exchange.trailing.setdefault(order.symbol, set()).add(order.seq)
    else:
        order_book(exchange, order.symbol, source).put(order.seq, level, direction)


def retire_order(exchange: "Exchange", order: Order, status: str) -> None:
    """Take an order out of the books with its final status (the row stays as history)."""
    account = exchange.accounts[order.account]
    account.orders.pop(order.seq, None)
    exchange.orders_by_seq.pop(order.seq, None)
    for source in ("last", "mark"):
        book = exchange.order_books.get((order.symbol, source))
        if book is not None:
            book.discard(order.seq)
    exchange.trailing.get(order.symbol, set()).discard(order.seq)
    order.status = status
    order.reserved_margin = ZERO
    exchange.changes.save(order)


def cancel_order(exchange: "Exchange", account: "TradingAccount", order: Order, reason: str) -> None:
    retire_order(exchange, order, CANCELLED)
    exchange.emit(("order_cancelled", account.id, order.client_id, reason))
