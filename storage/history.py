"""History the engine keeps only on disk: orders, fills, funding, liquidations, the ledger, copy records,
notifications — and account statements built from them.

Plain SQL on the desk's own connection, called on the engine thread (between commands, so a query
never sees half of one); record-shaped reads go through sqlite-utils, which hands rows back as dicts.
Money is INTEGER units of 1e-8 in the tables and comes back as Decimal. Time windows are half-open:
`since <= at_ms < until`.

Fills, ledger entries, outcomes and copy orders are found by account through indexes bucketed by row
number (storage.schema.HISTORY_BUCKET): `_walk` reads them a span of buckets at a time, newest first, and
stops as soon as it has the rows asked for. Spans double (1, 2, 4, … buckets): an active account's newest
rows come from the first statement, and a quiet one's whole history, spread over a thousand buckets, from
about ten statements, not a thousand."""
from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from decimal import Decimal

from engine.accounts import account_id
from engine.clock import format_time
from engine.ledger import EntryType
from engine.money import ZERO, from_units

from .schema import HISTORY_BUCKET


def _units(value: int | None) -> Decimal | None:
    return None if value is None else from_units(value)


def _marks(values: Sequence) -> str:
    return ", ".join("?" * len(values))


def _window(column: str, since: int | None, until: int | None) -> tuple[str, list]:
    clauses, params = [], []
    if since is not None:
        clauses.append(f"{column} >= ?")
        params.append(since)
    if until is not None:
        clauses.append(f"{column} < ?")
        params.append(until)
    return "".join(f" AND {c}" for c in clauses), params


def _limit(limit: int | None) -> str:
    return "" if limit is None else f" LIMIT {int(limit)}"


def _buckets(conn: sqlite3.Connection, table: str, key: str, newest_first: bool = True) -> Iterator[str]:
    """The conditions that select each span of buckets of `table` holding rows, in reading order: the very
    expression its bucketed index is made on, so the index serves it (an IN list is one search per bucket)."""
    top = conn.execute(f"SELECT max({key}) FROM {table}").fetchone()[0]
    if top is None:
        return
    buckets = range(top // HISTORY_BUCKET, -1, -1) if newest_first else range(top // HISTORY_BUCKET + 1)
    start, span = 0, 1
    while start < len(buckets):
        chosen = buckets[start:start + span]
        yield f"{key} / {HISTORY_BUCKET} IN ({', '.join(map(str, chosen))})"
        start, span = start + span, span * 2


def _walk(conn: sqlite3.Connection, table: str, key: str, columns: str, where: str | Sequence[str], params: Sequence,
          *, newest_first: bool = True, limit: int | None = None) -> list[tuple]:
    """Rows of `table` matching `where` in `key` order, up to `limit`. `where` starts with `{bucket} AND` (each
    span of buckets goes there in turn) and an indexed account term; several of them are alternatives (a UNION, so each keeps its own index: an OR
    lets SQLite settle for the buckets alone, a scan of all their rows), sharing `params` in turn."""
    order = "DESC" if newest_first else "ASC"
    alternatives = [where] if isinstance(where, str) else list(where)
    rows: list[tuple] = []
    for span in _buckets(conn, table, key, newest_first):
        wanted = None if limit is None else limit - len(rows)
        if wanted == 0:
            break
        select = " UNION ".join(f"SELECT {columns} FROM {table} WHERE {alternative.replace('{bucket}', span)}"
                                for alternative in alternatives)
        rows += conn.execute(f"{select} ORDER BY {key} {order}{_limit(wanted)}",
                             [*params] * len(alternatives)).fetchall()
    return rows


# --- trading records -------------------------------------------------------------------------------


def _fill(row: tuple) -> dict:
    seq, at_ms, account, symbol, lead, side, qty, price, fee, pnl, maker, kind, ref, closed = row
    return {"seq": seq, "at_ms": at_ms, "at": format_time(at_ms), "account": account, "symbol": symbol,
            "lead": lead, "side": "buy" if side > 0 else "sell", "qty": from_units(qty), "price": from_units(price),
            "fee": from_units(fee), "realized_pnl": from_units(pnl), "maker": bool(maker), "kind": kind,
            "order": ref, "closed_qty": from_units(closed)}


_FILL_COLUMNS = ("seq, at_ms, account, symbol, lead, side, qty, price, fee, realized_pnl, maker, kind, order_ref, "
                 "closed_qty")


def fills(conn: sqlite3.Connection, accounts: Sequence[str], *, since: int | None = None, until: int | None = None,
          limit: int | None = None, newest_first: bool = True) -> list[dict]:
    window, params = _window("at_ms", since, until)
    rows = _walk(conn, "fills", "seq", _FILL_COLUMNS, f"{{bucket}} AND account IN ({_marks(accounts)}){window}",
                 [*accounts, *params], newest_first=newest_first, limit=limit)
    return [_fill(row) for row in rows]


def lead_fills(conn: sqlite3.Connection, lead: str, symbols: Sequence[str], limit: int = 30) -> list[dict]:
    """The lead's elite fills on its lead symbols, newest first: its recent lead orders."""
    rows = _walk(conn, "fills", "seq", _FILL_COLUMNS, f"{{bucket}} AND account = ? AND symbol IN ({_marks(symbols)})",
                 [account_id(lead, "elite"), *symbols], limit=limit)
    return [_fill(row) for row in rows]


def last_lead_open(conn: sqlite3.Connection, lead: str, symbols: Sequence[str]) -> dict | None:
    """The lead's latest elite trade on a lead symbol that opened or increased a position."""
    rows = _walk(conn, "fills", "seq", _FILL_COLUMNS, f"{{bucket}} AND account = ? AND symbol IN ({_marks(symbols)}) "
                 "AND kind = 'trade' AND qty > closed_qty", [account_id(lead, "elite"), *symbols], limit=1)
    return _fill(rows[0]) if rows else None


def orders(conn: sqlite3.Connection, accounts: Sequence[str], limit: int = 200) -> list[dict]:
    """Resting, stop and trailing orders with their status (market orders leave fills only)."""
    rows = conn.execute("SELECT seq, created_ms, account, symbol, lead, client_id, side, type, qty, price, trig, "
                        f"reduce_only, status FROM orders WHERE account IN ({_marks(accounts)}) "
                        "ORDER BY seq DESC LIMIT ?", [*accounts, limit])
    return [{"seq": seq, "at": format_time(at_ms), "account": account, "symbol": symbol, "lead": lead,
             "client_id": client_id, "side": "buy" if side > 0 else "sell", "type": kind, "qty": from_units(qty),
             "price": None if price is None else Decimal(price), "trigger": None if trig is None else Decimal(trig),
             "reduce_only": bool(reduce_only), "status": status}
            for seq, at_ms, account, symbol, lead, client_id, side, kind, qty, price, trig, reduce_only, status in rows]


def funding(conn: sqlite3.Connection, accounts: Sequence[str], *, since: int | None = None,
            until: int | None = None, limit: int | None = None, newest_first: bool = True) -> list[dict]:
    window, params = _window("at_ms", since, until)
    order = "DESC" if newest_first else "ASC"
    rows = conn.execute(f"SELECT seq, at_ms, account, symbol, lead, qty, mark, rate, amount FROM funding "
                        f"WHERE account IN ({_marks(accounts)}){window} ORDER BY seq {order}{_limit(limit)}",
                        [*accounts, *params])
    return [{"seq": seq, "at_ms": at_ms, "at": format_time(at_ms), "account": account, "symbol": symbol,
             "lead": lead, "qty": from_units(qty), "mark": Decimal(mark), "rate": Decimal(rate),
             "amount": from_units(amount)}
            for seq, at_ms, account, symbol, lead, qty, mark, rate, amount in rows]


def liquidations(conn: sqlite3.Connection, user: str, kinds: Sequence[str], *, since: int | None = None,
                 until: int | None = None, limit: int | None = None, newest_first: bool = True) -> list[dict]:
    """Liquidations (partial, full) and auto-deleveraging of the user's accounts of the given kinds."""
    window, params = _window("at_ms", since, until)
    order = "DESC" if newest_first else "ASC"
    rows = conn.execute(f"SELECT seq, at_ms, account, symbol, lead, side, qty, price, fee, kind, insurance "
                        f"FROM liquidations WHERE user = ? AND account IN ({_marks(kinds)}){window} "
                        f"ORDER BY seq {order}{_limit(limit)}", [user, *kinds, *params])
    return [{"seq": seq, "at_ms": at_ms, "at": format_time(at_ms), "account": account_id(user, account),
             "symbol": symbol, "lead": lead, "side": "long" if side > 0 else "short", "qty": from_units(qty),
             "price": from_units(price), "fee": from_units(fee), "kind": kind, "insurance": from_units(insurance)}
            for seq, at_ms, account, symbol, lead, side, qty, price, fee, kind, insurance in rows]


# --- the ledger ------------------------------------------------------------------------------------


def ledger(conn: sqlite3.Connection, wallets: Sequence[str], *, since: int | None = None, until: int | None = None,
           limit: int | None = None, newest_first: bool = True) -> list[dict]:
    """Entries that move money into or out of any of `wallets`."""
    window, params = _window("at_ms", since, until)
    marks = _marks(wallets)
    rows = _walk(conn, "ledger", "id", "id, at_ms, type, debit, credit, amount, ref",
                 [f"{{bucket}} AND {side} IN ({marks}){window}" for side in ("debit", "credit")],
                 [*wallets, *params], newest_first=newest_first, limit=limit)
    return [{"id": entry, "at_ms": at_ms, "at": format_time(at_ms), "type": kind, "source": debit,
             "target": credit, "amount": from_units(amount), "ref": ref}
            for entry, at_ms, kind, debit, credit, amount, ref in rows]


def balance_before(conn: sqlite3.Connection, wallet: str, before_ms: int) -> Decimal:
    """A wallet's balance just before `before_ms`: every balance starts at zero and moves only by entries."""
    units = 0
    for span in _buckets(conn, "ledger", "id"):
        units += conn.execute(f"SELECT (SELECT COALESCE(SUM(amount), 0) FROM ledger WHERE {span} AND credit = ? "
                              f"AND at_ms < ?) - (SELECT COALESCE(SUM(amount), 0) FROM ledger WHERE {span} "
                              "AND debit = ? AND at_ms < ?)", (wallet, before_ms, wallet, before_ms)).fetchone()[0]
    return from_units(units)


# --- copy trading records ------------------------------------------------------------------------


def copy_orders(conn: sqlite3.Connection, copier: str, limit: int = 100) -> list[dict]:
    """The per-order view, open and closed, newest first."""
    rows = _walk(conn, "copy_orders", "seq", "seq, lead, lead_order, symbol, side, qty, open_qty, entry_price, fees, "
                 "realized_pnl, status, opened_ms, closed_ms", "{bucket} AND copier = ?", [copier], limit=limit)
    return [{"seq": seq, "lead": lead, "lead_order": lead_order, "symbol": symbol,
             "side": "long" if side > 0 else "short", "qty": from_units(qty), "open_qty": from_units(open_qty),
             "entry_price": from_units(entry), "fees": from_units(fees), "realized_pnl": from_units(pnl),
             "net_pnl": from_units(pnl - fees), "status": status, "opened": format_time(opened_ms),
             "closed": None if closed_ms is None else format_time(closed_ms)}
            for seq, lead, lead_order, symbol, side, qty, open_qty, entry, fees, pnl, status, opened_ms, closed_ms
            in rows]


def _records(conn: sqlite3.Connection, sql: str, params: Sequence) -> Iterator[dict]:
    """Rows as dicts through sqlite-utils on the desk's own connection (imported on first use: the
    workstation's start-up does not pay for it)."""
    import sqlite_utils
    return sqlite_utils.Database(conn).query(sql, params)


def outcomes(conn: sqlite3.Connection, copier: str, kind: str, limit: int = 100) -> list[dict]:
    """One copier's outcomes of a kind (open, close, margin_sync), newest first."""
    names = ("seq", "at_ms", "lead", "lead_order", "symbol", "status", "code", "message", "qty", "price", "delta")
    rows = [dict(zip(names, row)) for row in _walk(conn, "outcomes", "seq", ", ".join(names),
                                                   "{bucket} AND copier = ? AND kind = ?", [copier, kind], limit=limit)]
    return [{**row, "at": format_time(row["at_ms"]), "qty": _units(row["qty"]), "price": _units(row["price"]),
             "delta": _units(row["delta"])} for row in rows]


def settlements(conn: sqlite3.Connection, user: str, limit: int = 100) -> list[dict]:
    """Weekly and unfollow settlements where the user is the copier or the lead, newest first."""
    rows = _records(conn, "SELECT seq, at_ms, copier, lead, mode, net_result, compensation, profit_shared, "
                          "rebate_released, reason FROM settlements WHERE copier = ? OR lead = ? "
                          "ORDER BY seq DESC LIMIT ?", (user, user, limit))
    money = ("net_result", "compensation", "profit_shared", "rebate_released")
    return [{**row, "at": format_time(row["at_ms"]), **{name: from_units(row[name]) for name in money}}
            for row in rows]


def notifications(conn: sqlite3.Connection, user: str, limit: int = 300) -> list[dict]:
    rows = _records(conn, "SELECT seq, kind, text, at_ms FROM notifications WHERE user = ? ORDER BY seq DESC LIMIT ?",
                    (user, limit))
    return [{**row, "at": format_time(row["at_ms"])} for row in rows]


# --- statements -----------------------------------------------------------------------------------


def statement(conn: sqlite3.Connection, user: str, kind: str, since: int, until: int) -> dict:
    """One wallet's statement for [since, until): ledger entries with a running balance, the fills, funding
    and liquidations behind them, and totals that reconcile: opening + in − out = closing, where the
    closing balance is summed from the ledger independently of the entries listed."""
    wallet = account_id(user, kind)
    opening = balance_before(conn, wallet, since)
    entries, running = [], opening
    total_in = total_out = ZERO
    by_type: dict[str, Decimal] = {}
    for entry in ledger(conn, [wallet], since=since, until=until, newest_first=False):
        signed = entry["amount"] if entry["target"] == wallet else -entry["amount"]
        if signed > 0:
            total_in += signed
        else:
            total_out -= signed
        running += signed
        by_type[entry["type"]] = by_type.get(entry["type"], ZERO) + signed
        counterparty = entry["source"] if signed > 0 else entry["target"]
        entries.append({**entry, "amount": signed, "counterparty": counterparty, "balance": running})
    closing = balance_before(conn, wallet, until)
    trades = fills(conn, [wallet], since=since, until=until, newest_first=False)
    payments = funding(conn, [wallet], since=since, until=until, newest_first=False)
    cuts = liquidations(conn, user, [kind], since=since, until=until, newest_first=False)
    return {
        "user": user, "account": kind, "wallet": wallet, "from": format_time(since), "to": format_time(until),
        "entries": entries, "fills": trades, "funding": payments, "liquidations": cuts,
        "totals": {
            "opening_balance": opening, "total_in": total_in, "total_out": total_out,
            "net_change": total_in - total_out, "closing_balance": closing,
            "reconciled": opening + total_in - total_out == closing,
            "by_type": {t.value: by_type[t.value] for t in EntryType if t.value in by_type},
            "entries": len(entries), "fills": len(trades),
            "trading_fees": sum((f["fee"] for f in trades), ZERO),
            "realized_pnl": sum((f["realized_pnl"] for f in trades), ZERO),
            "funding": sum((p["amount"] for p in payments), ZERO),
            "liquidations": len(cuts), "liquidation_fees": sum((c["fee"] for c in cuts), ZERO),
        },
    }
