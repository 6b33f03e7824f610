"""Crash safety: a lead with thousands of copiers trades in a subprocess that is killed with SIGKILL
at a random moment. After the restart the file is intact, every committed command is still there,
each fan-out is all or nothing, and the state is what replaying the journal gives.

Three trials run in the normal suite; `pytest -m slow tests/sim/test_crash.py` runs forty.
"""
from __future__ import annotations

import json
import os
import random
import select
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.soak import audit_database
from storage.desk import Desk

HERE = Path(__file__).resolve().parent
WORKER = HERE / "fanout_world.py"
COPIERS = 2000
LEAD_ACCOUNT = "whale:elite"


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    """The seeded world, built once and copied for every trial."""
    path = tmp_path_factory.mktemp("fanout") / "world.db"
    done = subprocess.run([sys.executable, str(WORKER), "seed", str(path), str(COPIERS)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    Path(str(path) + ".lock").unlink(missing_ok=True)
    return path


def _copy(world: Path, target: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        source = Path(str(world) + suffix)
        if source.exists():
            shutil.copyfile(source, Path(str(target) + suffix))


def crash_once(world: Path, trial: Path, rng: random.Random) -> dict:
    """Run the trading worker on a copy of the world, SIGKILL it mid-flight, then check the file."""
    _copy(world, trial)
    with sqlite3.connect(world) as conn:
        world_seq = conn.execute("SELECT max(seq) FROM journal").fetchone()[0]
    process = subprocess.Popen([sys.executable, str(WORKER), "run", str(trial), str(rng.randrange(1 << 30))],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    printed: list[int] = []
    try:
        ready, _, _ = select.select([process.stdout], [], [], 60)
        assert ready and process.stdout.readline().strip() == "ready", process.stderr.read()
        # Wait for a few commits, then kill at a random moment inside the next fan-out (or between two).
        wanted = rng.randint(0, 5)
        deadline = time.monotonic() + 30
        while len(printed) < wanted and time.monotonic() < deadline:
            ready, _, _ = select.select([process.stdout], [], [], 1)
            if ready:
                text = process.stdout.readline()
                if text.startswith("committed "):
                    printed.append(int(text.split()[1]))
        time.sleep(rng.uniform(0, 0.5))
        os.kill(process.pid, signal.SIGKILL)
        rest, errors = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == -signal.SIGKILL
    assert "Traceback" not in errors, errors
    printed += [int(text.split()[1]) for text in rest.splitlines() if text.startswith("committed ")]
    return verify_after_crash(world, trial, world_seq, printed)


def verify_after_crash(world: Path, trial: Path, world_seq: int, printed: list[int]) -> dict:
    conn = sqlite3.connect(trial)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        journal = dict(conn.execute("SELECT seq, status FROM journal WHERE seq > ?", (world_seq,)).fetchall())
        # Nothing committed is lost: every seq the worker printed is in the journal, accepted.
        lost = [seq for seq in printed if journal.get(seq) != "accepted"]
        assert not lost, f"committed and printed, but missing after the crash: {lost}"
        audit_database(conn)
        # Each fan-out is all or nothing: a lead fill has an outcome for every copier, or it is not there.
        lead_fills = [seq for (seq,) in conn.execute(
            "SELECT seq FROM fills WHERE account = ? AND kind = 'trade'", (LEAD_ACCOUNT,))]
        counts = dict(conn.execute("SELECT lead_order, count(*) FROM outcomes WHERE lead_order LIKE 'L%' "
                                   "GROUP BY lead_order").fetchall())
        for seq in lead_fills:
            assert counts.pop(f"L{seq}", 0) == COPIERS, f"lead fill {seq} has a partial fan-out"
        assert not counts, f"outcomes without their lead fill: {sorted(counts)[:5]}"
        # Copier positions agree with the copier fills that built them.
        mismatched = conn.execute("""
            SELECT p.account FROM positions p
            LEFT JOIN (SELECT account, symbol, lead, sum(CASE WHEN side > 0 THEN qty ELSE -qty END) AS net
                       FROM fills GROUP BY account, symbol, lead) f USING (account, symbol, lead)
            WHERE p.account LIKE '%:copy' AND p.side * p.qty != coalesce(f.net, 0) LIMIT 1""").fetchone()
        assert mismatched is None, f"{mismatched[0]}'s copy position disagrees with its fills"
        tail = [json.loads(command) for (command,) in conn.execute(
            "SELECT command FROM journal WHERE seq > ? ORDER BY seq", (world_seq,))]
    finally:
        conn.close()
    # After the restart the engine loads, equals the journal replayed onto the world, and keeps working.
    replayed = trial.with_name(trial.stem + "-replayed.db")
    _copy(world, replayed)
    with Desk.open(replayed, lock=False) as copy:
        for line in tail:
            copy.execute(line)
        expected = copy.state_hash()
    with Desk.open(trial) as desk:
        assert desk.state_hash() == expected, "the recovered state is not the journal's state"
        after = desk.execute({"do": "order", "user": "whale", "account": "elite", "symbol": "BTCUSDT",
                              "side": "buy", "qty": "0.1", "leverage": 5})
        assert after.accepted, after.message
        assert sum(1 for e in after.events if isinstance(e, tuple) and e[0] == "lead_order") == 1
    return {"committed": len(printed), "journal": len(journal), "lead_fills": len(lead_fills)}


def _trials(world: Path, tmp_path: Path, count: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    results = []
    for number in range(count):
        results.append(crash_once(world, tmp_path / f"trial-{number}.db", rng))
        for leftover in tmp_path.glob(f"trial-{number}*"):
            leftover.unlink()
    return results


def test_sigkill_during_large_fan_outs_loses_nothing_and_splits_nothing(world, tmp_path):
    results = _trials(world, tmp_path, 3, seed=20260105)
    print(f"\ncrash trials survived: {len(results)}; {results}")


@pytest.mark.slow
def test_sigkill_many_times(world, tmp_path):
    results = _trials(world, tmp_path, 40, seed=7)
    print(f"\ncrash trials survived: {len(results)}; committed before the kill: "
          f"{sum(r['committed'] for r in results)}")
