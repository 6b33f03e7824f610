"""Margin synchronization (SPEC §7.5), isolated margin only.

When a lead adds or removes margin on an isolated lead position, a signal carries the ratio
(delta ÷ margin before) to the copiers who followed before it happened. A signal is delivered
`signal_delay_s` after it occurred; delivered more than 60 s late it is dropped (SIGNAL_EXPIRED).
Signals are held until max(delivery, occurrence + hold window) and, whenever several are due,
applied in order of occurrence — so signals that arrive out of order within the window are applied
in the order they happened.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from ..accounts import WalletKind, account_id
from ..errors import Rejected
from ..exchange import DUE_WORK, Exchange
from ..money import from_units, to_units, usdt
from .records import Outcome


@dataclass(slots=True, frozen=True)
class MarginSignal:
    TABLE: ClassVar[str] = "margin_signals"
    COLUMNS: ClassVar[tuple[str, ...]] = ("seq", "lead", "symbol", "delta", "margin_before", "occurred_ms",
                                          "delivered_ms", "apply_ms", "last_relation")
    KEY: ClassVar[tuple[str, ...]] = ("seq",)

    seq: int
    lead: str
    symbol: str
    delta: Decimal
    margin_before: Decimal
    occurred_ms: int
    delivered_ms: int
    apply_ms: int
    last_relation: int   # relations with a seq up to this one existed when it occurred

    def key(self) -> int:
        return self.seq

    def row(self) -> tuple:
        return (self.seq, self.lead, self.symbol, to_units(self.delta), to_units(self.margin_before),
                self.occurred_ms, self.delivered_ms, self.apply_ms, self.last_relation)

    @classmethod
    def from_row(cls, row: tuple) -> "MarginSignal":
        return cls(row[0], row[1], row[2], from_units(row[3]), from_units(row[4]), *row[5:])

    @property
    def ratio(self) -> Decimal:
        return self.delta / self.margin_before


def on_margin_change(exchange: Exchange, account, change) -> None:
    if account.kind != WalletKind.ELITE or change.margin_before <= 0:
        return
    lead = exchange.leads.get(account.user)
    if lead is None or change.symbol not in lead.symbols:
        return
    occurred = exchange.now_ms
    delivered = occurred + change.signal_delay_ms
    signal = MarginSignal(exchange.next_id("signal"), lead.user, change.symbol, change.delta, change.margin_before,
                          occurred, delivered, max(delivered, occurred + exchange.config.signal_hold_ms),
                          exchange.counters["relation"] - 1)
    exchange.signals[signal.seq] = signal
    exchange.changes.save(signal)


class SignalDelivery:
    name = "signals"

    def next_due(self, exchange: Exchange) -> int | None:
        return min((s.apply_ms for s in exchange.signals.values()), default=None)

    def run_due(self, exchange: Exchange, at_ms: int) -> None:
        due = sorted((s for s in exchange.signals.values() if s.apply_ms <= at_ms),
                     key=lambda s: (s.occurred_ms, s.seq))
        for signal in due:
            del exchange.signals[signal.seq]
            exchange.changes.delete(signal)
            apply_signal(exchange, signal)


def apply_signal(exchange: Exchange, signal: MarginSignal) -> list[Outcome]:
    lead = exchange.leads.get(signal.lead)
    if lead is None:
        return []
    expired = signal.delivered_ms - signal.occurred_ms > exchange.config.signal_expiry_ms
    outcomes = []
    for relation in list(lead.copiers.values()):
        if relation.seq > signal.last_relation:
            continue  # followed after the adjustment: nothing is applied retroactively
        account = exchange.accounts[account_id(relation.copier, WalletKind.COPY)]
        position = account.positions.get((signal.symbol, relation.lead))
        if position is None or not position.isolated:
            continue
        outcomes.append(_sync_one(exchange, signal, relation, account, position, expired))
    for outcome in outcomes:
        exchange.changes.append(outcome)
    exchange.remember("outcomes", outcomes)
    exchange.emit(("margin_sync", signal.lead, signal.symbol, outcomes))
    return outcomes


def _sync_one(exchange: Exchange, signal: MarginSignal, relation, account, position, expired: bool) -> Outcome:
    from ..margin import check_margin_change, removable

    def outcome(status, code=None, message=None, delta=None):
        return Outcome(exchange.next_id("outcome"), exchange.now_ms, signal.lead, f"M{signal.seq}", relation.copier,
                       signal.symbol, "margin_sync", status, code, message, None, None, delta)

    if expired:
        late = (signal.delivered_ms - signal.occurred_ms) / 1000
        return outcome("failed", "SIGNAL_EXPIRED", f"the margin signal arrived {late:g} s after it happened "
                       f"(limit {exchange.config.signal_expiry_ms / 1000:g} s) and was dropped")
    delta = usdt(signal.ratio * position.margin)
    if delta < 0:
        delta = max(delta, -removable(exchange, position))  # never more than the maximum removable
    if delta == 0:
        return outcome("failed", "MAX_REMOVABLE_EXCEEDED" if signal.delta < 0 else "INVALID_AMOUNT",
                       "nothing can be synchronized for this position now")
    try:
        check_margin_change(exchange, account, position, delta)
    except Rejected as rejection:
        return outcome("failed", rejection.code, rejection.message)
    position.margin += delta
    exchange.changes.save(position, position.MARGIN)
    exchange.touch(account)
    return outcome("filled", delta=delta)


DUE_WORK.append(SignalDelivery())
