"""Mirroring (SPEC §7.3): every lead fill reaches every active copier as its own fill at its own
price, and every copier gets exactly one outcome per lead fill. The whole fan-out is one command,
so it commits — in batched writes — together with the lead's fill or not at all."""
from __future__ import annotations

from decimal import Decimal

from ..accounts import TradingAccount, WalletKind, account_id
from ..errors import Rejected
from ..exchange import Exchange
from ..fills import Fill, fee_rate, taker_price
from ..ledger import FEES, EntryType
from ..money import ZERO, floor_to_step, fmt, usdt
from ..order_entry import Opening, check_opening, plan_opening
from ..positions import Position
from ..trading import FillPlan, apply_fill, plan_fill
from .copy_orders import match_close, open_copy_order
from .failures import count_failure, count_success
from .fresh_opens import FreshOpens
from .leads import Lead, elite_equity, rebate_account
from .records import Outcome
from .relations import Relation
from .sizing import CopySize, size_copy, sizing_terms

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


class LeadFill:
    """What every copier's mirror of one lead fill shares, worked out once for the whole fan-out: the
    contract, the taker fee rate, the fill reference, and the fill model's price for each copy size
    (a pure function of side and qty while the fan-out runs: only a price line moves the last price).

    Copiers holding no copy of the lead in the symbol (nearly every copier of an open) also share the
    sizing of a copy and what opening it means, by settings: those depend on nothing else then. Copiers
    with the same settings — the common case — get one answer, not ten thousand equal ones."""
    __slots__ = ("lead", "fill", "instrument", "lead_order", "fraction", "open_qty", "lead_position", "fee_rate",
                 "ref", "_config", "_last", "_prices", "_sizes", "_openings", "_closings")

    def __init__(self, exchange: Exchange, lead: Lead, fill: Fill, fraction: Decimal, lead_position) -> None:
        self.lead, self.fill, self.fraction, self.lead_position = lead, fill, fraction, lead_position
        self.instrument = exchange.instruments[fill.symbol]
        self.lead_order = f"L{fill.seq}"
        self.open_qty = fill.qty - fill.closed_qty
        self.fee_rate = fee_rate(exchange.config, self.instrument, False)
        self.ref = f"copy:{lead.user}"
        self._config, self._last = exchange.config, exchange.markets[fill.symbol].last
        self._prices: dict[tuple[int, Decimal], Decimal] = {}
        self._sizes: dict[tuple, CopySize | tuple[str, str]] = {}
        self._openings: dict[tuple[Decimal, int], tuple[Decimal, Opening]] = {}
        self._closings: dict[tuple, tuple] = {}

    def taker_price(self, side: int, qty: Decimal) -> Decimal:
        key = (side, qty)
        price = self._prices.get(key)
        if price is None:
            price = self._prices[key] = taker_price(self._config, self.instrument, self._last, side, qty)
        return price

    def size(self, exchange: Exchange, relation: Relation, account: TradingAccount, position) -> CopySize:
        """`size_copy` for this copier, shared among copiers alike when it reads nothing from their accounts
        (`sizing_terms`). Raises Rejected."""
        key = sizing_terms(relation, position)
        if key is None:
            return self.size_alone(exchange, relation, account)
        sized = self._sizes.get(key)
        if sized is None:
            try:
                sized = self.size_alone(exchange, relation, account)
            except Rejected as rejection:
                sized = (rejection.code, rejection.message)
            self._sizes[key] = sized
        if type(sized) is tuple:
            raise Rejected(*sized)
        return sized

    def size_alone(self, exchange: Exchange, relation: Relation, account: TradingAccount) -> CopySize:
        fill, lead_position = self.fill, self.lead_position
        return size_copy(exchange, self.lead, relation, account, self.instrument, fill.side, self.open_qty,
                         fill.price, lead_position.leverage, lead_position.margin_mode)

    def fresh_open(self, qty: Decimal, leverage: int) -> tuple[Decimal, Opening]:
        """The copier's price and `plan_opening` for a copy of `qty` opened on no position."""
        key = (qty, leverage)
        known = self._openings.get(key)
        if known is None:
            side = self.fill.side
            price = self.taker_price(side, qty)
            known = self._openings[key] = (price, plan_opening(self.instrument, None, side, qty, price, leverage,
                                                               self.fee_rate))
        return known

    def closing(self, position: Position, qty: Decimal) -> tuple[Decimal, FillPlan | None]:
        """The copier's price for closing `qty` of its copy and, when that is the whole copy, the fill plan:
        copies alike hold the very same figures (opened from one shared plan, or interned when read back),
        so a lead's close works their plan out once, found by the identity of those figures (as
        RiskIndex.refresh finds a solve). A part of a copy is planned by `apply_fill`, per copier."""
        side = -position.side
        price = self.taker_price(side, qty)
        if qty is not position.qty:
            return price, None
        entry, margin = position.entry_price, position.margin
        key = (id(qty), id(entry), id(margin), position.side, position.leverage, position.margin_mode)
        known = self._closings.get(key)
        if known is None:  # the figures are kept in the value, so their ids stay theirs while the key lives
            plan = plan_fill(position, side, qty, price, position.leverage, self.fee_rate)
            known = self._closings[key] = (plan, qty, entry, margin)
        return price, known[0]


def broadcast(exchange: Exchange, lead: Lead, account: TradingAccount, fill: Fill,
              held: Decimal | None = None) -> list[Outcome]:
    close_qty = fill.closed_qty
    after = account.positions.get((fill.symbol, ""))
    fraction = ZERO
    if close_qty:
        if held is None:
            held = close_qty if after is None or after.side == fill.side else after.qty + close_qty
        fraction = close_qty / held
    terms = LeadFill(exchange, lead, fill, fraction, after)
    outcomes: list[Outcome] = []
    # A plain open (not a protected lead's: its copies carry rebates) goes to copiers alike in runs.
    fresh = FreshOpens(exchange, terms) if not fraction and not lead.protected else None
    for relation in list(lead.copiers.values()):
        if fresh is not None:
            if fresh.take(relation):
                continue
            outcomes += fresh.carry_out()
        outcomes.append(_mirror_one(exchange, terms, relation))
    if fresh is not None:
        outcomes += fresh.carry_out()
    exchange.changes.append_many(outcomes)
    exchange.remember("outcomes", outcomes)
    exchange.emit(("lead_order", lead.user, terms.lead_order, fill, outcomes))
    return outcomes


def _outcome(exchange, relation, terms, kind, status, code=None, message=None, qty=None, price=None):
    return Outcome(exchange.next_id("outcome"), exchange.now_ms, relation.lead, terms.lead_order, relation.copier,
                   terms.fill.symbol, kind, status, code, message, qty, price, None)


def _mirror_one(exchange: Exchange, terms: LeadFill, relation: Relation) -> Outcome:
    fill, instrument, fraction, open_qty = terms.fill, terms.instrument, terms.fraction, terms.open_qty
    account = exchange.accounts[account_id(relation.copier, WalletKind.COPY)]
    position = account.positions.get((fill.symbol, relation.lead))
    closed = None
    if fraction:
        if position is None or position.side == fill.side:
            if not open_qty:
                return _outcome(exchange, relation, terms, "close", "failed", "NOTHING_TO_CLOSE",
                                f"no {fill.symbol} copy position of {relation.lead} to close")
        else:
            qty = position.qty if fraction == 1 else floor_to_step(position.qty * fraction, instrument.step)
            if qty == 0:
                if not open_qty:
                    return _outcome(exchange, relation, terms, "close", "failed", "BELOW_MIN_QTY",
                                    f"{fmt(fraction * 100)}% of your {fmt(position.qty)} rounds to less than one "
                                    f"{fmt(instrument.step)} step")
            else:
                price, plan = terms.closing(position, qty)
                closed = _fill(exchange, terms, account, relation, -position.side, qty, position.leverage,
                               position.margin_mode, price, plan)
                if not open_qty:
                    return _outcome(exchange, relation, terms, "close", "filled",
                                    message=FORCED_CLOSES.get(fill.kind), qty=closed.qty, price=closed.price)
    elif position is not None and position.side != fill.side:
        # A copy left on the other side (the lead's close of it could not be mirrored: it rounded below one
        # step): the lead now opens this way, so that copy closes first, as on a lead reverse. Netted
        # against it, the open would close it instead — and could leave no position to attach TP/SL to.
        _fill(exchange, terms, account, relation, -position.side, position.qty, position.leverage,
              position.margin_mode, *terms.closing(position, position.qty))
    try:
        opened = _open(exchange, terms, relation, account)
    except CopyFailed as failure:
        count_failure(exchange, terms.lead, relation)
        message = failure.message
        if closed is not None:  # a reverse: its one outcome must not hide that the copy did close
            message = f"your {fmt(closed.qty)} copy closed at {fmt(closed.price)}; the reopen failed: {message}"
        return _outcome(exchange, relation, terms, "open", "failed", failure.code, message)
    count_success(exchange, relation)
    record = open_copy_order(exchange, relation, terms.lead_order, opened)
    return _outcome(exchange, relation, terms, "open", "filled", qty=record.qty, price=opened.price)


def _open(exchange: Exchange, terms: LeadFill, relation: Relation, account: TradingAccount) -> Fill:
    fill, instrument = terms.fill, terms.instrument
    symbol = fill.symbol
    position = account.positions.get((symbol, relation.lead))
    try:
        size = terms.size(exchange, relation, account, position)
    except Rejected as rejection:
        raise CopyFailed(rejection.code, rejection.message) from None
    price, qty, leverage, margin_mode = fill.price, size.qty, size.leverage, size.margin_mode
    if position is None:
        copier_price, opening = terms.fresh_open(qty, leverage)
    else:
        copier_price, opening = terms.taker_price(fill.side, qty), None
    limit = relation.slippage_limit(symbol)
    if abs(copier_price - price) > price * limit:
        raise CopyFailed("SLIPPAGE_EXCEEDED", f"your fill {fmt(copier_price)} is more than {fmt(limit * 100)}% "
                         f"from the lead's {fmt(price)}")
    try:
        plan = check_opening(exchange, account, instrument, position, fill.side, qty, copier_price, leverage, False,
                             terms.fee_rate, opening)
    except Rejected as rejection:
        raise CopyFailed(rejection.code, rejection.message) from None
    result = _fill(exchange, terms, account, relation, fill.side, qty, leverage, margin_mode, copier_price, plan)
    copied = account.positions[(symbol, relation.lead)]
    if terms.lead.protected and not copied.managed:
        copied.managed = True
    _attach_ratios(exchange, relation, copied)
    return result


def _fill(exchange: Exchange, terms: LeadFill, account: TradingAccount, relation: Relation, side: int,
          qty: Decimal, leverage: int, margin_mode: str, price: Decimal, plan: FillPlan | None) -> Fill:
    fill = apply_fill(exchange, account, terms.instrument, relation.lead, side, qty,
                      price, leverage=leverage, margin_mode=margin_mode,
                      fee_rate=terms.fee_rate, ref=terms.ref, plan=plan)
    lead = terms.lead
    if lead.protected and fill.fee:
        # 70% of a protected copier's fees go to the lead, locked until the copier's NAV makes a new high.
        rebate = usdt(fill.fee * FEE_REBATE)
        exchange.ledger.move(EntryType.FEE_REBATE, FEES, rebate_account(lead.user), rebate, exchange.now_ms,
                             f"rebate:{relation.copier}")
        relation.rebate_locked += rebate
        exchange.changes.save(relation, ("rebate_locked",))
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


def on_close(exchange: Exchange, account: TradingAccount, fill: Fill) -> None:
    """Close listener: any close in a copy account (mirrored, by hand, TP/SL, liquidation) closes copy orders."""
    if account.kind != WalletKind.COPY:
        return
    newest = exchange.relations_by_pair.get((account.user, fill.lead))
    for record in match_close(exchange, account.user, fill.lead, fill):
        relation = newest if record.relation is None else exchange.relations.get(record.relation)
        if relation is not None:
            relation.cum_realized_pnl += record.net_pnl
            relation.week_pnl += record.net_pnl
            exchange.changes.save(relation, Relation.PNL)


def on_funding(exchange: Exchange, account: TradingAccount, position, amount: Decimal) -> None:
    """Funding on a copy position counts in a protected copier's weekly net result."""
    if account.kind != WalletKind.COPY or not position.lead:
        return
    relation = exchange.relations_by_pair.get((account.user, position.lead))
    if relation is not None and amount:
        relation.week_pnl += amount
        exchange.changes.save(relation, ("week_pnl",))
