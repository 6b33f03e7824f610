"""History reads walk the bucketed per-account indexes (storage.schema.HISTORY_BUCKET): across bucket
boundaries they must return exactly what one plain query over the whole table returns, and every read
must search an index, never scan a history table."""
import re
from decimal import Decimal

import pytest

from storage import history
from storage.schema import HISTORY_BUCKET
from storage.store import Store

# Rows at both edges of buckets 0 to 3, and a gap (bucket 2 holds none of them).
SEQS = [1, 2, 3, HISTORY_BUCKET - 1, HISTORY_BUCKET, HISTORY_BUCKET + 1, 3 * HISTORY_BUCKET - 1, 3 * HISTORY_BUCKET,
        3 * HISTORY_BUCKET + 7, 4 * HISTORY_BUCKET - 1]
WALLETS = ["ann:futures", "bob:futures", "ann:copy"]


def _at(seq: int) -> int:
    return 1_700_000_000_000 + seq * 1000


@pytest.fixture
def conn(tmp_path):
    store = Store(tmp_path / "history.db")
    conn = store.conn
    conn.execute("BEGIN")
    for n, seq in enumerate(SEQS):
        wallet, other = WALLETS[n % 3], WALLETS[(n + 1) % 3]
        conn.execute("INSERT INTO fills (seq, at_ms, account, symbol, lead, side, qty, price, fee, realized_pnl, maker, "
                     "kind, order_ref, opened_ms, closed_qty) VALUES (?, ?, ?, 'BTCUSDT', '', 1, ?, 5000000000000, 1, "
                     "0, 0, 'trade', 'o', NULL, ?)", (seq, _at(seq), wallet, 2_000_000 + n, n % 2 * 1_000_000))
        conn.execute("INSERT INTO ledger (id, at_ms, type, debit, credit, amount, ref) VALUES (?, ?, 'transfer', ?, ?, "
                     "?, 'r')", (seq, _at(seq), other, wallet, 100_000_000 * (n + 1)))
        copier = wallet.split(":")[0]
        conn.execute("INSERT INTO outcomes (seq, at_ms, lead, lead_order, copier, symbol, kind, status, qty, price) "
                     "VALUES (?, ?, 'lena', ?, ?, 'BTCUSDT', ?, 'filled', 1000, 5000000000000)",
                     (seq, _at(seq), f"L{seq}", copier, "open" if n % 4 else "close"))
        conn.execute("INSERT INTO copy_orders (seq, copier, lead, lead_order, symbol, side, qty, open_qty, entry_price, "
                     "fees, realized_pnl, status, opened_ms) VALUES (?, ?, 'lena', ?, 'BTCUSDT', 1, 1000, 1000, "
                     "5000000000000, 0, 0, 'open', ?)", (seq, copier, f"L{seq}", _at(seq)))
    conn.execute("COMMIT")
    yield conn
    store.close()


def _seqs(rows, key="seq"):
    return [row[key] for row in rows]


def _plain(conn, sql, params=()):
    return [row[0] for row in conn.execute(sql, params)]


@pytest.mark.parametrize("limit", [None, 1, 2, 4, 7, 50])
@pytest.mark.parametrize("newest_first", [True, False])
def test_fills_and_ledger_read_across_buckets_as_one_query(conn, limit, newest_first):
    order = "DESC" if newest_first else "ASC"
    cap = "" if limit is None else f" LIMIT {limit}"
    since, until = _at(2), _at(3 * HISTORY_BUCKET + 7)
    for accounts in (["ann:futures"], ["ann:futures", "ann:copy"], ["nobody:futures"]):
        marks = ", ".join("?" * len(accounts))
        assert _seqs(history.fills(conn, accounts, limit=limit, newest_first=newest_first)) == _plain(
            conn, f"SELECT seq FROM fills WHERE account IN ({marks}) ORDER BY seq {order}{cap}", accounts)
        assert _seqs(history.fills(conn, accounts, since=since, until=until, limit=limit,
                                   newest_first=newest_first)) == _plain(
            conn, f"SELECT seq FROM fills WHERE account IN ({marks}) AND at_ms >= ? AND at_ms < ? "
                  f"ORDER BY seq {order}{cap}", [*accounts, since, until])
        assert _seqs(history.ledger(conn, accounts, since=since, limit=limit, newest_first=newest_first),
                     "id") == _plain(
            conn, f"SELECT id FROM ledger WHERE (debit IN ({marks}) OR credit IN ({marks})) AND at_ms >= ? "
                  f"ORDER BY id {order}{cap}", [*accounts, *accounts, since])


def test_copy_records_and_lead_fills_read_across_buckets(conn):
    assert _seqs(history.copy_orders(conn, "ann", limit=3)) == _plain(
        conn, "SELECT seq FROM copy_orders WHERE copier = 'ann' ORDER BY seq DESC LIMIT 3")
    assert len(history.copy_orders(conn, "ann")) == 7  # ann:futures and ann:copy both copy as "ann"
    for kind in ("open", "close"):
        assert _seqs(history.outcomes(conn, "ann", kind)) == _plain(
            conn, "SELECT seq FROM outcomes WHERE copier = 'ann' AND kind = ? ORDER BY seq DESC", (kind,))
    assert history.outcomes(conn, "bob", "open")[0]["qty"] == Decimal("0.00001")
    # ann's elite account has no fills; a lead's fills are read the same way.
    assert history.lead_fills(conn, "ann", ["BTCUSDT"]) == []
    conn.execute("UPDATE fills SET account = 'ann:elite' WHERE account = 'ann:futures'")
    assert _seqs(history.lead_fills(conn, "ann", ["BTCUSDT"], limit=3)) == [4 * HISTORY_BUCKET - 1,
                                                                           3 * HISTORY_BUCKET - 1, HISTORY_BUCKET - 1]
    opened = history.last_lead_open(conn, "ann", ["BTCUSDT"])  # the newest whose qty exceeds what it closed
    assert opened["seq"] == 4 * HISTORY_BUCKET - 1


def test_balances_sum_every_bucket(conn):
    for wallet in WALLETS:
        for before in (_at(1), _at(HISTORY_BUCKET), _at(3 * HISTORY_BUCKET + 1), _at(10 * HISTORY_BUCKET)):
            expected = conn.execute("SELECT COALESCE(SUM(CASE WHEN credit = ? THEN amount ELSE 0 END), 0) - "
                                    "COALESCE(SUM(CASE WHEN debit = ? THEN amount ELSE 0 END), 0) FROM ledger "
                                    "WHERE at_ms < ?", (wallet, wallet, before)).fetchone()[0]
            assert history.balance_before(conn, wallet, before) == Decimal(expected) / 10**8
    statement = history.statement(conn, "ann", "futures", _at(2), _at(3 * HISTORY_BUCKET + 8))
    assert statement["totals"]["reconciled"] and statement["totals"]["entries"] > 0


def test_every_history_read_searches_an_index(conn):
    statements = []
    conn.set_trace_callback(statements.append)
    history.fills(conn, ["ann:futures", "ann:copy"], since=_at(5), limit=3)
    history.ledger(conn, ["ann:futures"], until=_at(HISTORY_BUCKET * 3), newest_first=False)
    history.balance_before(conn, "bob:futures", _at(HISTORY_BUCKET))
    history.copy_orders(conn, "ann")
    history.outcomes(conn, "bob", "open")
    history.lead_fills(conn, "ann", ["BTCUSDT"])
    history.last_lead_open(conn, "ann", ["BTCUSDT"])
    conn.set_trace_callback(None)
    reads = [sql for sql in statements if sql.startswith("SELECT") and "max(" not in sql]
    assert len(reads) >= 15
    for sql in reads:
        searches = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}")
                    if row[3].startswith(("SEARCH", "SCAN")) and row[3] != "SCAN CONSTANT ROW"]
        # Each search narrows to its buckets and one account, not to buckets alone (all their rows).
        assert searches and all(re.search(r"USING INDEX \w+ \(<expr>=\? AND (account|debit|credit|copier)=\?",
                                          search) for search in searches), (sql, searches)


def test_a_quiet_account_is_read_in_spans_that_double(conn):
    """Rows spread over 41 buckets: one statement for the newest bucket, then spans of 2, 4, 8 and 16, then the
    10 left, so a copier whose orders are all in the oldest buckets is read in 6 statements, not 41, in order."""
    conn.execute("INSERT INTO copy_orders (seq, copier, lead, lead_order, symbol, side, qty, open_qty, entry_price, "
                 "fees, realized_pnl, status, opened_ms) VALUES (?, 'cy', 'lena', 'L', 'BTCUSDT', 1, 1000, 1000, "
                 "5000000000000, 0, 0, 'open', 0)", (40 * HISTORY_BUCKET + 5,))
    statements = []
    conn.set_trace_callback(statements.append)
    read = history.copy_orders(conn, "bob")
    conn.set_trace_callback(None)
    assert _seqs(read) == _plain(conn, "SELECT seq FROM copy_orders WHERE copier = 'bob' ORDER BY seq DESC")
    spans = [sql[sql.index(" IN (") + 5:sql.index(")")] for sql in statements if sql.startswith("SELECT seq,")]
    assert [len(span.split(", ")) for span in spans] == [1, 2, 4, 8, 16, 10]
    assert spans[0] == "40" and spans[1] == "39, 38" and spans[-1].endswith("1, 0")
    assert _seqs(history.copy_orders(conn, "cy", limit=1)) == [40 * HISTORY_BUCKET + 5]
