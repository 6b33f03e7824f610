"""Adjusting isolated margin, leverage and margin mode, and the reduce-only restriction (SPEC §4, §6)."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .commands import Leverage, Margin, MarginMode, Restrict
from .errors import Rejected
from .exchange import Exchange, handles
from .leverage import setting, store_setting
from .liquidation_price import liquidation_price, max_removable
from .money import ZERO, display, fmt, usdt_up
from .order_entry import position_for, resolve_lead
from .positions import Position
from .valuation import available_balance


@dataclass(frozen=True, slots=True)
class MarginChanged:
    """An isolated margin adjustment, as the copy engine's margin sync needs to see it."""
    account: str
    symbol: str
    lead: str
    delta: Decimal
    margin_before: Decimal
    signal_delay_ms: int


def removable(exchange: Exchange, position: Position) -> Decimal:
    mark = exchange.markets[position.symbol].mark
    return max_removable(position.margin, position.unrealized_pnl(mark), position.qty * mark, position.leverage)


def preview_liquidation_price(exchange: Exchange, position: Position, delta: Decimal) -> Decimal | None:
    """The liquidation price the position would have after adding (or removing) `delta` margin."""
    instrument = exchange.instruments[position.symbol]
    return liquidation_price(instrument, position.side, position.qty, position.entry_price, position.margin + delta)


def check_margin_change(exchange: Exchange, account, position: Position | None, delta: Decimal) -> None:
    if position is None:
        raise Rejected("NO_POSITION", f"no position to adjust in {account.kind.capitalize()}")
    if not position.isolated:
        raise Rejected("NOT_ISOLATED", f"the {position.symbol} position uses cross margin: its margin is the "
                       "account's wallet; switch to isolated to adjust it")
    if delta > 0:
        free = available_balance(exchange, account)
        if delta > free:
            raise Rejected("INSUFFICIENT_BALANCE", f"Insufficient available balance: {display(delta)} USDT needed, "
                           f"{display(free)} available in {account.kind.capitalize()}")
    else:
        most = removable(exchange, position)
        if -delta > most:
            raise Rejected("MAX_REMOVABLE_EXCEEDED", f"at most {fmt(most)} USDT can be removed from the "
                           f"{position.symbol} position now; asked {fmt(-delta)}")


@handles(Margin)
def adjust_margin(exchange: Exchange, command: Margin) -> dict:
    account = exchange.account(command.user, command.account)
    exchange.market(command.symbol)
    lead = resolve_lead(exchange, account, command.lead)
    position = position_for(account, command.symbol, lead)
    exchange.check_manual(account, position)
    check_margin_change(exchange, account, position, command.delta)
    before = position.margin
    position.margin += command.delta
    exchange.changes.save(position)
    exchange.touch(account)
    change = MarginChanged(account.id, position.symbol, lead, command.delta, before, command.signal_delay_s)
    exchange.emit(change)
    for listener in exchange.margin_listeners:
        listener(exchange, account, change)
    return {"margin": fmt(position.margin), "liquidation_price": fmt(preview_liquidation_price(exchange, position, ZERO))}


@handles(Leverage)
def change_leverage(exchange: Exchange, command: Leverage) -> dict:
    account = exchange.account(command.user, command.account)
    instrument = exchange.instrument(command.symbol)
    current = setting(exchange, account, command.symbol)
    positions = [p for p in account.positions.values() if p.symbol == command.symbol]
    notional = sum((p.qty * exchange.market(p.symbol).mark for p in positions), ZERO)
    allowed = instrument.max_leverage_for(notional)
    for guard in exchange.order_guards:
        guard(exchange, account, command.symbol, command.leverage)
    if command.leverage > allowed:
        raise Rejected("LEVERAGE_NOT_ALLOWED", f"{command.symbol} allows at most {allowed}x "
                       + (f"for the open {display(notional)} USDT position" if positions else ""))
    needs = ZERO
    for position in positions:
        new_initial = usdt_up(position.entry_notional / command.leverage)
        needs += max(ZERO, new_initial - position.margin) if position.isolated else new_initial - position.initial_margin
    free = available_balance(exchange, account)
    if needs > free:
        raise Rejected("INSUFFICIENT_BALANCE", f"{command.leverage}x needs {display(needs)} USDT more margin, "
                       f"{display(free)} available in {account.kind.capitalize()}")
    for position in positions:
        if position.isolated:
            position.margin = max(position.margin, usdt_up(position.entry_notional / command.leverage))
        position.leverage = command.leverage
        exchange.changes.save(position)
    current.leverage = command.leverage
    store_setting(exchange, current)
    return {"leverage": command.leverage}


@handles(MarginMode)
def change_margin_mode(exchange: Exchange, command: MarginMode) -> None:
    account = exchange.account(command.user, command.account)
    exchange.instrument(command.symbol)
    busy = any(p.symbol == command.symbol for p in account.positions.values()) or any(
        o.symbol == command.symbol for o in account.orders.values())
    if busy:
        raise Rejected("MARGIN_MODE_LOCKED", f"{command.symbol} has an open position or order in "
                       f"{account.kind.capitalize()}: margin mode can change only when there is none")
    current = setting(exchange, account, command.symbol)
    current.margin_mode = command.mode
    store_setting(exchange, current)


@handles(Restrict)
def restrict(exchange: Exchange, command: Restrict) -> None:
    account = exchange.account(command.user, command.account)
    account.restricted = command.reduce_only
    exchange.changes.save(account)
    exchange.notify(account.user, "restriction",
                    f"{account.kind.capitalize()} is now reduce-only: you can only reduce or close positions"
                    if command.reduce_only else f"{account.kind.capitalize()} may open positions again")
