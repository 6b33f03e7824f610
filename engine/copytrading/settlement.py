"""Weekly settlement (Monday 00:00 UTC) and settlement on unfollow (SPEC §7.6, §7.7).

Standard: the lead's profit share is due on fully closed copy orders only —
due = max(0, share × cumulative net realized PnL − already shared) — so after a losing week the lead
earns again only on new profit. Protected: the week's net result is compensated from the lead's
collateral when negative, or shared at the protected share when positive; the locked fee rebate is
released when the copier's net result makes a new high.
"""
from __future__ import annotations

from decimal import Decimal

from ..accounts import WalletKind, account_id
from ..clock import next_monday
from ..exchange import DUE_WORK, Exchange
from ..ledger import EntryType
from ..money import ZERO, display, usdt
from ..valuation import value_account
from .leads import collateral_account, rebate_account
from .records import Settlement
from .relations import Relation


def _pay_share(exchange: Exchange, relation: Relation, amount: Decimal) -> Decimal:
    """Move a profit share from the copier's copy account to the lead's elite account, up to what is free."""
    copy = exchange.accounts[account_id(relation.copier, WalletKind.COPY)]
    paid = min(amount, value_account(exchange, copy).available)
    exchange.ledger.move(EntryType.PROFIT_SHARE, copy.id, account_id(relation.lead, WalletKind.ELITE), paid,
                         exchange.now_ms, f"profit share {relation.copier}->{relation.lead}")
    relation.shared_profit += paid
    return paid


def settle(exchange: Exchange, relation: Relation, reason: str) -> Settlement:
    lead = exchange.leads[relation.lead]
    ledger, now = exchange.ledger, exchange.now_ms
    compensation = shared = released = ZERO
    net = relation.week_pnl
    if lead.protected:
        if net < 0:
            compensation = min(-net, max(ZERO, ledger.balance(collateral_account(lead.user))))
            ledger.move(EntryType.COMPENSATION, collateral_account(lead.user),
                        account_id(relation.copier, WalletKind.COPY), compensation, now,
                        f"protection {lead.user}->{relation.copier}")
        elif net > 0:
            shared = _pay_share(exchange, relation, usdt(net * lead.protected_share))
        if relation.cum_realized_pnl > relation.nav_high and relation.rebate_locked:
            released = relation.rebate_locked
            ledger.move(EntryType.FEE_REBATE, rebate_account(lead.user), account_id(lead.user, WalletKind.ELITE),
                        released, now, f"rebate released {relation.copier}")
            relation.rebate_locked = ZERO
        relation.nav_high = max(relation.nav_high, relation.cum_realized_pnl)
    else:
        due = max(ZERO, usdt(lead.profit_share * relation.cum_realized_pnl) - relation.shared_profit)
        shared = _pay_share(exchange, relation, due)
    relation.week_pnl = ZERO
    exchange.changes.save(relation)
    record = Settlement(exchange.next_id("settlement"), now, relation.copier, relation.lead, lead.mode, net,
                        compensation, shared, released, reason)
    exchange.changes.append(record)
    exchange.emit(record)
    if compensation or shared:
        text = (f"Weekly settlement with {relation.lead}: " if reason == "weekly" else f"Settlement with {relation.lead}: ")
        text += (f"{display(compensation)} USDT compensated from the lead's collateral" if compensation
                 else f"{display(shared)} USDT profit shared with the lead")
        exchange.notify(relation.copier, "settlement", text)
    return record


def settle_on_unfollow(exchange: Exchange, relation: Relation) -> None:
    settle(exchange, relation, "unfollow")


class WeeklySettlement:
    name = "settlement"

    def next_due(self, exchange: Exchange) -> int | None:
        if not exchange.relations:
            return None
        # From the last run (or the first follow), never from now: other work due at the same
        # Monday 00:00 may already have moved the clock onto it.
        last = exchange.schedule.get(self.name)
        if last is None:
            last = exchange.first_relation.created_ms
        return next_monday(last)

    def run_due(self, exchange: Exchange, at_ms: int) -> None:
        exchange.schedule[self.name] = at_ms
        for lead in sorted(exchange.leads.values(), key=lambda lead: lead.user):  # not dict order: restarts change it
            for relation in list(lead.copiers.values()):
                settle(exchange, relation, "weekly")


DUE_WORK.append(WeeklySettlement())
