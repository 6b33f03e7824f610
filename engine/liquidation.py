"""Liquidation, the insurance fund and auto-deleveraging (SPEC §5).

Liquidation fills at mark. Above the first risk tier a position is cut a tier at a time until it is
healthy; in the first tier it is closed whole. Each liquidation fill pays the liquidation fee rate to
the insurance fund. A deficit — a loss beyond what the position or account had — is paid by the
fund; what the fund cannot pay is recovered by closing profitable opposite positions at the bankrupt
position's bankruptcy price, highest rank first. If nothing is left to deleverage, the fund goes
negative as the last resort: a user balance never does.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal, localcontext
from typing import TYPE_CHECKING, ClassVar

from .accounts import TradingAccount
from .clock import format_time
from .fills import Fill
from .instruments import Instrument
from .ledger import INSURANCE_FUND, MARKET, EntryType
from .money import ZERO, display, floor_to_step, fmt, from_units, to_units, usdt
from .positions import Position, side_name

if TYPE_CHECKING:
    from .exchange import Exchange


@dataclass(slots=True, frozen=True)
class Liquidation:
    TABLE: ClassVar[str] = "liquidations"
    COLUMNS: ClassVar[tuple[str, ...]] = ("seq", "at_ms", "user", "account", "symbol", "lead", "side", "qty",
                                          "price", "fee", "kind", "insurance")
    seq: int
    at_ms: int
    user: str
    account: str     # futures | copy | elite
    symbol: str
    lead: str
    side: int
    qty: Decimal
    price: Decimal
    fee: Decimal
    kind: str        # partial | full | adl
    insurance: Decimal  # what the insurance fund received (+) or paid (−) for this event

    def row(self) -> tuple:
        return (self.seq, self.at_ms, self.user, self.account, self.symbol, self.lead, self.side,
                to_units(self.qty), to_units(self.price), to_units(self.fee), self.kind, to_units(self.insurance))

    @classmethod
    def from_row(cls, row: tuple) -> "Liquidation":
        return cls(row[0], row[1], row[2], row[3], row[4], row[5], row[6], from_units(row[7]),
                   from_units(row[8]), from_units(row[9]), row[10], from_units(row[11]))

    def view(self) -> dict:
        return {"user": self.user, "account": self.account, "symbol": self.symbol, "qty": fmt(self.qty),
                "price": fmt(self.price), "fee": fmt(self.fee), "kind": self.kind, "side": side_name(self.side),
                "lead": self.lead or None, "insurance": fmt(self.insurance), "at": format_time(self.at_ms)}


def liquidation_fee_rate(exchange: "Exchange", instrument: Instrument) -> Decimal:
    configured = exchange.config.liquidation_fee
    return instrument.liquidation_fee if configured is None else configured


def isolated_unhealthy(exchange: "Exchange", position: Position) -> bool:
    mark = exchange.markets[position.symbol].mark
    instrument = exchange.instruments[position.symbol]
    with localcontext(prec=50):
        equity = position.margin + position.exact_unrealized_pnl(mark)
    return equity <= position.exact_maintenance_margin(instrument, mark)


def cross_unhealthy(exchange: "Exchange", account: TradingAccount) -> bool:
    from .valuation import exact_cross_margin
    balance, maintenance = exact_cross_margin(exchange, account)
    return maintenance > 0 and balance <= maintenance


def check_symbol(exchange: "Exchange", symbol: str) -> None:
    """Liquidate whatever the symbol's current mark has pushed past its liquidation condition."""
    mark = exchange.markets[symbol].mark
    fired, multi = exchange.risk.crossed(symbol, mark)
    for account_id, position_symbol, lead in fired:
        account = exchange.accounts[account_id]
        position = account.positions.get((position_symbol, lead))
        if position is None:
            continue
        if position.isolated:
            if isolated_unhealthy(exchange, position):
                liquidate_isolated(exchange, account, position)
                continue
        elif cross_unhealthy(exchange, account):
            liquidate_cross(exchange, account)
            continue
        exchange.risk.refresh(account)  # within rounding of its price: back into the book
    for account_id in multi:
        account = exchange.accounts[account_id]
        if cross_unhealthy(exchange, account):
            liquidate_cross(exchange, account)
        else:
            # Its positions' liquidation prices depend on this symbol's mark: keep the shown ones current.
            exchange.risk.refresh(account)


def _cancel_orders(exchange: "Exchange", account: TradingAccount, symbol: str | None, lead: str | None) -> None:
    from .orders import cancel_order
    for order in list(account.orders.values()):
        if symbol is None or (order.symbol == symbol and order.lead == lead):
            cancel_order(exchange, account, order, "cancelled by liquidation")


def _step_down_qty(instrument: Instrument, position: Position, mark: Decimal) -> Decimal | None:
    """How much to close to bring the notional down one tier; None in the first tier (close whole)."""
    tier = instrument.tier_index(position.qty * mark)
    if tier == 0:
        return None
    keep = floor_to_step(instrument.tiers[tier - 1].max_notional / mark, instrument.step)
    return max(position.qty - keep, instrument.step)


def _record(exchange: "Exchange", account: TradingAccount, position: Position, qty: Decimal, price: Decimal,
            fee: Decimal, kind: str, insurance: Decimal) -> None:
    record = Liquidation(exchange.next_id("liquidation"), exchange.now_ms, account.user, account.kind,
                         position.symbol, position.lead, position.side, qty, price, fee, kind, insurance)
    exchange.changes.append(record)
    exchange.remember("liquidations", [record])
    exchange.emit(record)


def _close_at(exchange: "Exchange", account: TradingAccount, position: Position, qty: Decimal, price: Decimal,
              kind: str) -> Fill:
    from .trading import apply_fill
    held = position.qty
    fill = apply_fill(exchange, account, exchange.instruments[position.symbol], position.lead, -position.side, qty,
                      price, leverage=position.leverage, margin_mode=position.margin_mode, fee_rate=ZERO, kind=kind,
                      ref=f"{kind}:{account.id}")
    exchange.forced_fills.append((account, fill, held))  # for the trade listeners, once risk settles
    return fill


def liquidate_isolated(exchange: "Exchange", account: TradingAccount, position: Position) -> None:
    instrument = exchange.instruments[position.symbol]
    mark = exchange.markets[position.symbol].mark
    rate = liquidation_fee_rate(exchange, instrument)
    ledger, now = exchange.ledger, exchange.now_ms
    _cancel_orders(exchange, account, position.symbol, position.lead)
    where = f"{position.symbol} {side_name(position.side)} in {account.kind.capitalize()}"
    while position.qty > 0 and isolated_unhealthy(exchange, position):
        cut = _step_down_qty(instrument, position, mark)
        if cut is not None and cut < position.qty:
            margin_before = position.margin
            fill = _close_at(exchange, account, position, cut, mark, "liquidation")
            # The fee comes out of what the closed part's margin has left after its loss, and only the
            # rest from the remaining position's margin (never below zero): taking it all from the
            # remainder could leave that unhealthy, or its margin negative, after the cut.
            left = max(ZERO, margin_before - position.margin + fill.realized_pnl)
            fee = usdt(rate * cut * mark)
            from_margin = min(max(ZERO, fee - left), position.margin)
            fee = min(fee, left) + from_margin
            position.margin -= from_margin
            exchange.changes.save(position)
            ledger.move(EntryType.LIQUIDATION_FEE, account.id, INSURANCE_FUND, fee, now, "liquidation fee")
            _record(exchange, account, position, cut, mark, fee, "partial", fee)
            exchange.notify(account.user, "liquidation",
                            f"Partial liquidation of your {where}: {fmt(cut)} closed at {fmt(mark)} "
                            f"to bring the position down a risk tier.")
            continue
        qty, margin = position.qty, position.margin
        before = ledger.balance(INSURANCE_FUND)
        wallet_before = ledger.balance(account.id)
        _close_at(exchange, account, position, qty, mark, "liquidation")
        # The position loses its whole margin: what the loss did not take goes to the fund.
        remaining = margin - (wallet_before - ledger.balance(account.id))
        fee = min(usdt(rate * qty * mark), remaining)
        ledger.move(EntryType.LIQUIDATION_FEE, account.id, INSURANCE_FUND, fee, now, "liquidation fee")
        ledger.move(EntryType.LIQUIDATION_FEE, account.id, INSURANCE_FUND, remaining - fee, now, "remaining margin")
        _record(exchange, account, position, qty, mark, fee, "full", ledger.balance(INSURANCE_FUND) - before)
        exchange.notify(account.user, "liquidation",
                        f"Your {where} was liquidated: {fmt(qty)} at {fmt(mark)}. "
                        f"Isolated margin lost: {display(margin)} USDT.")
        break
    exchange.risk.refresh(account)


def liquidate_cross(exchange: "Exchange", account: TradingAccount) -> None:
    ledger, now = exchange.ledger, exchange.now_ms
    bankrupt = False
    _cancel_orders(exchange, account, None, None)
    while cross_unhealthy(exchange, account):
        cross = [p for p in account.positions.values() if not p.isolated]
        if not cross:
            break
        position = max(cross, key=lambda p: (p.qty * exchange.markets[p.symbol].mark, p.symbol, p.lead))
        instrument = exchange.instruments[position.symbol]
        mark = exchange.markets[position.symbol].mark
        cut = _step_down_qty(instrument, position, mark)
        whole = cut is None or cut >= position.qty
        qty = position.qty if whole else cut
        before = ledger.balance(INSURANCE_FUND)
        _close_at(exchange, account, position, qty, mark, "liquidation")
        fee = min(usdt(liquidation_fee_rate(exchange, instrument) * qty * mark),
                  max(ZERO, -_cross_shortfall(exchange, account)))
        ledger.move(EntryType.LIQUIDATION_FEE, account.id, INSURANCE_FUND, fee, now, "liquidation fee")
        deficit = _cross_shortfall(exchange, account)
        if deficit > 0 and not any(not p.isolated for p in account.positions.values()):
            cover_deficit(exchange, instrument, position.side, deficit, mark, qty, beneficiary=account.id)
            bankrupt = True
        _record(exchange, account, position, qty, mark, fee, "full" if whole else "partial",
                ledger.balance(INSURANCE_FUND) - before)
        exchange.notify(account.user, "liquidation",
                        f"Cross liquidation in {account.kind.capitalize()}: {position.symbol} "
                        f"{side_name(position.side)} {fmt(qty)} closed at {fmt(mark)}.")
    shortfall = _cross_shortfall(exchange, account)
    if shortfall > 0:
        # Isolated positions remain but the wallet is short of their margins: the fund makes the account whole.
        cover_deficit(exchange, None, 0, shortfall, ZERO, ZERO, beneficiary=account.id)
        bankrupt = True
    if bankrupt and not account.restricted:
        # SPEC §6: a liquidation that ended in negative equity puts the account under reduce-only.
        account.restricted = True
        exchange.changes.save(account)
        exchange.notify(account.user, "restriction", f"{account.kind.capitalize()} ended a liquidation in negative "
                        "equity and is now reduce-only; the operator can lift it with a restrict line.")
    exchange.risk.refresh(account)


def _cross_shortfall(exchange: "Exchange", account: TradingAccount) -> Decimal:
    """How far the wallet is below the margins its isolated positions own (> 0: the cross side is bankrupt).

    Isolated margin is an allocation inside the wallet: a cross loss may never take it, or a later
    isolated liquidation would take the wallet below zero.
    """
    isolated = account.isolated_margin()
    return isolated - exchange.ledger.balance(account.id)


def cover_deficit(exchange: "Exchange", instrument: Instrument | None, side: int, deficit: Decimal,
                  price: Decimal, qty: Decimal, beneficiary: str = MARKET) -> None:
    """Pay a bankrupt position's deficit: the insurance fund first, then auto-deleveraging.

    `beneficiary` is who is owed: `market` when an isolated loss was capped at the margin, or the
    bankrupt account itself when a cross loss took its wallet below zero.
    """
    ledger, now = exchange.ledger, exchange.now_ms
    fund = max(ZERO, ledger.balance(INSURANCE_FUND))
    paid = min(fund, deficit)
    ledger.move(EntryType.INSURANCE_PAYOUT, INSURANCE_FUND, beneficiary, paid, now, "bankruptcy")
    remaining = deficit - paid
    if remaining > 0 and instrument is not None and qty > 0:
        recovered = auto_deleverage(exchange, instrument, side, usdt(price + side * deficit / qty), price, remaining)
        if beneficiary != MARKET:
            ledger.move(EntryType.ADL, MARKET, beneficiary, recovered, now, "auto-deleveraging")
        remaining -= recovered
    if remaining > 0:
        ledger.move(EntryType.INSURANCE_PAYOUT, INSURANCE_FUND, beneficiary, remaining, now, "bankruptcy (fund short)")


def auto_deleverage(exchange: "Exchange", instrument: Instrument, bankrupt_side: int, bankruptcy: Decimal,
                    mark: Decimal, deficit: Decimal) -> Decimal:
    """Close profitable opposite positions at the bankruptcy price until `deficit` is recovered."""
    per_unit = abs(bankruptcy - mark)
    if per_unit == 0:
        return ZERO
    candidates = []
    for account in exchange.accounts.values():
        for position in account.positions.values():
            if position.symbol != instrument.symbol or position.side != -bankrupt_side:
                continue
            upnl = position.unrealized_pnl(mark)
            # Only counterparties still in profit at the bankruptcy price: ADL never makes a loss.
            if upnl <= 0 or position.side * (bankruptcy - position.entry_price) <= 0:
                continue
            equity = (position.margin if position.isolated else position.initial_margin) + upnl
            notional = position.qty * mark
            rank = (upnl / position.initial_margin) * (notional / equity)
            candidates.append((-rank, account.id, position.lead, account, position))
    candidates.sort(key=lambda c: c[:3])
    recovered = ZERO
    for _rank, _id, _lead, account, position in candidates:
        if recovered >= deficit:
            break
        units = ((deficit - recovered) / per_unit / instrument.step).to_integral_value(ROUND_CEILING) * instrument.step
        qty = min(position.qty, units)
        recovered += min(usdt(qty * per_unit), deficit - recovered)
        _close_at(exchange, account, position, qty, bankruptcy, "adl")
        _record(exchange, account, position, qty, bankruptcy, ZERO, "adl", ZERO)
        exchange.notify(account.user, "adl",
                        f"Auto-deleveraging: {fmt(qty)} of your {position.symbol} {side_name(position.side)} in "
                        f"{account.kind.capitalize()} was closed at {fmt(bankruptcy)} to cover a bankrupt position.")
        exchange.risk.refresh(account)
    return recovered
