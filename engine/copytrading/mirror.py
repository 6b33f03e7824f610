"""Mirroring (SPEC §7.3): every lead fill reaches every active copier as its own fill at its own
price, and every copier gets exactly one outcome per lead fill. The whole fan-out is one command,
so it commits — in batched writes — together with the lead's fill or not at all."""
from __future__ import annotations

from decimal import Decimal

from ..accounts import TradingAccount, WalletKind, account_id
from ..errors import Rejected
from ..exchange import Exchange
from ..fills import Fill, fee_rate, taker_price
from ..instruments import Instrument
from ..ledger import FEES, EntryType
from ..money import ZERO, floor_to_step, fmt, usdt
from ..order_entry import check_opening
from ..trading import FillPlan, apply_fill
from .copy_orders import match_close, open_copy_order
from .failures import count_failure, count_success
from .leads import Lead, elite_equity, rebate_account
from .records import Outcome
from .relations import Relation
from .sizing import size_copy

FEE_REBATE = Decimal("0.7")


class CopyFailed(Exception):
    def __init__(self, code: str, message: str):
        self.code, self.message = code, message


# Why a copy closed with no close by the lead's own hand (SPEC §7.3: every lead fill is mirrored).
FORCED_CLOSES = {"liquidation": "the lead's position was liquidated",
                 "adl": "the lead's position was auto-deleveraged"}


def on_trade(exchange: Exchange, account: TradingAccount, fill: Fill, held: Decimal | None = None) -> None:
    """Trade listener: a fill in an elite account on a lead symbol is a lead order, if equity allows — the
    lead's own trades and the liquidation and ADL fills forced on it alike. `held`: the lead's qty before
    the fill, for a fill whose position may have moved again since."""
    if account.kind != WalletKind.ELITE:
        return
    lead = exchange.leads.get(account.user)
    if lead is None or fill.symbol not in lead.symbols:
        return
    if elite_equity(exchange, lead.user) < exchange.config.elite_min_equity:
        return  # executed for the lead, not broadcast (it still counts in the lead's win rate)
    broadcast(exchange, lead, account, fill, held)


def broadcast(exchange: Exchange, lead: Lead, account: TradingAccount, fill: Fill,
              held: Decimal | None = None) -> list[Outcome]:
    instrument = exchange.instruments[fill.symbol]
    lead_order = f"L{fill.seq}"
    close_qty = fill.closed_qty
    open_qty = fill.qty - close_qty
    after = account.positions.get((fill.symbol, ""))
    fraction = ZERO
    if close_qty:
        if held is None:
            held = close_qty if after is None or after.side == fill.side else after.qty + close_qty
        fraction = close_qty / held
    outcomes = []
    append = exchange.changes.append
    for relation in list(lead.copiers.values()):
        outcome = _mirror_one(exchange, lead, relation, instrument, fill, lead_order, fraction, open_qty, after)
        append(outcome)
        outcomes.append(outcome)
    exchange.remember("outcomes", outcomes)
    exchange.emit(("lead_order", lead.user, lead_order, fill, outcomes))
    return outcomes


def _outcome(exchange, relation, fill, lead_order, kind, status, code=None, message=None, qty=None, price=None):
    return Outcome(exchange.next_id("outcome"), exchange.now_ms, relation.lead, lead_order, relation.copier,
                   fill.symbol, kind, status, code, message, qty, price, None)


def _mirror_one(exchange: Exchange, lead: Lead, relation: Relation, instrument: Instrument, fill: Fill,
                lead_order: str, fraction: Decimal, open_qty: Decimal, lead_position) -> Outcome:
    account = exchange.accounts[account_id(relation.copier, WalletKind.COPY)]
    position = account.positions.get((fill.symbol, relation.lead))
    closed = None
    if fraction:
        if position is None or position.side == fill.side:
            if not open_qty:
                return _outcome(exchange, relation, fill, lead_order, "close", "failed", "NOTHING_TO_CLOSE",
                                f"no {fill.symbol} copy position of {relation.lead} to close")
        else:
            qty = position.qty if fraction == 1 else floor_to_step(position.qty * fraction, instrument.step)
            if qty == 0:
                if not open_qty:
                    return _outcome(exchange, relation, fill, lead_order, "close", "failed", "BELOW_MIN_QTY",
                                    f"{fmt(fraction * 100)}% of your {fmt(position.qty)} rounds to less than one "
                                    f"{fmt(instrument.step)} step")
            else:
                closed = _fill(exchange, account, instrument, relation, -position.side, qty, position.leverage,
                               position.margin_mode)
                if not open_qty:
                    return _outcome(exchange, relation, fill, lead_order, "close", "filled",
                                    message=FORCED_CLOSES.get(fill.kind), qty=closed.qty, price=closed.price)
    elif position is not None and position.side != fill.side:
        # A copy left on the other side (the lead's close of it could not be mirrored: it rounded below one
        # step): the lead now opens this way, so that copy closes first, as on a lead reverse. Netted
        # against it, the open would close it instead — and could leave no position to attach TP/SL to.
        _fill(exchange, account, instrument, relation, -position.side, position.qty, position.leverage,
              position.margin_mode)
    try:
        opened = _open(exchange, lead, relation, account, instrument, fill, open_qty, lead_position)
    except CopyFailed as failure:
        count_failure(exchange, lead, relation)
        message = failure.message
        if closed is not None:  # a reverse: its one outcome must not hide that the copy did close
            message = f"your {fmt(closed.qty)} copy closed at {fmt(closed.price)}; the reopen failed: {message}"
        return _outcome(exchange, relation, fill, lead_order, "open", "failed", failure.code, message)
    count_success(exchange, relation)
    record = open_copy_order(exchange, relation, lead_order, opened)
    return _outcome(exchange, relation, fill, lead_order, "open", "filled", qty=record.qty, price=opened.price)


def _open(exchange: Exchange, lead: Lead, relation: Relation, account: TradingAccount, instrument: Instrument,
          fill: Fill, lead_qty: Decimal, lead_position) -> Fill:
    symbol = fill.symbol
    try:
        size = size_copy(exchange, lead, relation, account, instrument, fill.side, lead_qty, fill.price,
                         lead_position.leverage, lead_position.margin_mode)
    except Rejected as rejection:
        raise CopyFailed(rejection.code, rejection.message) from None
    position = account.positions.get((symbol, relation.lead))
    price, qty, leverage, margin_mode = fill.price, size.qty, size.leverage, size.margin_mode
    market = exchange.markets[symbol]
    copier_price = taker_price(exchange.config, instrument, market.last, fill.side, qty)
    limit = relation.slippage_limit(symbol)
    if abs(copier_price - price) > price * limit:
        raise CopyFailed("SLIPPAGE_EXCEEDED", f"your fill {fmt(copier_price)} is more than {fmt(limit * 100)}% "
                         f"from the lead's {fmt(price)}")
    try:
        plan = check_opening(exchange, account, instrument, position, fill.side, qty, copier_price, leverage, False)
    except Rejected as rejection:
        raise CopyFailed(rejection.code, rejection.message) from None
    result = _fill(exchange, account, instrument, relation, fill.side, qty, leverage, margin_mode, copier_price, plan)
    copied = account.positions[(symbol, relation.lead)]
    if lead.protected and not copied.managed:
        copied.managed = True
    _attach_ratios(exchange, relation, copied)
    return result


def _fill(exchange: Exchange, account: TradingAccount, instrument: Instrument, relation: Relation, side: int,
          qty: Decimal, leverage: int, margin_mode: str, price: Decimal | None = None,
          plan: FillPlan | None = None) -> Fill:
    market = exchange.markets[instrument.symbol]
    price = price or taker_price(exchange.config, instrument, market.last, side, qty)
    fill = apply_fill(exchange, account, instrument, relation.lead, side, qty, price, leverage=leverage,
                      margin_mode=margin_mode, fee_rate=fee_rate(exchange.config, instrument, False),
                      ref=f"copy:{relation.lead}", plan=plan)
    lead = exchange.leads.get(relation.lead)
    if lead is not None and lead.protected and fill.fee:
        # 70% of a protected copier's fees go to the lead, locked until the copier's NAV makes a new high.
        rebate = usdt(fill.fee * FEE_REBATE)
        exchange.ledger.move(EntryType.FEE_REBATE, FEES, rebate_account(lead.user), rebate, exchange.now_ms,
                             f"rebate:{relation.copier}")
        relation.rebate_locked += rebate
        exchange.changes.save(relation)
    return fill


def _attach_ratios(exchange: Exchange, relation: Relation, position) -> None:
    """TP and SL as a share of the copy position's margin, turned into prices."""
    if relation.tp_ratio is None and relation.sl_ratio is None:
        return
    base = (position.margin if position.isolated else position.initial_margin) / position.qty
    tick = exchange.instruments[position.symbol].tick
    if relation.tp_ratio is not None:
        position.tp = floor_to_step(position.entry_price + position.side * base * relation.tp_ratio, tick)
    if relation.sl_ratio is not None:
        level = position.entry_price - position.side * base * relation.sl_ratio
        position.sl = floor_to_step(level, tick) if level > 0 else None
    exchange.changes.save(position)
    exchange.index_tp_sl(position)


def on_fill(exchange: Exchange, account: TradingAccount, fill: Fill) -> None:
    """Fill listener: any close in a copy account (mirrored, by hand, TP/SL, liquidation) closes copy orders."""
    if account.kind != WalletKind.COPY or not fill.closed_qty:
        return
    newest = exchange.relations_by_pair.get((account.user, fill.lead))
    for record in match_close(exchange, account.user, fill.lead, fill):
        relation = newest if record.relation is None else exchange.relations.get(record.relation)
        if relation is not None:
            relation.cum_realized_pnl += record.net_pnl
            relation.week_pnl += record.net_pnl
            exchange.changes.save(relation)


def on_funding(exchange: Exchange, account: TradingAccount, position, amount: Decimal) -> None:
    """Funding on a copy position counts in a protected copier's weekly net result."""
    if account.kind != WalletKind.COPY or not position.lead:
        return
    relation = exchange.relations_by_pair.get((account.user, position.lead))
    if relation is not None and amount:
        relation.week_pnl += amount
        exchange.changes.save(relation)
