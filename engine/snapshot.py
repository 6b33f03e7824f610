"""The snapshot: the public JSON view of the engine's state (../shared/SCENARIOS.md, "Snapshot")."""
from __future__ import annotations

from typing import TYPE_CHECKING

from .accounts import TRADING, WalletKind, account_id
from .clock import format_time
from .commands import Snapshot
from .exchange import handles
from .ledger import INSURANCE_FUND
from .money import fmt
from .valuation import value_account

if TYPE_CHECKING:
    from .accounts import TradingAccount
    from .exchange import Exchange

# Sections filled in by later subsystems register a builder here: name → builder(exchange, period).
SECTION_BUILDERS: dict = {}


def account_view(exchange: "Exchange", account: "TradingAccount") -> dict:
    value = value_account(exchange, account)
    view = {
        "wallet_balance": fmt(value.wallet_balance),
        "equity": fmt(value.equity),
        "available": fmt(value.available),
        "margin_used": fmt(value.margin_used),
        "unrealized_pnl": fmt(value.unrealized_pnl),
        "restricted": account.restricted,
        "dormant": account.dormant(exchange.now_ms),
        "positions": [exchange.position_view(p) for p in sorted(account.positions.values(), key=_position_order)],
        "orders": [o.view() for o in sorted(account.orders.values(), key=lambda o: o.seq)],
    }
    for extra in ACCOUNT_EXTRAS:
        extra(exchange, account, view)
    return view


# Hooks that add wallet-specific keys (copy_orders, collateral) to an account's view.
ACCOUNT_EXTRAS: list = []


def _position_order(position) -> tuple:
    return (position.symbol, position.lead or "")


def users_section(exchange: "Exchange") -> dict:
    users = {}
    for name in sorted(exchange.users):
        view = {"funding": {"balance": fmt(exchange.ledger.balance(account_id(name, WalletKind.FUNDING)))}}
        for kind in TRADING:
            account = exchange.accounts.get(account_id(name, kind))
            if account is not None:
                view[kind.value] = account_view(exchange, account)
        users[name] = view
    return users


def take_unreported(exchange: "Exchange", kind: str) -> list[dict]:
    records, exchange.unreported[kind] = exchange.unreported[kind], []
    if records:
        exchange.reported[kind] = records[-1].seq
    return [record.view() for record in records]


def build_snapshot(exchange: "Exchange", sections: tuple[str, ...] | None = None, period: str = "all") -> dict:
    """Build the snapshot. Reading it reports (and clears) what happened since the previous one."""
    wanted = set(sections) if sections else None

    def want(name: str) -> bool:
        return wanted is None or name in wanted

    snapshot: dict = {}
    if want("at"):
        snapshot["at"] = format_time(exchange.now_ms)
    if want("users"):
        snapshot["users"] = users_section(exchange)
    for name in ("copy", "leads"):
        if want(name):
            builder = SECTION_BUILDERS.get(name)
            snapshot[name] = builder(exchange, period) if builder else (
                {"relations": [], "outcomes": []} if name == "copy" else {})
    if want("notifications"):
        snapshot["notifications"] = take_unreported(exchange, "notifications")
    if want("liquidations"):
        snapshot["liquidations"] = take_unreported(exchange, "liquidations") if "liquidations" in exchange.unreported else []
    if want("insurance_fund"):
        snapshot["insurance_fund"] = fmt(exchange.ledger.balance(INSURANCE_FUND))
    if want("ledger"):
        snapshot["ledger"] = {"sum": fmt(exchange.ledger_sum()), "entries": exchange.ledger.entry_count}
    return snapshot


@handles(Snapshot)
def snapshot(exchange: "Exchange", command: Snapshot) -> dict:
    return build_snapshot(exchange, command.of, command.period)
