"""Consecutive failed copies and auto-unfollow (SPEC §7.4).

Failed opens count up; a successful copy resets the count. At 15 the copier is reminded. From 20,
while the lead is at full capacity and the copier holds no copy position of that lead, a 3-day
countdown runs; if those conditions still hold when it ends, the copier is unfollowed.
"""
from __future__ import annotations

from ..accounts import WalletKind, account_id
from ..clock import DAY, format_time
from ..exchange import DUE_WORK, Exchange
from .leads import Lead
from .relations import ACTIVE, Relation, end_relation

REMINDER_AT = 15
COUNTDOWN_FROM = 20
COUNTDOWN_MS = 3 * DAY


def holds_copy_position(exchange: Exchange, relation: Relation) -> bool:
    account = exchange.accounts[account_id(relation.copier, WalletKind.COPY)]
    return any(p.lead == relation.lead for p in account.positions.values())


def countdown_conditions(exchange: Exchange, lead: Lead, relation: Relation) -> bool:
    return (relation.consecutive_failures >= COUNTDOWN_FROM and lead.at_capacity
            and not holds_copy_position(exchange, relation))


def count_failure(exchange: Exchange, lead: Lead, relation: Relation) -> None:
    relation.consecutive_failures += 1
    exchange.changes.save(relation, Relation.STREAK)
    if relation.consecutive_failures >= REMINDER_AT and not relation.reminded:
        relation.reminded = True  # once per streak of failures
        exchange.notify(relation.copier, "copy_failures",
                        f"{REMINDER_AT} copies of {relation.lead} in a row have failed. Check your copy account's "
                        "balance and your copy settings.")
    if relation.countdown_until is None and countdown_conditions(exchange, lead, relation):
        relation.countdown_until = exchange.now_ms + COUNTDOWN_MS
        exchange.countdowns.add(relation.seq)
        exchange.notify(relation.copier, "unfollow_countdown",
                        f"{relation.consecutive_failures} failed copies of {relation.lead}, who is at full capacity: "
                        f"you will be unfollowed at {format_time(relation.countdown_until)} unless a copy succeeds.")


def count_success(exchange: Exchange, relation: Relation) -> None:
    if relation.consecutive_failures == 0 and relation.countdown_until is None:
        return
    if relation.countdown_until is not None:
        exchange.countdowns.discard(relation.seq)
        exchange.notify(relation.copier, "countdown_cancelled",
                        f"A copy of {relation.lead} succeeded: the auto-unfollow countdown is cancelled.")
    relation.consecutive_failures = 0
    relation.countdown_until = None
    relation.reminded = False
    exchange.changes.save(relation, Relation.STREAK)


class Countdowns:
    name = "countdowns"

    def next_due(self, exchange: Exchange) -> int | None:
        ends = [exchange.relations[seq].countdown_until for seq in exchange.countdowns]
        return min(ends) if ends else None

    def run_due(self, exchange: Exchange, at_ms: int) -> None:
        for seq in sorted(exchange.countdowns):
            relation = exchange.relations[seq]
            if relation.countdown_until is None or relation.countdown_until > at_ms:
                continue
            exchange.countdowns.discard(seq)
            lead = exchange.leads[relation.lead]
            if relation.status == ACTIVE and countdown_conditions(exchange, lead, relation):
                from .settlement import settle_on_unfollow
                settle_on_unfollow(exchange, relation)
                end_relation(exchange, relation, "After 3 days of failed copies you were automatically unfollowed from")
            else:
                relation.countdown_until = None
                exchange.changes.save(relation)
                exchange.notify(relation.copier, "countdown_cancelled",
                                f"The auto-unfollow countdown for {relation.lead} ended without unfollowing: "
                                "its conditions no longer hold.")


DUE_WORK.append(Countdowns())
