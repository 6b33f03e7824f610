"""Trader profile metrics and their daily series (SPEC §8).

The exchange records what the metrics need as it happens — every closed elite trade on a lead
symbol (broadcast or not), every transfer in or out of the elite account, and a daily point of
equity, NAV, copiers and AUM at 00:00 UTC — so a profile or the leaderboard is computed from a
few short lists, never from the ledger.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from ..accounts import WalletKind
from ..clock import DAY, format_time
from ..exchange import DUE_WORK, TRADE_LISTENERS, TRANSFER_LISTENERS, Exchange
from ..money import ZERO, fmt, from_units, to_units
from ..performance import investment, max_drawdown, nav_series, sharpe, trade_stats
from ..snapshot import SECTION_BUILDERS
from .leads import Lead, elite_equity

PERIOD_MS = {"7d": 7 * DAY, "30d": 30 * DAY, "90d": 90 * DAY, "all": None}


@dataclass(slots=True, frozen=True)
class LeadTrade:
    TABLE: ClassVar[str] = "lead_trades"
    COLUMNS: ClassVar[tuple[str, ...]] = ("seq", "lead", "at_ms", "symbol", "pnl", "holding_ms", "broadcast")
    seq: int
    lead: str
    at_ms: int
    symbol: str
    pnl: Decimal        # net realized PnL of the closing fill (after its fee)
    holding_ms: int
    broadcast: bool     # was it a lead order (copied), or below the equity rule

    def row(self) -> tuple:
        return (self.seq, self.lead, self.at_ms, self.symbol, to_units(self.pnl), self.holding_ms, int(self.broadcast))

    @classmethod
    def from_row(cls, row: tuple) -> "LeadTrade":
        return cls(row[0], row[1], row[2], row[3], from_units(row[4]), row[5], bool(row[6]))


@dataclass(slots=True, frozen=True)
class EliteTransfer:
    TABLE: ClassVar[str] = "elite_transfers"
    COLUMNS: ClassVar[tuple[str, ...]] = ("seq", "lead", "at_ms", "amount")
    seq: int
    lead: str
    at_ms: int
    amount: Decimal     # + in, − out

    def row(self) -> tuple:
        return (self.seq, self.lead, self.at_ms, to_units(self.amount))

    @classmethod
    def from_row(cls, row: tuple) -> "EliteTransfer":
        return cls(row[0], row[1], row[2], from_units(row[3]))


@dataclass(slots=True, frozen=True)
class DailyPoint:
    TABLE: ClassVar[str] = "lead_daily"
    COLUMNS: ClassVar[tuple[str, ...]] = ("lead", "day_ms", "equity", "net_transfer", "cum_pnl", "pnl_pct", "nav",
                                          "copiers", "aum")
    lead: str
    day_ms: int
    equity: Decimal
    net_transfer: Decimal
    cum_pnl: Decimal
    pnl_pct: Decimal | None
    nav: Decimal
    copiers: int
    aum: Decimal

    def row(self) -> tuple:
        return (self.lead, self.day_ms, to_units(self.equity), to_units(self.net_transfer), to_units(self.cum_pnl),
                None if self.pnl_pct is None else str(self.pnl_pct), str(self.nav), self.copiers, to_units(self.aum))

    @classmethod
    def from_row(cls, row: tuple) -> "DailyPoint":
        return cls(row[0], row[1], from_units(row[2]), from_units(row[3]), from_units(row[4]),
                   None if row[5] is None else Decimal(row[5]), Decimal(row[6]), row[7], from_units(row[8]))

    def view(self) -> dict:
        return {"day": format_time(self.day_ms), "equity": fmt(self.equity), "cum_pnl": fmt(self.cum_pnl),
                "pnl_pct": fmt(self.pnl_pct), "nav": fmt(self.nav), "copiers": self.copiers, "aum": fmt(self.aum)}


class LeadHistory:
    """What one lead's metrics are computed from (in memory, rebuilt from its tables at load)."""
    __slots__ = ("trades", "transfers", "daily")

    def __init__(self) -> None:
        self.trades: list[LeadTrade] = []
        self.transfers: list[EliteTransfer] = []
        self.daily: list[DailyPoint] = []


def history(exchange: Exchange, lead: str) -> LeadHistory:
    found = exchange.lead_history.get(lead)
    if found is None:
        found = exchange.lead_history[lead] = LeadHistory()
    return found


def record_transfer(exchange: Exchange, lead: str, amount: Decimal) -> None:
    """Called for every movement into (+) or out of (−) an elite account that is not trading."""
    record = EliteTransfer(exchange.next_id("elite_transfer"), lead, exchange.now_ms, amount)
    history(exchange, lead).transfers.append(record)
    exchange.changes.append(record)


def on_trade(exchange: Exchange, account, fill, held=None) -> None:
    """Trade listener, as the mirror is: a forced fill reaches both once its liquidation has settled (after its
    fee), so a close counts as a lead order exactly when it was mirrored as one."""
    if account.kind != WalletKind.ELITE or not fill.closed_qty:
        return
    lead = exchange.leads.get(account.user)
    if lead is None or fill.symbol not in lead.symbols:
        return
    broadcast = elite_equity(exchange, lead.user) >= exchange.config.elite_min_equity
    record = LeadTrade(exchange.next_id("lead_trade"), lead.user, fill.at_ms, fill.symbol,
                       fill.realized_pnl - fill.fee, fill.at_ms - (fill.opened_ms or fill.at_ms), broadcast)
    history(exchange, lead.user).trades.append(record)
    exchange.changes.append(record)


def aum(exchange: Exchange, lead: Lead) -> Decimal:
    """Copiers' equity in copy positions of this lead: margin plus unrealized PnL."""
    total = ZERO
    for relation in lead.copiers.values():
        account = exchange.accounts[f"{relation.copier}:copy"]
        for position in account.positions.values():
            if position.lead == lead.user:
                mark = exchange.markets[position.symbol].mark
                total += (position.margin if position.isolated else position.initial_margin) + position.unrealized_pnl(mark)
    return total


def _lead_pnl(trades, since: int) -> Decimal:
    return sum((t.pnl for t in trades if t.broadcast and t.at_ms >= since), ZERO)


def metrics(exchange: Exchange, lead: Lead, period: str = "all") -> dict:
    now = exchange.now_ms
    span = PERIOD_MS[period]
    since = lead.created_ms if span is None else max(lead.created_ms, now - span)
    past = history(exchange, lead.user)
    trades = [t for t in past.trades if t.at_ms >= since]
    lead_pnl = _lead_pnl(trades, since)
    # Equity at the period's start: the last daily point at or before it (zero before the lead existed).
    opening = [p for p in past.daily if p.day_ms <= since]
    start_equity = opening[-1].equity if opening and span is not None else ZERO
    invested = investment(start_equity, [t.amount for t in past.transfers
                                         if t.at_ms >= (since if span is not None else 0)])
    points = [p for p in past.daily if p.day_ms > since]
    equities = [start_equity] + [p.equity for p in points] + [elite_equity(exchange, lead.user)]
    flows = [ZERO] + [p.net_transfer for p in points] + [
        sum((t.amount for t in past.transfers if t.at_ms > (points[-1].day_ms if points else since)), ZERO)]
    navs = nav_series(equities, flows)
    relations = exchange.relations_of_lead.get(lead.user, ())
    days = max(1, -(-(now - since) // DAY))
    stats = trade_stats([t.pnl for t in trades], [t.holding_ms for t in trades])
    ratio = lambda v: None if v is None else fmt(v.quantize(Decimal("1e-8")))  # noqa: E731
    return {
        "nickname": lead.nickname, "mode": lead.mode, "symbols": list(lead.symbols),
        "lead_pnl": fmt(lead_pnl), "investment": fmt(invested),
        "pnl_pct": ratio(lead_pnl / invested) if invested > 0 else None,
        "win_rate": ratio(stats["win_rate"]), "profit_loss_ratio": ratio(stats["profit_loss_ratio"]),
        "gainers": stats["gainers"], "losers": stats["losers"], "avg_holding_seconds": stats["avg_holding_seconds"],
        "max_drawdown": ratio(max_drawdown(navs)), "sharpe": ratio(sharpe(navs)),
        "aum": fmt(aum(exchange, lead)), "copiers": len(lead.copiers), "capacity": lead.capacity,
        "copier_pnl": fmt(sum((r.cum_realized_pnl for r in relations), ZERO)),
        "profit_share_earned": fmt(sum((r.shared_profit for r in relations), ZERO)),
        "trades_per_day": ratio(Decimal(len(trades)) / days), "days_trading": -(-(now - lead.created_ms) // DAY),
        "period": period,
    }


def leads_section(exchange: Exchange, period: str) -> dict:
    return {name: metrics(exchange, exchange.leads[name], period) for name in sorted(exchange.leads)}


class DailySeries:
    """At 00:00 UTC each day, one point per lead: the curves' data, persisted so they load instantly."""
    name = "daily"

    def next_due(self, exchange: Exchange) -> int | None:
        if not exchange.leads:
            return None
        return (max(exchange.schedule.get(self.name, 0), exchange.now_ms) // DAY + 1) * DAY

    def run_due(self, exchange: Exchange, at_ms: int) -> None:
        exchange.schedule[self.name] = at_ms
        for name in sorted(exchange.leads):
            lead = exchange.leads[name]
            past = history(exchange, name)
            previous = past.daily[-1] if past.daily else None
            since = previous.day_ms if previous else lead.created_ms
            equity = elite_equity(exchange, name)
            net = sum((t.amount for t in past.transfers if t.at_ms > since or (previous is None and t.at_ms >= since)),
                      ZERO)
            if previous is None:
                nav = Decimal(1)
            else:
                nav = previous.nav * ((equity - net) / previous.equity) if previous.equity > 0 else previous.nav
            cum = _lead_pnl(past.trades, 0)
            invested = investment(ZERO, [t.amount for t in past.transfers])
            point = DailyPoint(name, at_ms, equity, net, cum, (cum / invested).quantize(Decimal("1e-8")) if invested > 0
                               else None, nav.quantize(Decimal("1e-12")), len(lead.copiers), aum(exchange, lead))
            past.daily.append(point)
            exchange.changes.append(point)


def on_transfer(exchange: Exchange, user: str, source: str, target: str, amount: Decimal) -> None:
    if user in exchange.leads and WalletKind.ELITE in (source, target):
        record_transfer(exchange, user, amount if target == WalletKind.ELITE else -amount)


SECTION_BUILDERS["leads"] = leads_section
TRANSFER_LISTENERS.append(on_transfer)
DUE_WORK.append(DailySeries())
TRADE_LISTENERS.append(on_trade)
