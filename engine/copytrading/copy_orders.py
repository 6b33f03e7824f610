"""The per-order view: each copied lead order is a record; closes are matched to them first-in,
first-out. The consolidated position averages every entry, so its entry price and PnL differ from
the per-order records whenever a copy was opened in several steps at different prices."""
from __future__ import annotations

from decimal import Decimal

from ..exchange import UNREPORTED_LIMIT, Exchange
from ..fills import Fill
from ..money import ZERO, usdt
from .records import CopyOrder
from .relations import Relation

EXPLANATION = ("The position view averages every copied entry into one price; the per-order view keeps each "
               "copied lead order at its own entry and matches closes first-in, first-out. With several entries "
               "at different prices the two show different entry prices and realized PnL, while the totals agree.")


def open_copy_order(exchange: Exchange, relation: Relation, lead_order: str, fill: Fill) -> CopyOrder:
    return open_copy_orders(exchange, lead_order, [(relation, fill)])[0]


def open_copy_orders(exchange: Exchange, lead_order: str, copies: list[tuple[Relation, Fill]]) -> list[CopyOrder]:
    """A copy order for the part each (follow, fill) opened, in order (a run of fresh opens makes thousands)."""
    first = exchange.counters["copy_order"]
    records = []
    for i, (relation, fill) in enumerate(copies):
        opened = fill.qty - fill.closed_qty if fill.closed_qty else fill.qty  # not a new object: see money.to_units
        fee = fill.fee if opened == fill.qty else usdt(fill.fee * opened / fill.qty)  # a reverse's open part
        records.append(CopyOrder(first + i, relation.copier, relation.lead, lead_order, fill.symbol, fill.side,
                                 opened, opened, fill.price, fee, ZERO, "open", fill.at_ms, None, relation.seq))
    exchange.counters["copy_order"] = first + len(records)
    books = exchange.copy_orders
    for record in records:
        books.setdefault((record.copier, record.lead, record.symbol), []).append(record)
    exchange.changes.insert_many(records)
    return records


def match_close(exchange: Exchange, copier: str, lead: str, fill: Fill) -> list[CopyOrder]:
    """Allocate a closing fill to the open copy orders, oldest first. Returns the ones it closed."""
    book = exchange.copy_orders.get((copier, lead, fill.symbol))
    if not book:
        return []
    remaining = fill.closed_qty
    closed_qty = fill.closed_qty
    # A whole fill closing, into one record (a lead's close, for nearly every copier): the shares are exact.
    close_fee = fill.fee if closed_qty == fill.qty else usdt(fill.fee * closed_qty / fill.qty)
    closed = []
    for record in list(book):
        if remaining <= 0:
            break
        take = min(remaining, record.open_qty)
        record.realized_pnl += usdt(record.side * take * (fill.price - record.entry_price))
        record.fees += close_fee if take == closed_qty else usdt(close_fee * take / closed_qty)
        record.open_qty -= take
        remaining -= take
        if record.open_qty == 0:
            record.status = "closed"
            record.closed_ms = fill.at_ms
            book.remove(record)
            closed.append(record)
        exchange.changes.save(record, CopyOrder.CLOSING)
    shown_later = exchange.recently_closed_copy_orders
    shown_later.extend(closed)
    if len(shown_later) > UNREPORTED_LIMIT * 11 // 10:  # nobody snapshots this desk: keep the newest
        del shown_later[:len(shown_later) - UNREPORTED_LIMIT]
    return closed


def copy_margin_in_use(exchange: Exchange, copier_account, lead: str) -> Decimal:
    return sum(((p.margin if p.isolated else p.initial_margin)
                for p in copier_account.positions.values() if p.lead == lead), ZERO)
