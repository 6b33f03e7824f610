"""Plain data for the screens, built on the engine thread from the live exchange.

Widgets never touch engine objects: the engine thread builds these dicts (cheap, bounded) and the
UI renders them, so a screen can never observe half of a command."""
from __future__ import annotations

from collections import deque
from decimal import Decimal
from typing import Any

from engine.accounts import TRADING, account_id
from engine.exchange import Exchange
from engine.margin import preview_liquidation_price, removable
from engine.money import ZERO
from engine.positions import side_name
from engine.valuation import value_account


def market_rows(exchange: Exchange) -> list[dict]:
    rows = []
    for symbol in sorted(exchange.markets):
        market = exchange.markets[symbol]
        instrument = exchange.instruments[symbol]
        hours = instrument.funding_hours * 3_600_000
        due = (exchange.now_ms // hours + 1) * hours
        change = (market.last / market.open_24h - 1) if market.open_24h else ZERO
        rows.append({"symbol": symbol, "last": market.last, "mark": market.mark, "index": market.index,
                     "change": change, "funding_in_ms": due - exchange.now_ms, "tick": instrument.tick,
                     "funding_rate": market.funding_rate})
    return rows


def position_rows(exchange: Exchange, account) -> list[dict]:
    rows = []
    for position in sorted(account.positions.values(), key=lambda p: (p.symbol, p.lead)):
        instrument = exchange.instruments[position.symbol]
        mark = exchange.markets[position.symbol].mark
        rows.append({
            "key": f"{position.symbol}|{position.lead}", "symbol": position.symbol, "lead": position.lead,
            "side": side_name(position.side), "qty": position.qty, "entry": position.entry_price, "mark": mark,
            "liquidation_price": position.liquidation_price, "leverage": position.leverage,
            "margin_mode": position.margin_mode,
            "margin": position.margin if position.isolated else position.initial_margin,
            "upnl": position.unrealized_pnl(mark), "roe": position.roe(mark), "tp": position.tp, "sl": position.sl,
            "managed": position.managed, "tick": instrument.tick,
        })
    return rows


def account_summary(exchange: Exchange, user: str, kind: str) -> dict | None:
    account = exchange.accounts.get(account_id(user, kind))
    if account is None:
        return None
    value = value_account(exchange, account)
    return {"kind": kind, "wallet": value.wallet_balance, "equity": value.equity, "available": value.available,
            "margin_used": value.margin_used, "upnl": value.unrealized_pnl, "margin_ratio": value.margin_ratio,
            "restricted": account.restricted, "dormant": account.dormant(exchange.now_ms),
            "positions": position_rows(exchange, account), "orders": len(account.orders)}


def mirror_view(exchange: Exchange, user: str, lead_orders: deque) -> dict | None:
    lead = exchange.leads.get(user)
    if lead is None:
        return None
    aggregate: dict[tuple[str, str], list] = {}
    copying = 0
    for relation in lead.copiers.values():
        account = exchange.accounts[account_id(relation.copier, "copy")]
        for position in account.positions.values():
            if position.lead == user:
                copying += 1
                entry = aggregate.setdefault((position.symbol, side_name(position.side)), [ZERO, ZERO, 0])
                entry[0] += position.qty
                entry[1] += position.unrealized_pnl(exchange.markets[position.symbol].mark)
                entry[2] += 1
    return {"copiers": len(lead.copiers), "capacity": lead.capacity, "mode": lead.mode, "copying": copying,
            "aggregate": [{"symbol": s, "side": side, "qty": v[0], "upnl": v[1], "copiers": v[2]}
                          for (s, side), v in sorted(aggregate.items())],
            "lead_orders": list(lead_orders)}


def desk_view(exchange: Exchange, user: str, lead_orders: deque) -> dict:
    return {"now_ms": exchange.now_ms, "markets": market_rows(exchange),
            "accounts": {kind.value: account_summary(exchange, user, kind.value) for kind in TRADING},
            "funding": exchange.ledger.balance(account_id(user, "funding")) if user in exchange.users else ZERO,
            "mirror": mirror_view(exchange, user, lead_orders), "user": user,
            "is_lead": user in exchange.leads}


def margin_view(exchange: Exchange, user: str, kind: str, symbol: str, lead: str, delta: Decimal) -> dict:
    account = exchange.account(user, kind)
    position = account.positions.get((symbol, lead))
    if position is None:
        return {"missing": True}
    synced = 0
    leader = exchange.leads.get(user) if kind == "elite" else None
    if leader is not None and symbol in leader.symbols:
        synced = sum(1 for r in leader.copiers.values()
                     if (p := exchange.accounts[account_id(r.copier, "copy")].positions.get((symbol, user)))
                     is not None and p.isolated)
    return {"missing": False, "isolated": position.isolated, "margin": position.margin,
            "max_removable": removable(exchange, position) if position.isolated else ZERO,
            "available": value_account(exchange, account).available,
            "liquidation_price": position.liquidation_price,
            "new_liquidation_price": preview_liquidation_price(exchange, position, delta) if position.isolated else None,
            "copiers_to_sync": synced, "side": side_name(position.side), "qty": position.qty}


# Fields of these views that hold decimals: the API sends them as strings, a remote screen reads them back.
DECIMAL_FIELDS = frozenset({
    "last", "mark", "index", "change", "tick", "funding_rate", "qty", "entry", "liquidation_price", "margin", "upnl",
    "roe", "tp", "sl", "wallet", "equity", "available", "margin_used", "margin_ratio", "funding", "price",
    "notional", "fee", "cost", "max_removable", "new_liquidation_price", "copied_qty", "delta"})


def decode(value: Any, fields: frozenset[str] = DECIMAL_FIELDS, maps: frozenset[str] = frozenset(),
           key: str | None = None) -> Any:
    """A view as JSON came back over the wire → the same view with Decimals where the engine had them: the
    strings under a key in `fields`, and every value of a dict under a key in `maps` (a statement's totals
    by entry type). The keys are the view's own: the same name may be text in another view."""
    if isinstance(value, dict):
        if key in maps:
            return {k: Decimal(v) if isinstance(v, str) else v for k, v in value.items()}
        return {k: decode(v, fields, maps, k) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v, fields, maps, key) for v in value]
    if key in fields and isinstance(value, str):
        return Decimal(value)
    return value
