"""Large batches write their shared columns as literals, many rows per statement: the rows must read back
exactly as bound ones, one at a time."""
import sqlite3
from decimal import Decimal

import pytest

from engine.changes import Changes
from engine.copytrading.records import Outcome
from engine.ledger import LedgerEntry, Wallet
from engine.positions import Position
from storage.batch import (MANY_ROWS, MAX_ROWS_PER_STATEMENT, literal, rows_per_statement, split_shared,
                           split_shared_flat)
from storage.store import StorageError, Store, _statement


def test_literals_store_what_binding_would_and_refuse_the_rest():
    assert literal(None) == "NULL"
    assert literal(-42) == "-42"
    assert literal(2**63 - 1) == "9223372036854775807"
    assert literal(2**63) is None          # as a literal it would become a REAL; bound, sqlite3 refuses it
    assert literal(True) is None           # a bool is bound, as before
    assert literal("it's") == "'it''s'"
    assert literal("a\0b") is None        # sqlite3 refuses a statement holding a NUL
    assert literal(1.5) is None and literal(b"x") is None


def test_small_batches_and_varying_columns_are_bound():
    rows = [(i, "BTCUSDT", None) for i in range(MANY_ROWS - 1)]
    assert split_shared(rows) == ({}, rows)
    rows = [(i, "BTCUSDT" if i else "ETHUSDT", None) for i in range(MANY_ROWS)]
    shared, cut = split_shared(rows)
    assert shared == {2: "NULL"}            # column 1 differs in its first row only: still bound
    assert cut[0] == (0, "ETHUSDT") and cut[5] == (5, "BTCUSDT")
    rows = [(1, 7 if i else 7.0, 0 if i else False) for i in range(MANY_ROWS)]
    assert split_shared(rows)[0] == {0: "1"}  # 7.0 binds as a REAL and False as 0: equal, yet bound as they are


def test_a_flat_split_lays_out_the_cut_rows_one_after_another():
    rows = [(i, "BTCUSDT", None, f"c{i}") for i in range(MANY_ROWS + 3)]
    shared, flat, width = split_shared_flat(rows)
    assert (shared, width) == ({1: "'BTCUSDT'", 2: "NULL"}, 2)
    assert flat == [value for i in range(MANY_ROWS + 3) for value in (i, f"c{i}")]
    assert split_shared_flat(rows[:3]) == ({}, [value for row in rows[:3] for value in row], 4)
    assert split_shared_flat([(7, "x")] * MANY_ROWS) == ({0: "7", 1: "'x'"}, [], 0)


def _outcomes(count: int, message: str) -> list[Outcome]:
    return [Outcome(seq, 1_700_000_000_000, "o'brien", "L7", f"copier{seq}", "BTCUSDT", "open", "failed",
                    "INSUFFICIENT_BALANCE", message, None, None, None) for seq in range(1, count + 1)]


@pytest.mark.parametrize("count", [3, 500])
def test_a_batch_reads_back_exactly_as_one_bound_row_at_a_time(tmp_path, count):
    message = "Insufficient available balance: 120.50 USDT needed, 87.10 available in Copy; it's 'quoted'"
    records = _outcomes(count, message)
    store = Store(tmp_path / "batch.db")
    changes = Changes()
    for record in records:
        changes.append(record)
    store.commit(changes, {}, None)
    stored = store.conn.execute(f"SELECT {', '.join(Outcome.COLUMNS)} FROM outcomes ORDER BY seq").fetchall()
    plain = sqlite3.connect(":memory:")
    plain.execute(f"CREATE TABLE outcomes ({', '.join(Outcome.COLUMNS)})")
    plain.executemany(f"INSERT INTO outcomes VALUES ({', '.join('?' * len(Outcome.COLUMNS))})",
                      [r.row() for r in records])
    assert stored == plain.execute("SELECT * FROM outcomes ORDER BY seq").fetchall()
    types = store.conn.execute("SELECT DISTINCT typeof(at_ms), typeof(lead), typeof(qty) FROM outcomes").fetchall()
    assert types == [("integer", "text", "null")]
    store.close()


def test_a_large_append_is_written_many_rows_per_statement(tmp_path):
    assert rows_per_statement(2) == MAX_ROWS_PER_STATEMENT == 32
    assert rows_per_statement(40) == 24    # 999 parameters at most: 24 rows of 40
    store = Store(tmp_path / "many.db")
    statements = []
    store.conn.set_trace_callback(
        lambda sql: statements.append(sql) if sql.startswith("INSERT OR FAIL INTO outcomes") else None)
    changes = Changes()
    for record in _outcomes(1000, "x"):     # seq and copier vary: two bound columns a row
        changes.append(record)
    store.commit(changes, {}, None)
    assert [sql.count("), (") + 1 for sql in statements] == [32] * 31 + [1] * 8  # the last 8 one by one
    assert store.conn.execute("SELECT count(*), sum(seq), count(DISTINCT copier) FROM outcomes").fetchone() == (
        1000, 500500, 1000)
    store.close()


def test_a_large_append_of_rows_alike_in_every_column_writes_each(tmp_path):
    store = Store(tmp_path / "alike.db")
    store.conn.execute("DROP TABLE outcomes")  # no key: rows alike in every column are a table's rows still
    store.conn.execute(f"CREATE TABLE outcomes ({', '.join(Outcome.COLUMNS)})")
    changes = Changes()
    for _ in range(MANY_ROWS):
        changes.append(Outcome(1, 1, "lead", "L1", "c1", "BTCUSDT", "open", "filled", None, None, None, None, None))
    store.commit(changes, {}, None)
    assert store.conn.execute("SELECT count(*), count(DISTINCT seq) FROM outcomes").fetchone() == (MANY_ROWS, 1)
    store.close()


def test_a_row_refused_mid_statement_leaves_nothing_of_the_commit(tmp_path):
    """`INSERT OR FAIL` keeps what a failing statement wrote before the bad row; the commit must not."""
    store = Store(tmp_path / "refused.db")
    changes = Changes()
    changes.save(Wallet("kept:copy", Decimal("5")))
    store.commit(changes, {}, None)
    changes = Changes()
    changes.save(Wallet("kept:copy", Decimal("7")))
    for n in range(1, 601):  # row 400 breaks CHECK (amount > 0): the 13th statement, after 15 good rows
        changes.append(LedgerEntry(n, 1_700_000_000_000, "trading_fee", f"c{n}:copy", "fees",
                                   Decimal(0 if n == 400 else "0.5"), "copy:lead"))
    with pytest.raises(StorageError) as refused:
        store.commit(changes, {}, None)
    assert refused.value.code == "STORAGE_ERROR" and "CHECK constraint failed" in refused.value.message
    assert store.conn.execute("SELECT count(*) FROM ledger").fetchone() == (0,)
    assert store.conn.execute("SELECT balance FROM wallets").fetchall() == [(500_000_000,)]
    store.close()


def test_a_shared_upsert_and_delete_touch_only_their_rows(tmp_path):
    store = Store(tmp_path / "positions.db")
    positions = [Position(f"c{i}:copy", "BTCUSDT", "lead", 1, Decimal("0.02"), Decimal("50000"), 10, "isolated",
                          Decimal("100"), 1) for i in range(300)]
    changes = Changes()
    for position in positions:
        changes.save(position)
    store.commit(changes, {}, None)
    for position in positions[:100]:
        position.qty, position.tp = Decimal("0.01"), Decimal("60000")
    changes = Changes()
    for position in positions[:100]:
        changes.save(position)
    for position in positions[200:]:
        changes.delete(position)
    assert "'BTCUSDT'" in _statement("delete", Position, split_shared(
        [key for key in changes.deleted[Position]])[0])
    store.commit(changes, {}, None)
    rows = store.conn.execute("SELECT qty, tp, count(*) FROM positions GROUP BY qty, tp ORDER BY qty").fetchall()
    assert rows == [(1_000_000, 6_000_000_000_000, 100), (2_000_000, None, 100)]
    store.close()


def _position(account: str, qty: str) -> Position:
    return Position(account, "BTCUSDT", "lead", 1, Decimal(qty), Decimal("50000"), 10, "isolated", Decimal("100"), 1)


def test_new_entities_are_inserted_and_a_key_made_again_updates_its_row(tmp_path):
    store = Store(tmp_path / "new.db")
    changes = Changes()
    for i in range(100):
        changes.insert(_position(f"c{i}:copy", "0.01"))
    assert changes.new[Position] == {(f"c{i}:copy", "BTCUSDT", "lead") for i in range(100)}
    store.commit(changes, {}, None)
    changes = Changes()
    closed = _position("c0:copy", "0.01")
    changes.delete(closed)              # closed and reopened in one command: the row is still there
    changes.insert(_position("c0:copy", "0.03"))
    passing = _position("x:copy", "0.05")
    changes.insert(passing)             # made and gone in one write set: never written
    changes.delete(passing)
    changes.insert(_position("c100:copy", "0.02"))
    changes.save(_position("c1:copy", "0.04"))
    assert changes.new[Position] == {("c100:copy", "BTCUSDT", "lead")}
    statements = []
    store.conn.set_trace_callback(statements.append)
    store.commit(changes, {}, None)
    assert sum(sql.startswith("INSERT OR FAIL INTO positions") and "ON CONFLICT" not in sql
               for sql in statements) == 1  # c100 alone is a plain insert
    rows = dict(store.conn.execute("SELECT account, qty FROM positions").fetchall())
    assert len(rows) == 101 and "x:copy" not in rows
    assert (rows["c0:copy"], rows["c1:copy"], rows["c100:copy"], rows["c2:copy"]) == (
        3_000_000, 4_000_000, 2_000_000, 1_000_000)
    changes.clear()
    assert not changes.new
    store.close()
