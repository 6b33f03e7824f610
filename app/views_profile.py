"""Trader profiles, the leaderboard and the copy-settings preview: plain data built on the engine thread.

Metrics come from the engine's profile module (SPEC §8); the curves are its persisted daily points for
the period plus one point for now, so the last point moves live with the lead's equity."""
from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

from engine.accounts import account_id
from engine.commands import Follow, UpdateFollow, parse_line
from engine.copytrading.leads import Lead, elite_equity, lead_of
from engine.copytrading.profile import PERIOD_MS, history, metrics
from engine.copytrading.relations import ACTIVE, follow_settings, relation_of
from engine.copytrading.sizing import size_copy
from engine.errors import Rejected
from engine.exchange import Exchange
from engine.fills import fee_rate
from engine.leverage import setting
from engine.money import ZERO
from engine.order_entry import check_opening
from engine.performance import nav_series
from engine.trading import plan_fill
from storage import history as stored
from storage.desk import Desk

from .views import position_rows
from .views_copy import relation_settings

PERIODS = tuple(PERIOD_MS)
COPIERS_SHOWN = 100
LEAD_ORDERS_SHOWN = 30
SPARK_POINTS = 24
# Metrics the engine reports as decimal strings (the rest are counts, names and seconds).
DECIMAL_METRICS = ("lead_pnl", "investment", "pnl_pct", "win_rate", "profit_loss_ratio", "max_drawdown", "sharpe",
                   "aum", "copier_pnl", "profit_share_earned", "trades_per_day")


def lead_metrics(exchange: Exchange, lead: Lead, period: str) -> dict:
    figures = metrics(exchange, lead, period)
    for name in DECIMAL_METRICS:
        figures[name] = None if figures[name] is None else Decimal(figures[name])
    return figures


def current_point(exchange: Exchange, lead: Lead, overall: dict) -> dict:
    """Today's point, live: NAV carried from the last daily point by the rule transfers do not move."""
    past = history(exchange, lead.user)
    equity = elite_equity(exchange, lead.user)
    nav = Decimal(1)
    if past.daily:
        last = past.daily[-1]
        flow = sum((t.amount for t in past.transfers if t.at_ms > last.day_ms), ZERO)
        nav = last.nav * nav_series([last.equity, equity], [ZERO, flow])[-1]
    return {"at_ms": exchange.now_ms, "equity": equity, "cum_pnl": overall["lead_pnl"], "pnl_pct": overall["pnl_pct"],
            "nav": nav, "copiers": len(lead.copiers), "aum": overall["aum"]}


def curve(exchange: Exchange, lead: Lead, period: str, overall: dict) -> list[dict]:
    """The period's daily points and now, with the drawdown from the NAV's running peak."""
    span = PERIOD_MS[period]
    since = None if span is None else exchange.now_ms - span
    points = [{"at_ms": p.day_ms, "equity": p.equity, "cum_pnl": p.cum_pnl, "pnl_pct": p.pnl_pct, "nav": p.nav,
               "copiers": p.copiers, "aum": p.aum}
              for p in history(exchange, lead.user).daily if since is None or p.day_ms >= since]
    points.append(current_point(exchange, lead, overall))
    peak = ZERO
    for point in points:
        peak = max(peak, point["nav"])
        point["drawdown"] = point["nav"] / peak - 1 if peak > 0 else ZERO
    return points


def profile_view(desk: Desk, lead_name: str, period: str, viewer: str) -> dict | None:
    exchange = desk.exchange
    lead = exchange.leads.get(lead_name)
    if lead is None:
        return None
    figures = lead_metrics(exchange, lead, period)
    overall = figures if period == "all" else lead_metrics(exchange, lead, "all")
    elite = exchange.accounts.get(account_id(lead_name, "elite"))
    mine = relation_of(exchange, viewer, lead_name)
    copiers = [{"copier": r.copier, "mode": r.mode, "amount": r.amount, "ratio": r.ratio, "pnl": r.cum_realized_pnl,
                "failures": r.consecutive_failures}
               for r in list(lead.copiers.values())[:COPIERS_SHOWN]]
    return {
        "lead": lead_name, "nickname": lead.nickname, "bio": lead.bio,
        "protected": lead.protected, "symbols": lead.symbols, "capacity": lead.capacity,
        "profit_share": lead.protected_share if lead.protected else lead.profit_share,
        "copier_count": len(lead.copiers), "period": period, "metrics": figures,
        "curve": curve(exchange, lead, period, overall),
        "positions": position_rows(exchange, elite) if elite is not None else [],
        "lead_orders": stored.lead_fills(desk.store.conn, lead_name, lead.symbols, LEAD_ORDERS_SHOWN),
        "copiers": copiers, "is_me": viewer == lead_name,
        "following": relation_settings(mine) if mine is not None and mine.status == ACTIVE else None,
    }


def leaderboard_view(exchange: Exchange, period: str) -> list[dict]:
    rows = []
    for name in sorted(exchange.leads):
        lead = exchange.leads[name]
        figures = lead_metrics(exchange, lead, period)
        overall = figures if period == "all" else lead_metrics(exchange, lead, "all")
        trend = [p.cum_pnl for p in history(exchange, name).daily[-(SPARK_POINTS - 1):]] + [overall["lead_pnl"]]
        rows.append({"lead": name, "nickname": lead.nickname, "protected": lead.protected,
                     "pnl_pct": figures["pnl_pct"], "lead_pnl": figures["lead_pnl"], "win_rate": figures["win_rate"],
                     "max_drawdown": figures["max_drawdown"], "aum": figures["aum"], "copiers": figures["copiers"],
                     "capacity": lead.capacity, "trend": trend})
    return rows


def follow_preview(desk: Desk, user: str, line: dict) -> dict:
    """What the lead's last lead order would have copied as for `user` under the `follow` or `update_follow`
    line the copy settings dialog would send: the line's settings checked as the engine checks them, then the
    sizing, caps and checks of a mirrored open (engine/copytrading/mirror.py) at the lead's fill price, without
    trading. Slippage protection is left out: it compares two fills made at the same moment. Raises Rejected
    for a line the engine would refuse."""
    exchange = desk.exchange
    command = parse_line({**line, "user": user}).command
    if not isinstance(command, Follow):
        raise Rejected("BAD_FIELD", "a follow preview takes a follow or update_follow line")
    lead = lead_of(exchange, command.lead)
    lead_name = lead.user
    base = relation_of(exchange, user, lead_name) if isinstance(command, UpdateFollow) else None
    settings = follow_settings(command, lead, base if base is not None and base.status == ACTIVE else None)
    last = stored.last_lead_open(desk.store.conn, lead_name, lead.symbols)
    if last is None:
        return {"lead_order": None}
    symbol, price = last["symbol"], last["price"]
    side = 1 if last["side"] == "buy" else -1
    instrument = exchange.instruments[symbol]
    preview = {"lead_order": f"L{last['seq']}", "symbol": symbol, "side": last["side"],
               "lead_qty": last["qty"] - last["closed_qty"], "lead_price": price, "qty": None, "margin": None,
               "fee": None, "code": None, "message": None}
    account = exchange.accounts.get(account_id(user, "copy"))
    if account is None:
        return preview | {"code": "UNKNOWN_ACCOUNT", "message": "you have no copy account: upgrade first"}
    position = account.positions.get((symbol, lead_name))
    lead_setting = setting(exchange, exchange.accounts[account_id(lead_name, "elite")], symbol)
    try:
        size = size_copy(exchange, lead, SimpleNamespace(**settings), account, instrument, side, preview["lead_qty"],
                         price, lead_setting.leverage, lead_setting.margin_mode)
        preview |= {"leverage": size.leverage, "margin_mode": size.margin_mode}
        check_opening(exchange, account, instrument, position, side, size.qty, price, size.leverage, False)
    except Rejected as rejection:
        return preview | {"code": rejection.code, "message": rejection.message}
    qty, leverage = size.qty, size.leverage
    plan = plan_fill(position, side, qty, price, leverage, fee_rate(exchange.config, instrument, False))
    return preview | {"qty": qty, "margin": plan.open_margin, "fee": plan.fee}
