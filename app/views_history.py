"""History, notifications and statements for one user: storage queries picked by tab and account, run
on the engine thread."""
from __future__ import annotations

from engine.accounts import TRADING, WalletKind, account_id
from engine.errors import Rejected
from storage import history
from storage.desk import Desk

TABS = ("orders", "fills", "funding", "liquidations", "ledger")
WALLETS = tuple(kind.value for kind in WalletKind)
ROWS = 200


def my_wallets(desk: Desk, user: str, account: str | None) -> list[str]:
    """The user's wallets of that kind (all of them for None) that exist."""
    exchange = desk.exchange
    kinds = WALLETS if account is None else (account,)
    return [kind for kind in kinds if account_id(user, kind) in exchange.ledger.wallets]


def history_rows(desk: Desk, user: str, tab: str, account: str | None) -> list[dict]:
    conn = desk.store.conn
    kinds = my_wallets(desk, user, account)
    if tab == "ledger":
        return history.ledger(conn, [account_id(user, kind) for kind in kinds], limit=ROWS) if kinds else []
    trading = [kind for kind in kinds if kind in TRADING]
    if not trading:
        return []
    if tab == "liquidations":
        return history.liquidations(conn, user, trading, limit=ROWS)
    ids = [account_id(user, kind) for kind in trading]
    if tab == "orders":
        return history.orders(conn, ids, ROWS)
    if tab == "fills":
        return history.fills(conn, ids, limit=ROWS)
    return history.funding(conn, ids, limit=ROWS)


def statement_data(desk: Desk, user: str, account: str, since: int, until: int) -> dict:
    if not my_wallets(desk, user, account):
        raise Rejected("UNKNOWN_ACCOUNT", f"you have no {account} account")
    return history.statement(desk.store.conn, user, account, since, until)
