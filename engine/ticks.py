"""A price tick: update the market, then — in this order — liquidations, TP/SL, triggered and
filled orders, trailing stops. Each step asks a trigger book, so a quiet tick costs O(log n)."""
from __future__ import annotations

from decimal import Decimal

from .clock import DAY
from .commands import FundingRate, InstrumentDef, Price
from .errors import Rejected
from .exchange import Exchange, handles
from .fills import fee_rate, taker_price
from .instruments import parse_instrument
from .liquidation import check_symbol
from .market import Market
from .money import ZERO, display, fmt
from .orders import CANCELLED, FILLED, OPEN, Order, index_order, retire_order
from .positions import side_name


@handles(InstrumentDef)
def define_instrument(exchange: Exchange, command: InstrumentDef) -> None:
    fields = {k: v for k, v in ((f, getattr(command, f)) for f in command.__dataclass_fields__ if f != "action")
              if v is not None}
    base = exchange.instruments.get(command.symbol)
    instrument = parse_instrument(fields, base)
    if base is not None and base.step != instrument.step and any(
            command.symbol in {p.symbol for p in a.positions.values()} for a in exchange.accounts.values()):
        raise Rejected("BAD_FIELD", f"{command.symbol} has open positions: its quantity step cannot change now")
    exchange.instruments[instrument.symbol] = instrument
    exchange.changes.save(instrument)
    # New tiers move the liquidation prices of the open positions, and may put some past them now.
    for account in exchange.accounts.values():
        if any(p.symbol == instrument.symbol for p in account.positions.values()):
            exchange.risk.refresh(account)
    if instrument.symbol in exchange.markets:
        check_symbol(exchange, instrument.symbol)


@handles(FundingRate)
def set_funding_rate(exchange: Exchange, command: FundingRate) -> None:
    market = exchange.market(command.symbol)
    market.funding_rate = command.rate
    exchange.changes.save(market)


@handles(Price)
def price(exchange: Exchange, command: Price) -> None:
    exchange.instrument(command.symbol)
    last = command.last or command.mark
    index = command.index or command.mark
    market = exchange.markets.get(command.symbol)
    now = exchange.now_ms
    if market is None:
        market = exchange.markets[command.symbol] = Market(command.symbol, index, command.mark, last,
                                                          open_24h=last, updated_ms=now)
    else:
        if now // DAY != market.updated_ms // DAY:
            market.open_24h = market.last  # the day's opening price, for the 24 h change
        market.index, market.mark, market.last, market.updated_ms = index, command.mark, last, now
    exchange.changes.save(market)
    on_tick(exchange, command.symbol)


def on_tick(exchange: Exchange, symbol: str) -> None:
    market = exchange.markets[symbol]
    check_symbol(exchange, symbol)
    tp_sl = exchange.tp_sl_books.get(symbol)
    if tp_sl:
        for which, account_id, position_symbol, lead in tp_sl.fired(market.mark):
            _close_by_tp_sl(exchange, which, account_id, position_symbol, lead)
    for source, level in (("mark", market.mark), ("last", market.last)):
        book = exchange.order_books.get((symbol, source))
        if book:
            for seq in book.fired(level):
                order = exchange.orders_by_seq.get(seq)
                if order is not None:
                    _trigger(exchange, order)
    for seq in sorted(exchange.trailing.get(symbol, ())):
        order = exchange.orders_by_seq.get(seq)
        if order is not None:
            _trail(exchange, order, market.mark if order.trigger_by == "mark" else market.last)


def _close_by_tp_sl(exchange: Exchange, which: str, account_id: str, symbol: str, lead: str) -> None:
    from .order_entry import close_position
    account = exchange.accounts[account_id]
    position = account.positions.get((symbol, lead))
    if position is None:
        return
    fill = close_position(exchange, account, position, None, which)
    label = "Take-profit" if which == "tp" else "Stop-loss"
    exchange.notify(account.user, which, f"{label} closed your {symbol} {side_name(position.side)} in "
                    f"{account.kind.capitalize()}: {fmt(fill.qty)} at {fmt(fill.price)}, PnL {fmt(fill.realized_pnl)} USDT")


def _trigger(exchange: Exchange, order: Order) -> None:
    if order.status == OPEN:
        _execute(exchange, order, order.price, maker=True)
    elif order.type == "stop_limit":
        order.status = OPEN
        market = exchange.markets[order.symbol]
        if order.side * (market.last - order.price) <= 0:
            instrument = exchange.instruments[order.symbol]
            taker = taker_price(exchange.config, instrument, market.last, order.side, order.qty)
            _execute(exchange, order, min(taker, order.price) if order.side > 0 else max(taker, order.price),
                     maker=False)
        else:
            _rest_triggered(exchange, order)
    else:
        _execute(exchange, order, None, maker=False)


def _rest_triggered(exchange: Exchange, order: Order) -> None:
    """A triggered stop-limit that cannot take rests as a limit, reserving its margin like one."""
    from .trading import plan_fill
    from .valuation import available_balance
    account = exchange.accounts[order.account]
    instrument = exchange.instruments[order.symbol]
    plan = plan_fill(account.positions.get((order.symbol, order.lead)), order.side, order.qty, order.price,
                     order.leverage, fee_rate(exchange.config, instrument, True))
    reserved = plan.open_margin + plan.fee if plan.open_qty else ZERO
    free = available_balance(exchange, account)
    if reserved > free:
        retire_order(exchange, order, CANCELLED)
        exchange.notify(account.user, "order", f"Order {order.client_id} (stop_limit) cancelled when it triggered: "
                        f"Insufficient available balance: {display(reserved)} USDT needed, {display(free)} "
                        f"available in {account.kind.capitalize()}")
        return
    order.reserved_margin = reserved
    index_order(exchange, order)
    exchange.changes.save(order)


def _trail(exchange: Exchange, order: Order, price: Decimal) -> None:
    extreme = order.extreme
    if (order.side < 0 and price > extreme) or (order.side > 0 and price < extreme):
        order.extreme = price
        exchange.changes.save(order)
        return
    # A sell trails below the high since placing, a buy above the low, by the callback rate.
    threshold = extreme * (1 + order.side * order.callback)
    if order.side * (price - threshold) >= 0:
        _execute(exchange, order, None, maker=False)


def _execute(exchange: Exchange, order: Order, price: Decimal | None, maker: bool) -> None:
    """Fill a triggered order now, or cancel it with a notification if it no longer passes the rules."""
    from .order_entry import attach_tp_sl, check_opening, execute_market
    from .trading import apply_fill
    account = exchange.accounts[order.account]
    instrument = exchange.instruments[order.symbol]
    market = exchange.markets[order.symbol]
    position = account.positions.get((order.symbol, order.lead))
    retire_order(exchange, order, FILLED)  # releases its reserved margin before the balance check
    qty = order.qty
    if order.reduce_only:
        if position is None or position.side == order.side:
            order.status = CANCELLED
            exchange.notify(account.user, "order", f"Reduce-only order {order.client_id} cancelled: "
                            f"no {order.symbol} position left to reduce")
            return
        qty = min(qty, position.qty)
    fill_price = price if price is not None else taker_price(exchange.config, instrument, market.last, order.side, qty)
    try:
        check_opening(exchange, account, instrument, position, order.side, qty, fill_price, order.leverage, maker)
    except Rejected as rejection:
        order.status = CANCELLED
        exchange.notify(account.user, "order", f"Order {order.client_id} ({order.type}) cancelled when it "
                        f"triggered: {rejection.message}")
        return
    if maker:
        fill = apply_fill(exchange, account, instrument, order.lead, order.side, qty, fill_price,
                          leverage=order.leverage, margin_mode=order.margin_mode,
                          fee_rate=fee_rate(exchange.config, instrument, True), maker=True, ref=order.client_id)
        exchange.after_trade(account, fill)
    else:
        execute_market(exchange, account, instrument, order.lead, order.side, qty, leverage=order.leverage,
                       margin_mode=order.margin_mode, ref=order.client_id, price=fill_price)
    attach_tp_sl(exchange, account.positions.get((order.symbol, order.lead)), order.tp, order.sl)
