import json
import subprocess
import sys
from pathlib import Path

SCENARIOS = Path(__file__).parents[1] / "scenarios"


def replay(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "app.cli", "replay", *map(str, args)],
                          capture_output=True, text=True, timeout=120, cwd=cwd)


def test_transfers_scenario_prints_the_snapshot_shape():
    done = replay(SCENARIOS / "transfers.jsonl", "--strict")
    assert done.returncode == 0, done.stderr
    objects = [json.loads(line) for line in done.stdout.splitlines()]
    final = objects[-1]
    assert set(final) == {"at", "users", "copy", "leads", "notifications", "liquidations", "insurance_fund", "ledger"}
    assert final["ledger"] == {"sum": "0", "entries": 7}
    alice = final["users"]["alice"]
    assert alice["funding"] == {"balance": "4499"}
    assert set(alice["futures"]) >= {"wallet_balance", "equity", "available", "margin_used", "unrealized_pnl",
                                     "restricted", "dormant", "positions", "orders"}
    assert alice["futures"]["wallet_balance"] == "4500" and alice["copy"]["wallet_balance"] == "1000.5"
    assert final["copy"] == {"relations": [], "outcomes": []}
    rejected = [o["rejected"] for o in objects if "rejected" in o]
    assert [r["code"] for r in rejected] == ["INSUFFICIENT_BALANCE", "UNKNOWN_ACCOUNT", "UNKNOWN_USER"]
    snapshot = objects[2]
    assert set(snapshot) == {"at", "users", "ledger"} and snapshot["at"] == "2026-01-05T08:00:00Z"


def test_strict_fails_on_an_unexpected_rejection(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text('{"do": "user", "name": "a"}\n{"do": "withdraw", "user": "a", "amount": "5"}\n')
    assert replay(path).returncode == 0
    assert replay(path, "--strict").returncode == 1


def test_strict_fails_when_an_expected_error_does_not_happen(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text('{"do": "user", "name": "a", "expect_error": "USER_EXISTS"}\n')
    done = replay(path, "--strict")
    assert done.returncode == 1 and "expected USER_EXISTS" in done.stderr


def test_bad_files_exit_2_naming_the_line(tmp_path):
    bad_json = tmp_path / "a.jsonl"
    bad_json.write_text('{"do": "user", "name": "a"}\n\n// comment\n{"do": "deposit", \n')
    done = replay(bad_json)
    assert done.returncode == 2 and "line 4" in done.stderr and done.stdout == ""
    unknown = tmp_path / "b.jsonl"
    unknown.write_text('{"do": "teleport"}\n')
    done = replay(unknown)
    assert done.returncode == 2 and "line 1" in done.stderr and "teleport" in done.stderr
    missing = replay(tmp_path / "nope.jsonl")
    assert missing.returncode == 2 and "cannot read" in missing.stderr
    for done in (done, missing):
        assert "Traceback" not in done.stderr


def test_replay_refuses_an_existing_database(tmp_path):
    db = tmp_path / "x.db"
    db.write_text("not empty")
    done = replay(SCENARIOS / "transfers.jsonl", "--db", db)
    assert done.returncode == 2 and "fresh database" in done.stderr
