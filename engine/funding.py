"""Funding at the scheduled times in engine time (SPEC §6).

At each funding time of a symbol (every 8 h at 00:00, 08:00 and 16:00 UTC; every 4 h where the
instrument says so) every position open at that moment pays or receives qty × mark × rate: longs pay
shorts when the rate is positive, with `market` as the other side. Isolated positions pay from (or
receive into) their margin; cross positions from the wallet.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from .clock import HOUR, format_time
from .exchange import DUE_WORK, FUNDING_LISTENERS, Exchange
from .ledger import MARKET, EntryType
from .money import ZERO, fmt, from_units, to_units, usdt

BASE_RATE = Decimal("0.0001")
CLAMP = Decimal("0.0005")


@dataclass(slots=True, frozen=True)
class FundingPayment:
    TABLE: ClassVar[str] = "funding"
    COLUMNS: ClassVar[tuple[str, ...]] = ("seq", "at_ms", "account", "symbol", "lead", "qty", "mark", "rate", "amount")
    seq: int
    at_ms: int
    account: str
    symbol: str
    lead: str
    qty: Decimal
    mark: Decimal
    rate: Decimal
    amount: Decimal   # + received, − paid

    def row(self) -> tuple:
        return (self.seq, self.at_ms, self.account, self.symbol, self.lead, to_units(self.qty), str(self.mark),
                str(self.rate), to_units(self.amount))

    @classmethod
    def from_row(cls, row: tuple) -> "FundingPayment":
        return cls(row[0], row[1], row[2], row[3], row[4], from_units(row[5]), Decimal(row[6]), Decimal(row[7]),
                   from_units(row[8]))

    def view(self) -> dict:
        return {"at": format_time(self.at_ms), "account": self.account, "symbol": self.symbol,
                "lead": self.lead or None, "qty": fmt(self.qty), "mark": fmt(self.mark), "rate": fmt(self.rate),
                "amount": fmt(self.amount)}


def simulated_rate(mark: Decimal, index: Decimal) -> Decimal:
    """P + clamp(0.01% − P, −0.05%, +0.05%), P the premium of mark over index."""
    premium = (mark - index) / index
    return (premium + max(-CLAMP, min(CLAMP, BASE_RATE - premium))).quantize(Decimal("1e-8"))


class Funding:
    name = "funding"

    def next_due(self, exchange: Exchange) -> int | None:
        done = exchange.schedule.get(self.name, exchange.now_ms)
        hours = {i.funding_hours for i in exchange.instruments.values() if i.symbol in exchange.markets}
        if not hours:
            return None
        return min((done // (h * HOUR) + 1) * h * HOUR for h in hours)

    def run_due(self, exchange: Exchange, at_ms: int) -> None:
        exchange.schedule[self.name] = at_ms
        for symbol in sorted(exchange.markets):
            instrument = exchange.instruments[symbol]
            if at_ms % (instrument.funding_hours * HOUR) == 0:
                charge(exchange, symbol, at_ms)


def charge(exchange: Exchange, symbol: str, at_ms: int) -> None:
    market = exchange.markets[symbol]
    rate = market.funding_rate if market.funding_rate is not None else simulated_rate(market.mark, market.index)
    ledger = exchange.ledger
    # In key order, never dict order: a restart reloads accounts and positions in another order, and a
    # cross wallet's cap makes the payments depend on it.
    for account in sorted((a for a in exchange.accounts.values() if a.positions), key=lambda a: a.id):
        for position in sorted(account.positions.values(), key=lambda p: (p.symbol, p.lead)):
            if position.symbol != symbol:
                continue
            paid = usdt(position.side * position.qty * market.mark * rate)
            if position.isolated:
                paid = min(paid, position.margin)  # margin can be exhausted, never overdrawn
                position.margin -= paid
                exchange.changes.save(position, position.MARGIN)
            else:
                # The wallet pays, but never below zero nor into the margins its isolated positions own.
                isolated = account.isolated_margin()
                paid = min(paid, max(ZERO, ledger.balance(account.id) - isolated))
            ledger.move(EntryType.FUNDING, account.id, MARKET, paid, at_ms, f"funding {symbol}")
            record = FundingPayment(exchange.next_id("funding"), at_ms, account.id, symbol, position.lead,
                                    position.qty, market.mark, rate, -paid)
            exchange.changes.append(record)
            exchange.emit(record)
            for listener in FUNDING_LISTENERS:
                listener(exchange, account, position, -paid)
    if market.funding_rate is not None:
        market.funding_rate = None  # a set rate applies to one funding time
        exchange.changes.save(market)


DUE_WORK.append(Funding())
