"""Rebuild an Exchange from stored rows: the inverse of what `Changes` records."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from .accounts import TradingAccount, User
from .config import EngineConfig
from .exchange import Exchange
from .ledger import Wallet
from .records import Notification

# Entity tables the engine keeps whole in memory, in the order they must be restored.
ENTITY_TYPES = (User, TradingAccount, Wallet)
# Record tables of which only the rows not yet reported by a snapshot are needed.
UNREPORTED_TYPES = {"notifications": Notification}


def restore_exchange(meta: Mapping[str, str], rows: Mapping[str, Sequence[tuple]]) -> Exchange:
    exchange = Exchange(EngineConfig.from_json(meta["config"]), int(meta["now_ms"]), fund_insurance=False)
    exchange.ledger.next_id = int(meta["ledger_next_id"])
    exchange.next_notification = int(meta["next_notification"])
    for row in rows.get(User.TABLE, ()):
        user = User.from_row(row)
        exchange.users[user.name] = user
    for row in rows.get(TradingAccount.TABLE, ()):
        account = TradingAccount.from_row(row)
        exchange.accounts[account.id] = account
    for row in rows.get(Wallet.TABLE, ()):
        exchange.ledger.restore(Wallet.from_row(row))
    for kind, record_type in UNREPORTED_TYPES.items():
        exchange.reported[kind] = int(meta.get(f"reported_{kind}", 0))
        exchange.unreported[kind] = [record_type.from_row(r) for r in rows.get(record_type.TABLE, ())]
    exchange.changes.clear()
    return exchange
