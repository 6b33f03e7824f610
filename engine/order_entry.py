"""Placing orders: validation (every rule of SPEC §3, each with its code), then execution or rest."""
from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING

from .accounts import TradingAccount
from .commands import Cancel, Close, Order as OrderCommand, Reverse
from .errors import Rejected
from .exchange import Exchange, handles
from .fills import Fill, fee_rate, taker_price
from .instruments import Instrument
from .leverage import setting, store_setting
from .money import ZERO, display, floor_to_step, fmt, is_multiple
from .orders import EXPIRED, OPEN, UNTRIGGERED, Order, rest_order, cancel_order
from .positions import Position
from .trading import FillPlan, apply_fill, plan_fill
from .valuation import available_balance

if TYPE_CHECKING:
    pass

SIDES = {"buy": 1, "sell": -1}


def check_qty(instrument: Instrument, qty: Decimal) -> None:
    if qty <= 0:
        raise Rejected("INVALID_QTY", "quantity must be greater than zero")
    if not is_multiple(qty, instrument.step):
        raise Rejected("INVALID_QTY", f"{instrument.symbol} quantity must be a multiple of {fmt(instrument.step)}, got {fmt(qty)}")
    if qty < instrument.min_qty:
        raise Rejected("BELOW_MIN_QTY", f"{instrument.symbol} minimum quantity is {fmt(instrument.min_qty)}, got {fmt(qty)}")


def check_price(instrument: Instrument, price: Decimal, name: str = "price") -> None:
    if price <= 0 or not is_multiple(price, instrument.tick):
        raise Rejected("INVALID_PRICE", f"{name} {fmt(price)} must be a positive multiple of the {instrument.symbol} "
                       f"tick {fmt(instrument.tick)}")


def position_for(account: TradingAccount, symbol: str, lead: str | None) -> Position | None:
    return account.positions.get((symbol, lead or ""))


def resolve_lead(exchange: Exchange, account: TradingAccount, lead: str | None) -> str:
    if account.kind != "copy":
        if lead is not None:
            raise Rejected("BAD_FIELD", "lead applies to copy-account positions only")
        return ""
    if lead is None:
        raise Rejected("BAD_FIELD", "in the copy account, say which lead's position: add \"lead\"")
    return lead


@dataclass(slots=True, frozen=True)  # frozen: a fan-out shares one among every copier opening the same size
class Opening:
    """What opening or increasing means before the account is looked at: the fill plan, and the contract rule
    (minimum notional, leverage tier) it breaks, if any, as (code, sentence)."""
    plan: FillPlan
    refusal: tuple[str, str] | None


def plan_opening(instrument: Instrument, position: Position | None, side: int, qty: Decimal, price: Decimal,
                 leverage: int, rate: Decimal) -> Opening:
    """The half of `check_opening` that depends on the position alone: a fan-out works it out once for every
    copier opening the same size on no position."""
    plan = plan_fill(position, side, qty, price, leverage, rate)
    if plan.open_qty == 0:
        return Opening(plan, None)
    if qty * price < instrument.min_notional:
        return Opening(plan, ("BELOW_MIN_NOTIONAL", f"order notional {display(qty * price)} USDT is below the "
                              f"{instrument.symbol} minimum of {display(instrument.min_notional)} USDT"))
    resulting = (plan.open_qty + (position.qty if position is not None and position.side == side else ZERO)) * price
    used = position.leverage if position is not None and position.side == side else leverage
    allowed = instrument.max_leverage_for(resulting)
    if used > allowed:
        return Opening(plan, ("LEVERAGE_NOT_ALLOWED", f"{used}x is above the {allowed}x allowed for a "
                              f"{display(resulting)} USDT {instrument.symbol} position; lower the leverage or the size"))
    return Opening(plan, None)


def check_opening(exchange: Exchange, account: TradingAccount, instrument: Instrument, position: Position | None,
                  side: int, qty: Decimal, price: Decimal, leverage: int, maker: bool,
                  rate: Decimal | None = None, opening: Opening | None = None) -> FillPlan:
    """The rules for anything that opens or increases a position: restriction, leverage, notional, balance.
    Returns the fill plan it checked. `rate`: the fee rate, when the caller has it; `opening`: the
    `plan_opening` of exactly these arguments, when the caller has it (a fan-out works both out once)."""
    if opening is None:
        if rate is None:
            rate = fee_rate(exchange.config, instrument, maker)
        opening = plan_opening(instrument, position, side, qty, price, leverage, rate)
    plan = opening.plan
    if plan.open_qty == 0:
        return plan
    if account.restricted:
        raise Rejected("RISK_RESTRICTED", f"{account.kind.capitalize()} is under a reduce-only restriction: "
                       "you can only reduce or close positions")
    if opening.refusal is not None:
        raise Rejected(*opening.refusal)
    free = available_balance(exchange, account)
    if plan.needs > free:
        raise Rejected("INSUFFICIENT_BALANCE", f"Insufficient available balance: {display(plan.needs)} USDT needed, "
                       f"{display(free)} available in {account.kind.capitalize()}")
    return plan


def execute_market(exchange: Exchange, account: TradingAccount, instrument: Instrument, lead: str, side: int,
                   qty: Decimal, *, leverage: int, margin_mode: str, ref: str, price: Decimal | None = None) -> Fill:
    """A taker fill now, at the fill model's price unless one is given (a marketable limit's cap)."""
    market = exchange.market(instrument.symbol)
    fill_price = price or taker_price(exchange.config, instrument, market.last, side, qty)
    fill = apply_fill(exchange, account, instrument, lead, side, qty, fill_price, leverage=leverage,
                      margin_mode=margin_mode, fee_rate=fee_rate(exchange.config, instrument, False), ref=ref)
    exchange.after_trade(account, fill)
    return fill


def attach_tp_sl(exchange: Exchange, position: Position | None, tp: Decimal | None, sl: Decimal | None) -> None:
    if position is None or (tp is None and sl is None):
        return
    if tp is not None:
        position.tp = tp
    if sl is not None:
        position.sl = sl
    exchange.changes.save(position)
    exchange.index_tp_sl(position)


def check_tp_sl(instrument: Instrument, side: int, reference: Decimal, tp: Decimal | None, sl: Decimal | None) -> None:
    for name, level, direction in (("tp", tp, 1), ("sl", sl, -1)):
        if level is None:
            continue
        check_price(instrument, level, name)
        if side * direction * (level - reference) <= 0:
            where = "above" if side * direction > 0 else "below"
            raise Rejected("INVALID_PRICE", f"{name} {fmt(level)} must be {where} {fmt(reference)} for a "
                           f"{'long' if side > 0 else 'short'}")


@handles(OrderCommand)
def place_order(exchange: Exchange, command: OrderCommand) -> dict:
    account = exchange.account(command.user, command.account)
    instrument = exchange.instrument(command.symbol)
    market = exchange.market(command.symbol)
    lead = resolve_lead(exchange, account, command.lead)
    side = SIDES[command.side]
    position = position_for(account, command.symbol, lead)
    exchange.check_manual(account, position)
    reference = command.price or market.last
    qty = command.qty if command.qty is not None else floor_to_step(command.amount / reference, instrument.step)
    check_qty(instrument, qty)
    for name in ("price", "trigger", "price_to"):
        value = getattr(command, name)
        if value is not None:
            check_price(instrument, value, name)
    current = setting(exchange, account, command.symbol)
    leverage = command.leverage or current.leverage
    for guard in exchange.order_guards:
        guard(exchange, account, command.symbol, leverage)
    margin_mode = command.margin_mode or current.margin_mode
    if margin_mode != current.margin_mode and (position is not None or any(
            o.symbol == command.symbol for o in account.orders.values())):
        raise Rejected("MARGIN_MODE_LOCKED", f"{command.symbol} has an open position or order in "
                       f"{account.kind.capitalize()}: margin mode can change only when there is none")
    if position is not None and command.leverage and command.leverage != position.leverage:
        raise Rejected("LEVERAGE_NOT_ALLOWED", f"the open {command.symbol} position runs at {position.leverage}x: "
                       "change it with the leverage action first")
    if account.kind == "copy" and not command.reduce_only and (position is None or position.side == side):
        raise Rejected("REDUCE_ONLY", "the copy account holds copies of lead orders only: you can reduce or close "
                       "them, not open new ones")
    if command.reduce_only or account.kind == "copy":
        if position is None or position.side == side:
            raise Rejected("REDUCE_ONLY", f"reduce-only: there is no {'short' if side > 0 else 'long'} "
                           f"{command.symbol} position to reduce")
        qty = min(qty, position.qty)
    check_tp_sl(instrument, side, reference, command.tp, command.sl)
    if (leverage, margin_mode) != (current.leverage, current.margin_mode) and position is None:
        # A new setting object: the stored one changes only when the order is accepted (store_setting).
        current = replace(current, leverage=leverage, margin_mode=margin_mode)
    if command.client_id is not None and any(o.client_id == command.client_id for o in account.orders.values()):
        raise Rejected("BAD_FIELD", f"an open order already has client_id {command.client_id!r}")
    handler = _TYPES[command.type]
    return handler(exchange, account, instrument, market, lead, side, qty, leverage, margin_mode, command, current)


def _client_id(exchange: Exchange, command: OrderCommand, seq: int) -> str:
    return command.client_id or f"o{seq}"


def _market(exchange, account, instrument, market, lead, side, qty, leverage, margin_mode, command, current):
    price = taker_price(exchange.config, instrument, market.last, side, qty)
    position = position_for(account, instrument.symbol, lead)
    check_opening(exchange, account, instrument, position, side, qty, price, leverage, False)
    store_setting(exchange, current)
    seq = exchange.next_id("order")
    fill = execute_market(exchange, account, instrument, lead, side, qty, leverage=leverage,
                          margin_mode=margin_mode, ref=_client_id(exchange, command, seq), price=price)
    attach_tp_sl(exchange, position_for(account, instrument.symbol, lead), command.tp, command.sl)
    return {"status": "filled", "client_id": _client_id(exchange, command, seq), "qty": fmt(fill.qty),
            "price": fmt(fill.price), "fee": fmt(fill.fee)}


def _new_order(exchange, account, instrument, lead, side, qty, leverage, margin_mode, command, *, type_, status,
               price=None, trigger=None, client_id=None) -> Order:
    seq = exchange.next_id("order")
    return Order(seq, account.id, instrument.symbol, lead, client_id or _client_id(exchange, command, seq), side,
                 type_, qty, price, trigger, command.trigger_by, command.callback, command.tif, command.reduce_only,
                 leverage, margin_mode, status, exchange.now_ms, tp=command.tp, sl=command.sl)


def _reservation(exchange, account, instrument, lead, side, qty, price, leverage) -> Decimal:
    plan = plan_fill(position_for(account, instrument.symbol, lead), side, qty, price, leverage,
                     fee_rate(exchange.config, instrument, True))
    return plan.open_margin + plan.fee if plan.open_qty else ZERO


def _limit(exchange, account, instrument, market, lead, side, qty, leverage, margin_mode, command, current,
           price=None, client_id=None):
    price = price or command.price
    marketable = side * (market.last - price) <= 0
    if marketable and command.type == "post_only":
        raise Rejected("POST_ONLY_WOULD_TAKE", f"post-only {command.side} at {fmt(price)} would take liquidity "
                       f"(last {fmt(market.last)}); it was not placed")
    position = position_for(account, instrument.symbol, lead)
    if marketable:
        taker = taker_price(exchange.config, instrument, market.last, side, qty)
        fill_price = min(taker, price) if side > 0 else max(taker, price)
        check_opening(exchange, account, instrument, position, side, qty, fill_price, leverage, False)
        store_setting(exchange, current)
        seq = exchange.next_id("order")
        ref = client_id or _client_id(exchange, command, seq)
        fill = execute_market(exchange, account, instrument, lead, side, qty, leverage=leverage,
                              margin_mode=margin_mode, ref=ref, price=fill_price)
        attach_tp_sl(exchange, position_for(account, instrument.symbol, lead), command.tp, command.sl)
        return {"status": "filled", "client_id": ref, "qty": fmt(fill.qty), "price": fmt(fill.price),
                "fee": fmt(fill.fee)}
    if command.tif in ("IOC", "FOK"):
        # Nothing fills at once and the order may not rest: it expires, changing nothing.
        return {"status": EXPIRED, "client_id": client_id or command.client_id}
    check_opening(exchange, account, instrument, position, side, qty, price, leverage, True)
    reserved = _reservation(exchange, account, instrument, lead, side, qty, price, leverage)
    store_setting(exchange, current)
    order = _new_order(exchange, account, instrument, lead, side, qty, leverage, margin_mode, command,
                       type_=command.type if command.type != "scaled" else "limit", status=OPEN, price=price,
                       client_id=client_id)
    order.reserved_margin = reserved
    rest_order(exchange, account, order)
    return {"status": OPEN, "client_id": order.client_id}


def _stop(exchange, account, instrument, market, lead, side, qty, leverage, margin_mode, command, current):
    reference = market.mark if command.trigger_by == "mark" else market.last
    trigger = command.trigger
    if command.type != "trailing_stop" and side * (reference - trigger) >= 0:
        raise Rejected("INVALID_PRICE", f"a {command.side} stop at {fmt(trigger)} would trigger at once "
                       f"({command.trigger_by} {fmt(reference)}); use a market or limit order instead")
    position = position_for(account, instrument.symbol, lead)
    check_opening(exchange, account, instrument, position, side, qty, command.price or reference, leverage, False)
    store_setting(exchange, current)
    order = _new_order(exchange, account, instrument, lead, side, qty, leverage, margin_mode, command,
                       type_=command.type, status=UNTRIGGERED, price=command.price, trigger=trigger)
    if command.type == "trailing_stop":
        order.extreme = reference
    rest_order(exchange, account, order)
    return {"status": UNTRIGGERED, "client_id": order.client_id}


def _scaled(exchange, account, instrument, market, lead, side, qty, leverage, margin_mode, command, current):
    if command.tif != "GTC":
        # Its levels only rest: as IOC/FOK every level would expire and nothing would be placed.
        raise Rejected("BAD_FIELD", f"scaled orders rest on the book: tif must be GTC, got {command.tif}")
    count = command.count
    each = floor_to_step(qty / count, instrument.step)
    check_qty(instrument, each)
    low, high = command.price, command.price_to
    step = (high - low) / (count - 1)
    prices = [((low + step * i) / instrument.tick).to_integral_value() * instrument.tick for i in range(count)]
    sizes = [each] * (count - 1) + [qty - each * (count - 1)]
    position = position_for(account, instrument.symbol, lead)
    free = available_balance(exchange, account)
    reserved = ZERO
    for price, size in zip(prices, sizes):
        if side * (market.last - price) <= 0:
            raise Rejected("INVALID_PRICE", f"scaled order level {fmt(price)} would fill at once "
                           f"(last {fmt(market.last)}); scaled orders only rest")
        check_opening(exchange, account, instrument, position, side, size, price, leverage, True)
        # Each level alone may fit while all of them do not: the earlier levels' reservations count.
        plan = plan_fill(position, side, size, price, leverage, fee_rate(exchange.config, instrument, True))
        if plan.open_qty and reserved + plan.needs > free:
            raise Rejected("INSUFFICIENT_BALANCE", f"Insufficient available balance: {display(reserved + plan.needs)} "
                           f"USDT needed for the scaled levels, {display(free)} available in "
                           f"{account.kind.capitalize()}")
        reserved += _reservation(exchange, account, instrument, lead, side, size, price, leverage)
    base = command.client_id or f"s{exchange.next_id('order')}"
    placed = []
    for i, (price, size) in enumerate(zip(prices, sizes), start=1):
        placed.append(_limit(exchange, account, instrument, market, lead, side, size, leverage, margin_mode, command,
                             current, price=price, client_id=f"{base}-{i}")["client_id"])
    return {"status": OPEN, "client_ids": placed}


_TYPES = {"market": _market, "limit": _limit, "post_only": _limit, "stop_market": _stop, "stop_limit": _stop,
          "trailing_stop": _stop, "scaled": _scaled}


@handles(Cancel)
def cancel(exchange: Exchange, command: Cancel) -> None:
    account = exchange.account(command.user, command.account)
    for order in account.orders.values():
        if order.client_id == command.client_id:
            cancel_order(exchange, account, order, "cancelled by you")
            return
    raise Rejected("UNKNOWN_ORDER", f"no open order {command.client_id!r} in {account.kind.capitalize()}")


def close_position(exchange: Exchange, account: TradingAccount, position: Position, qty: Decimal | None,
                   ref: str) -> Fill:
    instrument = exchange.instrument(position.symbol)
    qty = position.qty if qty is None else qty
    return execute_market(exchange, account, instrument, position.lead, -position.side, qty,
                          leverage=position.leverage, margin_mode=position.margin_mode, ref=ref)


@handles(Close)
def close(exchange: Exchange, command: Close) -> dict:
    account = exchange.account(command.user, command.account)
    instrument = exchange.instrument(command.symbol)
    exchange.market(command.symbol)
    lead = resolve_lead(exchange, account, command.lead) if command.lead or account.kind == "copy" else ""
    position = position_for(account, command.symbol, lead)
    if position is None:
        raise Rejected("NO_POSITION", f"no {command.symbol} position in {account.kind.capitalize()}"
                       + (f" copying {lead}" if lead else ""))
    exchange.check_manual(account, position)
    if command.qty is not None:
        check_qty(instrument, command.qty)
        if command.qty > position.qty:
            raise Rejected("INVALID_QTY", f"the position holds {fmt(position.qty)}; cannot close {fmt(command.qty)}")
    fill = close_position(exchange, account, position, command.qty, f"close:{exchange.next_id('order')}")
    return {"status": "filled", "qty": fmt(fill.qty), "price": fmt(fill.price), "realized_pnl": fmt(fill.realized_pnl)}


@handles(Reverse)
def reverse(exchange: Exchange, command: Reverse) -> dict:
    account = exchange.account(command.user, command.account)
    instrument = exchange.instrument(command.symbol)
    market = exchange.market(command.symbol)
    lead = resolve_lead(exchange, account, command.lead) if command.lead or account.kind == "copy" else ""
    if account.kind == "copy":
        raise Rejected("REDUCE_ONLY", "the copy account cannot open positions by hand; close the copy instead")
    position = position_for(account, command.symbol, lead)
    if position is None:
        raise Rejected("NO_POSITION", f"no {command.symbol} position in {account.kind.capitalize()} to reverse")
    qty = position.qty * 2
    side = -position.side
    price = taker_price(exchange.config, instrument, market.last, side, qty)
    check_opening(exchange, account, instrument, position, side, qty, price, position.leverage, False)
    fill = execute_market(exchange, account, instrument, lead, side, qty, leverage=position.leverage,
                          margin_mode=position.margin_mode, ref=f"reverse:{exchange.next_id('order')}", price=price)
    return {"status": "filled", "qty": fmt(fill.qty), "price": fmt(fill.price)}
