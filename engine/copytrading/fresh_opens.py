"""A lead's open mirrored to the copiers who hold no copy of it (SPEC §7.3): nearly every copier of an open.

Each copier is checked first, as the one-by-one mirror (`mirror._mirror_one`) checks it: no copy position
of the lead in the symbol, nothing to attach or reset (TP/SL ratios, a streak of failures), a lead that is
not protected, then the copy's size (`LeadFill.size`), the fill model's price, the slippage limit, the
contract's rules and the available balance. A run of copiers who pass is then carried
out one kind of record at a time — every position, then every fee, fill, copy order and outcome — instead
of copier after copier: the same records, with the same ids in the same order, for about two thirds of
the cost.

A copier who does not pass goes through `_mirror_one` instead, after the run before it is carried out,
which fails its copy with the reason (or mirrors a case this module leaves to it). Copiers' accounts are
their own, so carrying out a run after checking it changes nothing any check of it read.
"""
from __future__ import annotations

from decimal import Decimal

from ..accounts import TradingAccount, WalletKind, account_id
from ..errors import Rejected
from ..exchange import Exchange
from ..fills import Fill
from ..ledger import FEES, EntryType
from ..money import ZERO
from ..positions import ISOLATED, Position
from ..trading import FillPlan
from ..valuation import available_balance
from .copy_orders import open_copy_orders
from .records import Outcome
from .relations import Relation
from .sizing import CopySize


class FreshOpens:
    __slots__ = ("exchange", "terms", "run", "_checks")

    def __init__(self, exchange: Exchange, terms) -> None:
        self.exchange, self.terms = exchange, terms
        self.run: list[tuple[Relation, TradingAccount, CopySize, Decimal, FillPlan]] = []
        # (size, slippage limit) → what the checks of a copy that size make before the account's balance:
        # (price, plan, what it needs available, or None if a check refuses it). Copiers alike share a size
        # object and a limit object; both ride along in the value, so their ids stay theirs meanwhile.
        self._checks: dict[tuple[int, int], tuple] = {}

    def take(self, relation: Relation) -> bool:
        """Add the copier to the run if its copy opens as checked here; False leaves it to `_mirror_one`."""
        if relation.tp_ratio is not None or relation.sl_ratio is not None or relation.consecutive_failures \
                or relation.countdown_until is not None:
            return False
        terms, exchange = self.terms, self.exchange
        symbol = terms.fill.symbol
        account = exchange.accounts[account_id(relation.copier, WalletKind.COPY)]
        if account.restricted or (symbol, relation.lead) in account.positions:
            return False
        try:
            size = terms.size(exchange, relation, account, None)
        except Rejected:
            return False
        limit = relation.slippage_limit(symbol)
        checked = self._checks.get((id(size), id(limit)))
        if checked is None:
            checked = self._checks[(id(size), id(limit))] = (*self._check(size, limit), size, limit)
        needs = checked[2]
        if needs is None or needs > available_balance(exchange, account):
            return False
        self.run.append((relation, account, size, checked[0], checked[1]))
        return True

    def _check(self, size: CopySize, limit: Decimal) -> tuple[Decimal, FillPlan, Decimal | None]:
        """The fill model's price, the fill plan and what must be available, if the price is within the
        slippage limit and the contract's rules allow the copy (as `mirror._open` checks them)."""
        lead_price = self.terms.fill.price
        price, opening = self.terms.fresh_open(size.qty, size.leverage)
        plan = opening.plan
        if not plan.open_qty or opening.refusal is not None or abs(price - lead_price) > lead_price * limit:
            return price, plan, None
        return price, plan, plan.needs

    def carry_out(self) -> list[Outcome]:
        """Open every copy of the run, in order, with its fee, fill, copy order and outcome."""
        run = self.run
        if not run:
            return []
        self.run = []
        exchange, terms = self.exchange, self.terms
        changes, counters, now = exchange.changes, exchange.counters, exchange.now_ms
        symbol, side, ref, lead_order = terms.fill.symbol, terms.fill.side, terms.ref, terms.lead_order
        positions = []
        for relation, account, size, price, plan in run:
            position = Position(account.id, symbol, relation.lead, side, plan.open_qty, price, size.leverage,
                                size.margin_mode, plan.open_margin if size.margin_mode == ISOLATED else ZERO, now)
            account.positions[(symbol, relation.lead)] = position
            positions.append(position)
        accounts = [item[1] for item in run]
        settled = exchange.risk.place_opened(accounts, positions)  # before the changes touch the accounts
        changes.insert_many(positions)
        # Each fee in full: engine.trading caps a fee at what the wallet holds beyond its isolated margins, and
        # a copier in the run had its margin and fee available, which is never more than that.
        exchange.ledger.pay_many(EntryType.TRADING_FEE, [(account.id, plan.fee) for _, account, _, _, plan in run],
                                 FEES, now, ref)
        first = counters["fill"]
        fills = [Fill(first + i, now, account.id, symbol, relation.lead, side, size.qty, price, plan.fee, ZERO, False,
                      "trade", ref, None, ZERO)
                 for i, (relation, account, size, price, plan) in enumerate(run)]
        counters["fill"] = first + len(fills)
        changes.append_many(fills)
        exchange.touch_many(accounts)
        exchange.events.extend(fills)  # opening fills: no close listener hears them
        records = open_copy_orders(exchange, lead_order, [(item[0], fill) for item, fill in zip(run, fills)])
        first = counters["outcome"]
        outcomes = [Outcome(first + i, now, relation.lead, lead_order, relation.copier, symbol, "open", "filled",
                            None, None, record.qty, record.entry_price, None)
                    for i, ((relation, _account, _size, _price, _plan), record) in enumerate(zip(run, records))]
        counters["outcome"] = first + len(outcomes)
        changes.touched.difference_update(settled)  # after the last change to the accounts
        return outcomes
