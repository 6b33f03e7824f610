"""Upgrading a legacy single-account user to the three-account structure (SPEC §9).

A legacy user trades, copies and leads from one futures account. With no open copy or lead
position the upgrade completes at once: a copy account opens (and the elite account, for an elite
trader) and history stays where it is. Otherwise it is `pending` and completes when the last copy or
lead position closes.
"""
from __future__ import annotations

from ..accounts import WalletKind, account_id
from ..commands import Upgrade
from ..errors import Rejected
from ..exchange import Exchange, handles


def has_copy_or_lead_position(exchange: Exchange, user: str) -> bool:
    account = exchange.accounts[account_id(user, WalletKind.FUTURES)]
    lead = exchange.leads.get(user)
    return any(p.lead or (lead is not None and p.symbol in lead.symbols) for p in account.positions.values())


def complete(exchange: Exchange, name: str) -> None:
    user = exchange.users[name]
    if account_id(name, WalletKind.COPY) not in exchange.accounts:
        exchange.open_account(name, WalletKind.COPY)
    user.upgrade_status = "done"
    exchange.changes.save(user)
    exchange.notify(name, "upgrade", "Your account now has separate Futures, Copy and Elite accounts; "
                    "positions and history are unchanged.")


@handles(Upgrade)
def upgrade(exchange: Exchange, command: Upgrade) -> dict:
    user = exchange.user(command.user)
    if not user.legacy:
        raise Rejected("BAD_FIELD", f"{user.name} already has the three-account structure")
    if user.upgrade_status == "done":
        raise Rejected("BAD_FIELD", f"{user.name} is already upgraded")
    if has_copy_or_lead_position(exchange, user.name):
        user.upgrade_status = "pending"
        exchange.changes.save(user)
        exchange.pending_upgrades.add(user.name)
        exchange.notify(user.name, "upgrade", "Upgrade pending: it completes when your last copy or lead "
                        "position closes.")
    else:
        complete(exchange, user.name)
    return {"upgrade": user.upgrade_status}


def on_close(exchange: Exchange, account, fill) -> None:
    if exchange.pending_upgrades and account.user in exchange.pending_upgrades:
        if not has_copy_or_lead_position(exchange, account.user):
            exchange.pending_upgrades.discard(account.user)
            complete(exchange, account.user)
