import json
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from storage.desk import Desk, StorageError, replay_journal
from storage.schema import LATEST, schema_version

LINES = [
    {"do": "user", "name": "alice"},
    {"do": "deposit", "user": "alice", "amount": "5000", "id": "dep-1"},
    {"do": "transfer", "user": "alice", "from": "funding", "to": "copy", "amount": "1200.5"},
    {"do": "transfer", "user": "alice", "from": "copy", "to": "futures", "amount": "200", "at": "2026-01-06T00:00:00Z"},
    {"do": "withdraw", "user": "alice", "amount": "99999", "at": "2026-01-07T00:00:00Z"},  # rejected, time passes
]


def test_same_idempotency_id_twice_changes_nothing(desk):
    desk.execute(LINES[0])
    first = desk.execute(LINES[1])
    state = desk.state_hash()
    again = desk.execute(LINES[1])
    assert first.accepted and again.accepted and again.duplicate
    assert desk.state_hash() == state
    assert desk.exchange.ledger.balance("alice:funding") == 5000
    assert desk.store.conn.execute("SELECT count(*) FROM journal WHERE idem_id = 'dep-1'").fetchone()[0] == 1


def test_idempotency_survives_a_restart(tmp_path):
    with Desk.open(tmp_path / "d.db") as desk:
        for line in LINES[:2]:
            desk.execute(line)
    with Desk.open(tmp_path / "d.db") as desk:
        assert desk.execute(LINES[1]).duplicate
        assert desk.exchange.ledger.balance("alice:funding") == 5000


def test_reopening_reproduces_the_same_state(tmp_path):
    with Desk.open(tmp_path / "d.db") as desk:
        outcomes = [desk.execute(line) for line in LINES]
        assert [o.accepted for o in outcomes] == [True, True, True, True, False]
        state = desk.state_hash()
        assert desk.exchange.now_ms == 1767744000000  # the rejected line's `at` still moved time
    with Desk.open(tmp_path / "d.db") as desk:
        assert desk.state_hash() == state


def test_money_is_stored_as_integer_units_and_sums_exactly_in_sql(desk):
    for line in LINES[:3]:
        desk.execute(line)
    conn = desk.store.conn
    assert conn.execute("SELECT balance FROM wallets WHERE account = 'alice:copy'").fetchone()[0] == 120050000000
    assert conn.execute("SELECT typeof(balance) FROM wallets LIMIT 1").fetchone()[0] == "integer"
    assert conn.execute("SELECT sum(balance) FROM wallets").fetchone()[0] == 0


def test_journal_replay_into_a_fresh_database_gives_the_same_state(tmp_path):
    with Desk.open(tmp_path / "a.db") as desk:
        for line in LINES:
            desk.execute(line)
        copy = replay_journal(desk.store, tmp_path / "b.db")
        assert copy.state_hash() == desk.state_hash()
        copy.close()


def test_a_second_process_gets_a_clear_message(tmp_path):
    path = tmp_path / "busy.db"
    with Desk.open(path):
        script = textwrap.dedent(f"""
            import sys
            from app.cli import main
            sys.exit(main(["--db", {str(path)!r}, "status"]))
        """)
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 3
    assert "already open in another Copydesk process" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_failed_commit_leaves_memory_as_the_database(tmp_path):
    with Desk.open(tmp_path / "d.db") as desk:
        desk.execute(LINES[0])
        desk.execute(LINES[1])
        state = desk.state_hash()
        desk.store.conn.execute("PRAGMA query_only = ON")  # every write now fails
        outcome = desk.execute(LINES[2])
        assert not outcome.accepted and outcome.code.startswith("STORAGE_")
        desk.store.conn.execute("PRAGMA query_only = OFF")
        assert desk.state_hash() == state
        assert json.loads(json.dumps(desk.execute(LINES[2]).accepted))


def test_every_commit_is_fsynced_unless_normal_is_asked_for(tmp_path, monkeypatch):
    monkeypatch.delenv("COPYDESK_SYNCHRONOUS", raising=False)
    with Desk.open(tmp_path / "full.db") as desk:
        assert desk.store.conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    monkeypatch.setenv("COPYDESK_SYNCHRONOUS", " normal ")
    with Desk.open(tmp_path / "normal.db") as desk:
        assert desk.store.conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    monkeypatch.setenv("COPYDESK_SYNCHRONOUS", "OFF")
    with pytest.raises(StorageError) as refused:
        Desk.open(tmp_path / "off.db")
    assert refused.value.code == "BAD_SETTING"
    assert refused.value.message.startswith("COPYDESK_SYNCHRONOUS must be FULL or NORMAL, not 'OFF'")
    assert not (tmp_path / "off.db").exists()  # refused before the database was made


def test_an_older_database_is_upgraded_after_saying_so_once(tmp_path):
    """Upgrading rebuilds indexes (seconds a million rows): whoever opened the desk hears of it first. A new
    database and one already at the latest schema say nothing."""
    path = tmp_path / "old.db"
    heard: list[str] = []
    with Desk.open(path, notice=heard.append) as desk:
        assert desk.execute({"do": "user", "name": "ann"}).accepted
        state = desk.state_hash()
    assert heard == []
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {LATEST - 1}")  # the last migration rebuilds what it made: rerunnable
    conn.close()
    with Desk.open(path, notice=heard.append) as desk:
        assert schema_version(desk.store.conn) == LATEST and desk.state_hash() == state
    assert heard == [f"upgrading the database from schema {LATEST - 1} to {LATEST}, once; a large desk takes a "
                     "minute or so"]
    with Desk.open(path, notice=heard.append):
        pass
    assert len(heard) == 1


def test_a_reopened_desk_holds_the_same_liquidation_prices(tmp_path):
    """A start loads copies alike as shared figures and solves each distinct isolated price once: a copy
    whose margin was added to keeps its own price."""
    path = tmp_path / "alike.db"
    lines = [{"do": "price", "symbol": "BTCUSDT", "mark": "50000"},
             {"do": "user", "name": "alice"}, {"do": "deposit", "user": "alice", "amount": "100000"},
             {"do": "become_elite", "user": "alice", "symbols": ["BTCUSDT"]},
             {"do": "transfer", "user": "alice", "from": "funding", "to": "elite", "amount": "100000"}]
    for name in ("c0", "c1", "c2"):
        lines += [{"do": "user", "name": name}, {"do": "deposit", "user": name, "amount": "5000"},
                  {"do": "transfer", "user": name, "from": "funding", "to": "copy", "amount": "5000"},
                  {"do": "follow", "user": name, "lead": "alice", "mode": "ratio", "ratio": "0.1"}]
    lines += [{"do": "order", "user": "alice", "account": "elite", "symbol": "BTCUSDT", "side": "buy", "qty": "1",
               "leverage": 10, "margin_mode": "isolated"},
              {"do": "margin", "user": "c0", "account": "copy", "symbol": "BTCUSDT", "lead": "alice", "delta": "3"}]

    def prices(desk):
        return {p.account: p.liquidation_price for a in desk.exchange.accounts.values() for p in a.positions.values()}

    with Desk.open(path) as desk:
        for line in lines:
            assert desk.execute(line).accepted, line
        before = prices(desk)
    assert before["c0:copy"] < before["c1:copy"] == before["c2:copy"]  # more margin: further away
    with Desk.open(path) as desk:
        assert prices(desk) == before
