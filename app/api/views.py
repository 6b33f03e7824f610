"""What one API client may see: its own slice of the snapshot, and the engine events that concern it.

Both run on the engine thread (through DeskService), so they read engine state safely. Neither
consumes anything: the engine's `snapshot` command reports and clears "what happened since the
previous snapshot", which would steal those records from every other viewer of a shared server.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator

from engine.accounts import TRADING, WalletKind, account_id
from engine.clock import format_time
from engine.copytrading.profile import leads_section
from engine.exchange import Exchange
from engine.fills import Fill
from engine.ledger import INSURANCE_FUND
from engine.liquidation import Liquidation
from engine.money import fmt
from engine.records import Notification
from engine.snapshot import account_view, users_section

from ..tokens import OPERATOR

# Outcomes, notifications and liquidations: the API shows the latest ones that concern the viewer
# (the websocket stream is the live channel; nothing is "since the previous snapshot" here).
RECENT = 100


def snapshot_view(exchange: Exchange, viewer: str, sections: tuple[str, ...] | None, period: str) -> dict:
    """The snapshot shape, with `users` holding only the viewer (the operator sees every user)."""
    def want(name: str) -> bool:
        return sections is None or name in sections

    def mine(user: str, *others: str) -> bool:
        return viewer == OPERATOR or viewer in (user, *others)

    view: dict = {}
    if want("at"):
        view["at"] = format_time(exchange.now_ms)
    if want("users"):
        view["users"] = _users(exchange, viewer)
    if want("copy"):
        relations = sorted(exchange.relations.values(), key=lambda r: r.seq)
        view["copy"] = {
            "relations": [r.view() for r in relations if mine(r.copier, r.lead)],
            "outcomes": _recent(exchange, "outcomes", lambda o: mine(o.copier, o.lead)),
        }
    if want("leads"):
        view["leads"] = leads_section(exchange, period)  # public: the leaderboard
    if want("notifications"):
        view["notifications"] = _recent(exchange, "notifications", lambda n: mine(n.user))
    if want("liquidations"):
        view["liquidations"] = _recent(exchange, "liquidations", lambda r: mine(r.user))
    if want("insurance_fund"):
        view["insurance_fund"] = fmt(exchange.ledger.balance(INSURANCE_FUND))
    if want("ledger"):
        view["ledger"] = {"sum": fmt(exchange.ledger_sum()), "entries": exchange.ledger.entry_count}
    return view


def market_prices(exchange: Exchange) -> dict:
    """symbol → mark, last and index: where a new event stream starts (its tickers carry changes)."""
    return {symbol: {"mark": fmt(market.mark), "last": fmt(market.last), "index": fmt(market.index)}
            for symbol, market in sorted(exchange.markets.items())}


def _users(exchange: Exchange, viewer: str) -> dict:
    # A copy account's view hands over the copy orders closed since the last snapshot; keep them
    # for the engine's own snapshot by restoring the list it replaces.
    closed = exchange.recently_closed_copy_orders
    try:
        if viewer == OPERATOR:
            return users_section(exchange)
        if viewer not in exchange.users:
            return {}
        view = {"funding": {"balance": fmt(exchange.ledger.balance(account_id(viewer, WalletKind.FUNDING)))}}
        for kind in TRADING:
            account = exchange.accounts.get(account_id(viewer, kind))
            if account is not None:
                view[kind.value] = account_view(exchange, account)
        return {viewer: view}
    finally:
        exchange.recently_closed_copy_orders = closed


def _recent(exchange: Exchange, kind: str, keep: Callable) -> list[dict]:
    records = [record for record in reversed(exchange.unreported.get(kind, ())) if keep(record)][:RECENT]
    return [record.view() for record in reversed(records)]


def event_messages(events: list, watching: Callable[[str], bool]) -> Iterator[tuple[str, dict]]:
    """(user, message) for each engine event a watched user should hear about, as it happened."""
    for event in events:
        if isinstance(event, Fill):
            user = event.account.partition(":")[0]
            if watching(user):
                yield user, {"type": "fill", "user": user, **event.view()}
        elif isinstance(event, Notification):
            if watching(event.user):
                yield event.user, {"type": "notification", **event.view()}
        elif isinstance(event, Liquidation):
            if watching(event.user):
                yield event.user, {"type": "liquidation", **event.view()}
        elif isinstance(event, tuple) and event and event[0] in ("lead_order", "margin_sync"):
            yield from _copy_messages(event, watching)


def _copy_messages(event: tuple, watching: Callable[[str], bool]) -> Iterator[tuple[str, dict]]:
    if event[0] == "lead_order":
        _, lead, lead_order, fill, outcomes = event
        summary = {"type": "lead_order", "lead": lead, "lead_order": lead_order, "fill": fill.view()}
    else:
        _, lead, symbol, outcomes = event
        summary = {"type": "margin_sync", "lead": lead, "symbol": symbol}
    if watching(lead):
        views = [outcome.view() for outcome in outcomes]
        yield lead, {**summary, "outcomes": views,
                     "filled": sum(1 for v in views if v["status"] == "filled"),
                     "failed": sum(1 for v in views if v["status"] != "filled")}
    for outcome in outcomes:
        if watching(outcome.copier):
            yield outcome.copier, {"type": "copy_outcome", **outcome.view()}
