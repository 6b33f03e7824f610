"""The copy manager's data — my leads and their settings, the per-order and position views, margin syncs,
settlements and the account-structure upgrade — built on the engine thread as plain dicts."""
from __future__ import annotations

from engine.accounts import account_id
from engine.copytrading.relations import ACTIVE, Relation
from storage import history
from storage.desk import Desk

from .views import position_rows


def relation_settings(relation: Relation) -> dict:
    """A follow's settings as the copy settings dialog edits them (None: follow the lead / no limit)."""
    return {"mode": relation.mode, "amount": relation.amount, "ratio": relation.ratio,
            "leverage": relation.leverage, "margin_mode": relation.margin_mode,
            "max_margin_per_order": relation.max_margin_per_order, "max_total_margin": relation.max_total_margin,
            "symbols": relation.symbols, "tp_ratio": relation.tp_ratio, "sl_ratio": relation.sl_ratio,
            "slippage": relation.slippage}


def copy_manager_view(desk: Desk, user: str) -> dict:
    exchange = desk.exchange
    conn = desk.store.conn
    latest: dict[str, Relation] = {}
    for relation in exchange.relations_of_copier.get(user, ()):
        if relation.lead not in latest or relation.seq > latest[relation.lead].seq:
            latest[relation.lead] = relation
    leads = []
    for relation in sorted(latest.values(), key=lambda r: (r.status != ACTIVE, r.seq)):
        lead = exchange.leads.get(relation.lead)
        leads.append({
            "lead": relation.lead, "nickname": lead.nickname if lead else relation.lead,
            "protected": bool(lead and lead.protected), "lead_symbols": lead.symbols if lead else (),
            "status": relation.status, "settings": relation_settings(relation),
            "cum_realized_pnl": relation.cum_realized_pnl, "shared_profit": relation.shared_profit,
            "failures": relation.consecutive_failures,
            "countdown_ms": None if relation.countdown_until is None else relation.countdown_until - exchange.now_ms,
        })
    account = exchange.accounts.get(account_id(user, "copy"))
    person = exchange.users.get(user)
    return {
        "leads": leads, "positions": position_rows(exchange, account) if account is not None else [],
        "copy_orders": history.copy_orders(conn, user), "margin_syncs": history.outcomes(conn, user, "margin_sync"),
        "settlements": history.settlements(conn, user),
        "legacy": bool(person and person.legacy), "upgrade_status": person.upgrade_status if person else None,
    }
