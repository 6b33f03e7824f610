"""Tables and versioned migrations. Money is INTEGER units of 1e-8 USDT so SQL sums are exact.

`PRAGMA user_version` holds the schema version; each migration runs in its own transaction.
Append a migration to change the schema; never edit one that has shipped.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Callable

MIGRATIONS: list[tuple[int, str]] = [
    (1, """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE users (name TEXT PRIMARY KEY, legacy INTEGER NOT NULL, created_ms INTEGER NOT NULL,
                        upgrade_status TEXT);
    CREATE TABLE accounts (id TEXT PRIMARY KEY, user TEXT NOT NULL, kind TEXT NOT NULL,
                           restricted INTEGER NOT NULL, last_activity_ms INTEGER NOT NULL);
    CREATE TABLE wallets (account TEXT PRIMARY KEY, balance INTEGER NOT NULL);
    CREATE TABLE ledger (id INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, type TEXT NOT NULL,
                         debit TEXT NOT NULL, credit TEXT NOT NULL, amount INTEGER NOT NULL CHECK (amount > 0),
                         ref TEXT NOT NULL);
    CREATE INDEX ledger_debit ON ledger (debit, at_ms);
    CREATE INDEX ledger_credit ON ledger (credit, at_ms);
    CREATE TABLE journal (seq INTEGER PRIMARY KEY, idem_id TEXT UNIQUE, at_ms INTEGER NOT NULL,
                          command TEXT NOT NULL, status TEXT NOT NULL, code TEXT);
    CREATE TABLE notifications (seq INTEGER PRIMARY KEY, user TEXT NOT NULL, kind TEXT NOT NULL,
                                text TEXT NOT NULL, at_ms INTEGER NOT NULL);
    CREATE INDEX notifications_user ON notifications (user, seq);
    CREATE TABLE markets (symbol TEXT PRIMARY KEY, index_price TEXT NOT NULL, mark TEXT NOT NULL,
                          last TEXT NOT NULL, funding_rate TEXT, open_24h TEXT NOT NULL,
                          updated_ms INTEGER NOT NULL);
    """),
    (2, """
    CREATE TABLE instruments (symbol TEXT PRIMARY KEY, fields TEXT NOT NULL);
    CREATE TABLE symbol_settings (account TEXT NOT NULL, symbol TEXT NOT NULL, leverage INTEGER NOT NULL,
                                  margin_mode TEXT NOT NULL, PRIMARY KEY (account, symbol));
    CREATE TABLE positions (account TEXT NOT NULL, symbol TEXT NOT NULL, lead TEXT NOT NULL, side INTEGER NOT NULL,
                            qty INTEGER NOT NULL, entry_price INTEGER NOT NULL, leverage INTEGER NOT NULL,
                            margin_mode TEXT NOT NULL, margin INTEGER NOT NULL, opened_ms INTEGER NOT NULL,
                            realized_pnl INTEGER NOT NULL, tp INTEGER, sl INTEGER, managed INTEGER NOT NULL,
                            PRIMARY KEY (account, symbol, lead));
    CREATE TABLE orders (seq INTEGER PRIMARY KEY, account TEXT NOT NULL, symbol TEXT NOT NULL, lead TEXT NOT NULL,
                         client_id TEXT NOT NULL, side INTEGER NOT NULL, type TEXT NOT NULL, qty INTEGER NOT NULL,
                         price TEXT, trig TEXT, trigger_by TEXT NOT NULL, callback TEXT, tif TEXT NOT NULL,
                         reduce_only INTEGER NOT NULL, leverage INTEGER NOT NULL, margin_mode TEXT NOT NULL,
                         status TEXT NOT NULL, created_ms INTEGER NOT NULL, reserved_margin INTEGER NOT NULL,
                         extreme TEXT, tp TEXT, sl TEXT);
    CREATE INDEX orders_live ON orders (status) WHERE status IN ('open', 'untriggered');
    CREATE INDEX orders_account ON orders (account, created_ms);
    CREATE TABLE fills (seq INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, account TEXT NOT NULL, symbol TEXT NOT NULL,
                        lead TEXT NOT NULL, side INTEGER NOT NULL, qty INTEGER NOT NULL, price INTEGER NOT NULL,
                        fee INTEGER NOT NULL, realized_pnl INTEGER NOT NULL, maker INTEGER NOT NULL,
                        kind TEXT NOT NULL, order_ref TEXT NOT NULL, opened_ms INTEGER, closed_qty INTEGER NOT NULL);
    CREATE INDEX fills_account ON fills (account, at_ms);
    CREATE TABLE liquidations (seq INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, user TEXT NOT NULL,
                               account TEXT NOT NULL, symbol TEXT NOT NULL, lead TEXT NOT NULL, side INTEGER NOT NULL,
                               qty INTEGER NOT NULL, price INTEGER NOT NULL, fee INTEGER NOT NULL, kind TEXT NOT NULL,
                               insurance INTEGER NOT NULL);
    CREATE INDEX liquidations_user ON liquidations (user, at_ms);
    CREATE TABLE funding (seq INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, account TEXT NOT NULL,
                          symbol TEXT NOT NULL, lead TEXT NOT NULL, qty INTEGER NOT NULL, mark TEXT NOT NULL,
                          rate TEXT NOT NULL, amount INTEGER NOT NULL);
    CREATE INDEX funding_account ON funding (account, at_ms);
    """),
    (3, """
    CREATE TABLE leads (user TEXT PRIMARY KEY, nickname TEXT NOT NULL, bio TEXT NOT NULL, symbols TEXT NOT NULL,
                        capacity INTEGER NOT NULL, profit_share INTEGER NOT NULL, mode TEXT NOT NULL,
                        protected_share INTEGER NOT NULL, created_ms INTEGER NOT NULL);
    CREATE TABLE relations (seq INTEGER PRIMARY KEY, copier TEXT NOT NULL, lead TEXT NOT NULL, mode TEXT NOT NULL,
                            amount INTEGER, ratio INTEGER, leverage INTEGER, margin_mode TEXT,
                            max_margin_per_order INTEGER, max_total_margin INTEGER, symbols TEXT, tp_ratio INTEGER,
                            sl_ratio INTEGER, slippage INTEGER, status TEXT NOT NULL,
                            consecutive_failures INTEGER NOT NULL, countdown_until INTEGER,
                            cum_realized_pnl INTEGER NOT NULL, shared_profit INTEGER NOT NULL,
                            created_ms INTEGER NOT NULL, allocation INTEGER NOT NULL, week_pnl INTEGER NOT NULL,
                            rebate_locked INTEGER NOT NULL, nav_high INTEGER NOT NULL, reminded INTEGER NOT NULL);
    CREATE INDEX relations_lead ON relations (lead, status);
    CREATE TABLE outcomes (seq INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, lead TEXT NOT NULL,
                           lead_order TEXT NOT NULL, copier TEXT NOT NULL, symbol TEXT NOT NULL, kind TEXT NOT NULL,
                           status TEXT NOT NULL, code TEXT, message TEXT, qty INTEGER, price INTEGER, delta INTEGER);
    CREATE INDEX outcomes_copier ON outcomes (copier, seq);
    CREATE INDEX outcomes_lead ON outcomes (lead, lead_order);
    CREATE TABLE copy_orders (seq INTEGER PRIMARY KEY, copier TEXT NOT NULL, lead TEXT NOT NULL,
                              lead_order TEXT NOT NULL, symbol TEXT NOT NULL, side INTEGER NOT NULL,
                              qty INTEGER NOT NULL, open_qty INTEGER NOT NULL, entry_price INTEGER NOT NULL,
                              fees INTEGER NOT NULL, realized_pnl INTEGER NOT NULL, status TEXT NOT NULL,
                              opened_ms INTEGER NOT NULL, closed_ms INTEGER);
    CREATE INDEX copy_orders_open ON copy_orders (status) WHERE status = 'open';
    CREATE INDEX copy_orders_copier ON copy_orders (copier, lead, seq);
    CREATE TABLE margin_signals (seq INTEGER PRIMARY KEY, lead TEXT NOT NULL, symbol TEXT NOT NULL,
                                 delta INTEGER NOT NULL, margin_before INTEGER NOT NULL, occurred_ms INTEGER NOT NULL,
                                 delivered_ms INTEGER NOT NULL, apply_ms INTEGER NOT NULL,
                                 last_relation INTEGER NOT NULL);
    CREATE TABLE settlements (seq INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, copier TEXT NOT NULL,
                              lead TEXT NOT NULL, mode TEXT NOT NULL, net_result INTEGER NOT NULL,
                              compensation INTEGER NOT NULL, profit_shared INTEGER NOT NULL,
                              rebate_released INTEGER NOT NULL, reason TEXT NOT NULL);
    CREATE INDEX settlements_copier ON settlements (copier, at_ms);
    """),
    (4, """
    CREATE TABLE lead_trades (seq INTEGER PRIMARY KEY, lead TEXT NOT NULL, at_ms INTEGER NOT NULL,
                              symbol TEXT NOT NULL, pnl INTEGER NOT NULL, holding_ms INTEGER NOT NULL,
                              broadcast INTEGER NOT NULL);
    CREATE TABLE elite_transfers (seq INTEGER PRIMARY KEY, lead TEXT NOT NULL, at_ms INTEGER NOT NULL,
                                  amount INTEGER NOT NULL);
    CREATE TABLE lead_daily (lead TEXT NOT NULL, day_ms INTEGER NOT NULL, equity INTEGER NOT NULL,
                             net_transfer INTEGER NOT NULL, cum_pnl INTEGER NOT NULL, pnl_pct TEXT, nav TEXT NOT NULL,
                             copiers INTEGER NOT NULL, aum INTEGER NOT NULL, PRIMARY KEY (lead, day_ms));
    """),
    (5, """
    DROP INDEX outcomes_lead;
    """),  # no read looks outcomes up by lead order, and a fan-out writes one outcome per copier
    (6, """
    ALTER TABLE copy_orders ADD COLUMN relation INTEGER;
    """),  # the follow a copy order was opened under (NULL before: the newest follow of the pair)
    (7, """
    DROP INDEX fills_account;
    DROP INDEX ledger_debit;
    DROP INDEX ledger_credit;
    DROP INDEX outcomes_copier;
    DROP INDEX copy_orders_copier;
    CREATE INDEX fills_account ON fills (seq / 100000, account, seq);
    CREATE INDEX ledger_debit ON ledger (id / 100000, debit, id);
    CREATE INDEX ledger_credit ON ledger (id / 100000, credit, id);
    CREATE INDEX outcomes_copier ON outcomes (seq / 100000, copier, seq);
    CREATE INDEX copy_orders_copier ON copy_orders (seq / 100000, copier, seq);
    """),  # per-account history indexes bucketed by row number: see HISTORY_BUCKET
    (8, """
    DROP INDEX IF EXISTS fills_account;
    DROP INDEX IF EXISTS ledger_debit;
    DROP INDEX IF EXISTS ledger_credit;
    DROP INDEX IF EXISTS outcomes_copier;
    DROP INDEX IF EXISTS copy_orders_copier;
    CREATE INDEX fills_account ON fills (seq / 10000, account, seq);
    CREATE INDEX ledger_debit ON ledger (id / 10000, debit, id);
    CREATE INDEX ledger_credit ON ledger (id / 10000, credit, id);
    CREATE INDEX outcomes_copier ON outcomes (seq / 10000, copier, seq);
    CREATE INDEX copy_orders_copier ON copy_orders (seq / 10000, copier, seq);
    """),  # buckets of 10,000 rows, not 100,000: see HISTORY_BUCKET
]

# The per-account history indexes lead with `seq / HISTORY_BUCKET` (the latest migration making them writes
# the number itself: change it only with a migration that rebuilds them). Keyed by account alone, a fan-out
# puts one entry per copier into each index, each in another leaf page once the index is large: the pages it
# dirtied grew with every lead order (1,544 → 17,598 over 31 fan-outs to 10,000 copiers, 414 → 827 ms).
# Bucketed, new entries only ever land among the current bucket's. Buckets of 100,000 rows (migration 7) still
# let a fan-out's entries interleave with those of the ten lead orders before it, by account, across up to
# ~700 leaf pages; buckets of 10,000 (migration 8), one 10,000-copier fan-out's worth, keep them to about the
# pages the new entries fill (the fan-out's commit 189–190 → 163–175 ms, its close's 278–289 → 255–268 ms,
# medians of 14 rounds in alternation). History reads walk the buckets newest first, in spans that double (storage.history).
HISTORY_BUCKET = 10_000

LATEST = MIGRATIONS[-1][0]


def schema_version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def migrate(conn: sqlite3.Connection, notice: Callable[[str], None] | None = None) -> int:
    """Bring the database to the latest schema. Returns the version it started at. An existing database's
    upgrade is announced through `notice` first: rebuilding indexes takes seconds per million rows, and the
    person starting Copydesk should not be left before a silent terminal."""
    start = schema_version(conn)
    if start > LATEST:
        raise SchemaTooNew(f"this database has schema version {start}, newer than this Copydesk "
                           f"understands ({LATEST}); upgrade Copydesk to open it")
    if 0 < start < LATEST and notice is not None:
        notice(f"upgrading the database from schema {start} to {LATEST}, once; a large desk takes a minute or so")
    for version, script in MIGRATIONS:
        if version <= start:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in script.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return start


class SchemaTooNew(Exception):
    pass
