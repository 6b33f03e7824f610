"""What an account is worth right now: wallet, margins, unrealized PnL, equity, available balance.

Computed on demand from positions and mark prices — a price tick never recomputes every account.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import TYPE_CHECKING

from .money import ZERO

if TYPE_CHECKING:
    from .accounts import TradingAccount
    from .exchange import Exchange


@dataclass(slots=True)  # not frozen: built per copier in a fan-out (README, Performance)
class AccountValue:
    wallet_balance: Decimal
    isolated_margin: Decimal
    cross_initial_margin: Decimal
    order_margin: Decimal
    cross_unrealized: Decimal
    isolated_unrealized: Decimal
    cross_maintenance: Decimal

    @property
    def unrealized_pnl(self) -> Decimal:
        return self.cross_unrealized + self.isolated_unrealized

    @property
    def equity(self) -> Decimal:
        return self.wallet_balance + self.unrealized_pnl

    @property
    def margin_used(self) -> Decimal:
        return self.isolated_margin + self.cross_initial_margin + self.order_margin

    @property
    def available(self) -> Decimal:
        """SPEC §1: positive unrealized PnL can never be transferred out."""
        free = (self.wallet_balance - self.isolated_margin - self.cross_initial_margin - self.order_margin
                + min(ZERO, self.cross_unrealized))
        return max(ZERO, free)

    @property
    def cross_margin_balance(self) -> Decimal:
        """SPEC §4: what backs the cross positions."""
        return self.wallet_balance - self.isolated_margin - self.order_margin + self.cross_unrealized

    @property
    def margin_ratio(self) -> Decimal | None:
        """Maintenance over margin balance: 1 (100%) means liquidation. None without cross risk."""
        if self.cross_maintenance == 0:
            return None
        balance = self.cross_margin_balance
        return None if balance <= 0 else self.cross_maintenance / balance


def value_account(exchange: "Exchange", account: "TradingAccount") -> AccountValue:
    isolated_margin = cross_im = cross_upnl = isolated_upnl = cross_mm = ZERO
    markets = exchange.markets
    for position in account.positions.values():
        mark = markets[position.symbol].mark
        upnl = position.unrealized_pnl(mark)
        if position.isolated:
            isolated_margin += position.margin
            isolated_upnl += upnl
        else:
            cross_im += position.initial_margin
            cross_upnl += upnl
            cross_mm += position.maintenance_margin(exchange.instrument(position.symbol), mark)
    order_margin = sum((order.reserved_margin for order in account.orders.values()), ZERO)
    return AccountValue(exchange.ledger.balance(account.id), isolated_margin, cross_im, order_margin,
                        cross_upnl, isolated_upnl, cross_mm)


def available_balance(exchange: "Exchange", account: "TradingAccount") -> Decimal:
    if not account.positions and not account.orders:
        return max(ZERO, exchange.ledger.balance(account.id))
    return value_account(exchange, account).available


def exact_cross_margin(exchange: "Exchange", account: "TradingAccount") -> tuple[Decimal, Decimal]:
    """(cross margin balance, Σ cross maintenance margin), unrounded: the liquidation condition."""
    with localcontext(prec=50):
        balance = exchange.ledger.balance(account.id)
        balance -= sum((order.reserved_margin for order in account.orders.values()), ZERO)
        maintenance = ZERO
        for position in account.positions.values():
            if position.isolated:
                balance -= position.margin
                continue
            mark = exchange.markets[position.symbol].mark
            balance += position.exact_unrealized_pnl(mark)
            maintenance += position.exact_maintenance_margin(exchange.instruments[position.symbol], mark)
        return balance, maintenance
