"""Applying a fill to an account's position: open, increase, reduce, close or flip, with the ledger.

`plan_fill` is pure arithmetic (used to validate before anything changes); `apply_fill` carries a
plan out. Isolated margin is an allocation inside the wallet balance, so opening moves no money;
realized PnL moves between the account and `market`, fees from the account to `fees`.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from .accounts import TradingAccount
from .fills import Fill
from .instruments import Instrument
from .ledger import FEES, MARKET, EntryType
from .money import ZERO, usdt, usdt_up
from .positions import ISOLATED, Position

if TYPE_CHECKING:
    from .exchange import Exchange


@dataclass(slots=True)  # not frozen: built per copier in a fan-out (README, Performance)
class FillPlan:
    close_qty: Decimal
    open_qty: Decimal
    realized: Decimal        # PnL of the closed part at the fill price, as the account bears it
    deficit: Decimal         # isolated loss beyond the released margin: borne by the insurance fund
    released: Decimal        # margin the closed part frees (isolated margin, or cross initial margin)
    open_margin: Decimal     # initial margin the opened part needs
    fee: Decimal

    @property
    def needs(self) -> Decimal:
        """What must be available for the opening part: its margin and the whole fee, less what closing frees."""
        return self.open_margin + self.fee - self.released - self.realized


def plan_fill(position: Position | None, side: int, qty: Decimal, price: Decimal, leverage: int,
              fee_rate: Decimal) -> FillPlan:
    close_qty = realized = released = deficit = ZERO
    if position is not None and position.side != side:
        close_qty = min(qty, position.qty)
        realized = usdt(position.side * close_qty * (price - position.entry_price))
        base = position.margin if position.isolated else position.initial_margin
        released = base if close_qty == position.qty else usdt(base * close_qty / position.qty)
        if position.isolated and realized < -released:
            # An isolated position never loses more than its margin.
            deficit, realized = -realized - released, -released
    open_qty = qty - close_qty
    if position is not None and position.side == side:
        leverage = position.leverage
    open_margin = usdt_up(open_qty * price / leverage) if open_qty else ZERO
    fee = usdt(qty * price * fee_rate)
    return FillPlan(close_qty, open_qty, realized, deficit, released, open_margin, fee)


def apply_fill(exchange: "Exchange", account: TradingAccount, instrument: Instrument, lead: str, side: int,
               qty: Decimal, price: Decimal, *, leverage: int, margin_mode: str, fee_rate: Decimal,
               maker: bool = False, kind: str = "trade", ref: str = "", plan: FillPlan | None = None) -> Fill:
    """Execute `qty` at `price` for `side` (+1 buy, −1 sell) in `account` and record the fill.

    `plan` is the one `check_opening` just made for exactly these arguments, if it did."""
    key = (instrument.symbol, lead)
    position = account.positions.get(key)
    if plan is None:
        plan = plan_fill(position, side, qty, price, leverage, fee_rate)
    now = exchange.now_ms
    ledger = exchange.ledger
    changes = exchange.changes
    opened_ms = None
    if plan.close_qty:
        opened_ms = position.opened_ms
        if position.isolated:
            position.margin -= plan.released
        if plan.deficit:
            from .liquidation import cover_deficit
            cover_deficit(exchange, instrument, position.side, plan.deficit, price, plan.close_qty)
        position.qty -= plan.close_qty
        position.realized_pnl += plan.realized
        ledger.move(EntryType.REALIZED_PNL, MARKET, account.id, plan.realized, now, ref)
        if not position.isolated and kind == "trade":
            _cover_cross_shortfall(exchange, account, instrument, position.side, price, plan.close_qty)
        if position.qty == 0:
            del account.positions[key]
            changes.delete(position)
            exchange.risk.forget(position)
            if position.tp is not None or position.sl is not None:
                # Its TP/SL go with it: left in the book they would close the next position on this key.
                position.tp = position.sl = None
                exchange.index_tp_sl(position)
            position = None
        else:
            changes.save(position)
    if plan.open_qty:
        if position is None:
            position = Position(account.id, instrument.symbol, lead, side, plan.open_qty, price, leverage,
                                margin_mode, plan.open_margin if margin_mode == ISOLATED else ZERO, now)
            account.positions[key] = position
            changes.insert(position)
        else:
            total = position.qty + plan.open_qty
            position.entry_price = usdt((position.qty * position.entry_price + plan.open_qty * price) / total)
            if position.isolated:
                position.margin += plan.open_margin
            position.qty = total
            changes.save(position)
    # Fees never push a wallet below zero (a closing fill after a deep loss), nor below the margins its
    # isolated positions own: a fee is paid from the available balance, never from isolated margin.
    isolated = account.isolated_margin()
    fee = min(plan.fee, max(ZERO, ledger.balance(account.id) - isolated))
    ledger.move(EntryType.TRADING_FEE, account.id, FEES, fee, now, ref)
    fill = Fill(exchange.next_id("fill"), now, account.id, instrument.symbol, lead, side, qty, price, fee,
                plan.realized, maker, kind, ref, opened_ms, plan.close_qty)
    changes.append(fill)
    exchange.touch(account)
    exchange.emit(fill)
    if plan.close_qty:
        for listener in exchange.close_listeners:
            listener(exchange, account, fill)
    return fill


def _cover_cross_shortfall(exchange: "Exchange", account: TradingAccount, instrument: Instrument, side: int,
                           price: Decimal, qty: Decimal) -> None:
    """A cross close filled past the account's bankruptcy price (slippage, tick rounding) must not leave the
    wallet negative or short of its isolated margins: the insurance fund pays, as for an isolated position.
    (Liquidation fills settle their deficit in engine.liquidation once the cross positions are closed.)"""
    isolated = account.isolated_margin()
    shortfall = isolated - exchange.ledger.balance(account.id)
    if shortfall > 0:
        from .liquidation import cover_deficit
        cover_deficit(exchange, instrument, side, shortfall, price, qty, beneficiary=account.id)
