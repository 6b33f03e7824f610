"""The copy-trading parts of the snapshot: relations and outcomes, copy orders, collateral."""
from __future__ import annotations

from ..exchange import Exchange
from ..money import fmt
from ..snapshot import ACCOUNT_EXTRAS, SECTION_BUILDERS, take_unreported
from .copy_orders import EXPLANATION
from .leads import collateral_account


def copy_section(exchange: Exchange, period: str) -> dict:
    relations = sorted(exchange.relations.values(), key=lambda r: r.seq)
    return {"relations": [r.view() for r in relations], "outcomes": take_unreported(exchange, "outcomes")}


def account_extras(exchange: Exchange, account, view: dict) -> None:
    if account.kind == "copy":
        live = [r for book in exchange.copy_orders.values() for r in book if r.copier == account.user]
        closed, exchange.recently_closed_copy_orders = exchange.recently_closed_copy_orders, [
            r for r in exchange.recently_closed_copy_orders if r.copier != account.user]
        mine = [r for r in closed if r.copier == account.user]
        view["copy_orders"] = [r.view() for r in sorted(live + mine, key=lambda r: r.seq)]
        view["copy_orders_note"] = EXPLANATION
    elif account.kind == "elite":
        view["collateral"] = fmt(exchange.ledger.balance(collateral_account(account.user)))


SECTION_BUILDERS["copy"] = copy_section
ACCOUNT_EXTRAS.append(account_extras)
