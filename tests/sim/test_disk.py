"""Disk trouble: a full disk (PRAGMA max_page_count, and a real write limit in a subprocess) and a
read-only database give a clear storage error, leave memory as the database is, and never corrupt the
file: integrity_check passes and reopening gives the last committed state."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import storage.store
from app.soak import audit_database
from storage.desk import Desk, StorageError

LEAD_WORLD = [
    {"do": "config", "slippage_bps": "0", "impact_bps": "0"},
    {"do": "price", "symbol": "BTCUSDT", "mark": "50000"},
    {"do": "user", "name": "lead"},
    {"do": "deposit", "user": "lead", "amount": "100000"},
    {"do": "become_elite", "user": "lead", "symbols": ["BTCUSDT"], "capacity": 5000},
    {"do": "transfer", "user": "lead", "from": "funding", "to": "elite", "amount": "50000"},
]
COPIERS = 400


def _copiers(count: int) -> list[dict]:
    lines = []
    for index in range(count):
        name = f"c{index:04d}"
        lines += [{"do": "user", "name": name}, {"do": "deposit", "user": name, "amount": "500"},
                  {"do": "transfer", "user": name, "from": "funding", "to": "copy", "amount": "500"},
                  {"do": "follow", "user": name, "lead": "lead", "mode": "fixed", "amount": "10"}]
    return lines


LEAD_ORDER = {"do": "order", "user": "lead", "account": "elite", "symbol": "BTCUSDT", "side": "buy", "qty": "0.5",
              "leverage": 5}


def _integrity(path: Path) -> None:
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        audit_database(conn)
    finally:
        conn.close()


def _reopens_as_committed(path: Path, committed: str) -> None:
    """After the trouble: the file passes integrity_check and the audit, and opens at the last committed state."""
    _integrity(path)
    with Desk.open(path) as desk:
        assert desk.state_hash() == committed


def _page_limit(desk: Desk, spare: int) -> None:
    """Allow only `spare` more pages than the file has now: the next big write finds the disk full."""
    pages = desk.store.conn.execute("PRAGMA page_count").fetchone()[0]
    desk.store.conn.execute(f"PRAGMA max_page_count = {pages + spare}")


def test_a_full_disk_refuses_a_whole_fan_out_and_corrupts_nothing(tmp_path):
    path = tmp_path / "full.db"
    with Desk.open(path) as desk:
        assert all(o.accepted for o in desk.execute_many(LEAD_WORLD + _copiers(COPIERS)))
        committed = desk.state_hash()
        _page_limit(desk, 2)
        outcome = desk.execute(LEAD_ORDER)  # a lead order with 400 copier fills, outcomes and ledger entries
        assert not outcome.accepted and outcome.code == "STORAGE_FULL", (outcome.code, outcome.message)
        assert "full" in outcome.message and "nothing was saved" in outcome.message
        assert desk.state_hash() == committed  # memory was rebuilt from the file
        # Seeding many lines at once fails whole, too.
        refused = desk.execute_many(_copiers(1000)[-400:])
        assert {o.code for o in refused} == {"STORAGE_FULL"}
        assert desk.state_hash() == committed
        # Space comes back: the same order goes through, fanned out to every copier.
        desk.store.conn.execute("PRAGMA max_page_count = 1073741823")
        again = desk.execute(LEAD_ORDER)
        assert again.accepted, again.message
        fanned = [e for e in again.events if isinstance(e, tuple) and e[0] == "lead_order"]
        assert len(fanned) == 1 and len(fanned[0][4]) == COPIERS
        committed = desk.state_hash()
    _integrity(path)
    with Desk.open(path) as desk:
        assert desk.state_hash() == committed
        outcomes = desk.store.conn.execute("SELECT count(*) FROM outcomes").fetchone()[0]
        assert outcomes == COPIERS  # the refused fan-out left nothing behind


def test_a_full_disk_many_times_over_keeps_the_file_whole(tmp_path):
    """Squeeze the file a page at a time while the lead trades: every refusal is clean."""
    path = tmp_path / "squeeze.db"
    refusals = 0
    with Desk.open(path) as desk:
        assert all(o.accepted for o in desk.execute_many(LEAD_WORLD + _copiers(60)))
        for step in range(40):
            committed = desk.state_hash()
            _page_limit(desk, step % 4)
            line = {**LEAD_ORDER, "side": "buy" if step % 3 else "sell", "qty": "0.1"}
            outcome = desk.execute(line)
            if not outcome.accepted:
                assert outcome.code == "STORAGE_FULL", outcome.message
                assert desk.state_hash() == committed
                refusals += 1
            desk.store.conn.execute("PRAGMA max_page_count = 1073741823")
        committed = desk.state_hash()
    assert refusals > 0
    _reopens_as_committed(path, committed)


def test_a_real_write_limit_in_another_process(tmp_path):
    """RLIMIT_FSIZE makes the kernel refuse to grow the file, as a full disk does: the process reports
    a storage error and carries on; the file is intact and holds exactly what it said it committed."""
    path = tmp_path / "limited.db"
    with Desk.open(path) as desk:
        assert all(o.accepted for o in desk.execute_many(LEAD_WORLD + _copiers(50)))
    script = textwrap.dedent(f"""
        import resource, signal, sys
        sys.path.insert(0, {str(Path.cwd())!r})
        from storage.desk import Desk
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write instead of a killed process
        desk = Desk.open({str(path)!r})
        size = sum(__import__('os').path.getsize(p) for p in ({str(path)!r}, {str(path) + '-wal'!r})
                   if __import__('os').path.exists(p))
        resource.setrlimit(resource.RLIMIT_FSIZE, (size + 64 * 1024, size + 64 * 1024))
        codes = []
        for n in range(60):
            outcome = desk.execute({{"do": "order", "user": "lead", "account": "elite", "symbol": "BTCUSDT",
                                     "side": "buy" if n % 2 else "sell", "qty": "0.1", "leverage": 5}})
            codes.append("ok" if outcome.accepted else outcome.code)
            if outcome.accepted:
                print("committed", desk.state_hash(), flush=True)
            else:
                print("refused", outcome.code, outcome.message, flush=True)
        desk.close()
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    refused = [line for line in done.stdout.splitlines() if line.startswith("refused")]
    committed = [line.split()[1] for line in done.stdout.splitlines() if line.startswith("committed")]
    assert refused and committed, done.stdout
    print(f"\nwrite limit: {len(committed)} committed, then {refused[0]}")
    assert all(line.split()[1].startswith("STORAGE_") and "nothing was saved" in line for line in refused)
    _reopens_as_committed(path, committed[-1])


def _read_only_connect(monkeypatch):
    """Open databases read-only, as a file without write permission is (chmod does not bind root)."""
    real = sqlite3.connect

    def connect(database, *args, **kwargs):
        return real(f"file:{database}?mode=ro", *args, uri=True, **kwargs)
    monkeypatch.setattr(storage.store.sqlite3, "connect", connect)


def test_a_read_only_database_refuses_writes_clearly(tmp_path, monkeypatch):
    path = tmp_path / "ro.db"
    with Desk.open(path) as desk:
        assert all(o.accepted for o in desk.execute_many(LEAD_WORLD + _copiers(20)))
        committed = desk.state_hash()
    with monkeypatch.context() as patch:
        _read_only_connect(patch)
        with Desk.open(path) as desk:
            assert desk.state_hash() == committed  # reading works
            for line in (LEAD_ORDER, {"do": "deposit", "user": "lead", "amount": "1"},
                         {"do": "advance", "by": "8h"}):
                outcome = desk.execute(line)
                assert not outcome.accepted and outcome.code == "STORAGE_READ_ONLY", (line, outcome.message)
                assert "read-only" in outcome.message
                assert desk.state_hash() == committed
        # A new database on a read-only file cannot even be started: a clear error, not a traceback.
        with pytest.raises(StorageError) as refused:
            Desk.open(tmp_path / "new.db")
        assert refused.value.code in ("STORAGE_READ_ONLY", "STORAGE_ERROR"), refused.value.message
    _reopens_as_committed(path, committed)


def test_query_only_and_chmod_give_the_read_only_code(tmp_path):
    path = tmp_path / "q.db"
    with Desk.open(path) as desk:
        desk.execute_many(LEAD_WORLD)
        committed = desk.state_hash()
        desk.store.conn.execute("PRAGMA query_only = ON")
        outcome = desk.execute({"do": "deposit", "user": "lead", "amount": "5"})
        assert outcome.code == "STORAGE_READ_ONLY" and desk.state_hash() == committed
    if os.geteuid() != 0:  # root ignores file permissions
        os.chmod(path, 0o444)
        try:
            with Desk.open(path) as desk:
                outcome = desk.execute({"do": "deposit", "user": "lead", "amount": "5"})
                assert outcome.code == "STORAGE_READ_ONLY" and desk.state_hash() == committed
        finally:
            os.chmod(path, 0o644)
    _reopens_as_committed(path, committed)


def test_the_cli_reports_a_read_only_or_unusable_file(tmp_path):
    path = tmp_path / "cli.db"
    with Desk.open(path) as desk:
        desk.execute_many(LEAD_WORLD)
    script = textwrap.dedent(f"""
        import sqlite3, sys
        import storage.store
        real = sqlite3.connect
        storage.store.sqlite3.connect = lambda db, *a, **k: real(f"file:{{db}}?mode=ro", *a, uri=True, **k)
        from app.cli import main
        sys.exit(main(["--db", {str(tmp_path / 'fresh.db')!r}, "status"]))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 3 and done.stderr.startswith("copydesk: ") and "Traceback" not in done.stderr, done.stderr
