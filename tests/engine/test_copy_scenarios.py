"""What every copy scenario keeps: the ledger sums to zero after every line, and every copier of a
lead gets exactly one open/close outcome per lead fill. `copydesk replay --strict` (the SQLite desk)
reaches the same final snapshot as the in-memory engine."""
import json
import subprocess
import sys
from collections import Counter

import pytest

from copy_scenarios import COPY_SCENARIOS, SCENARIOS, play


def test_there_are_copy_scenarios():
    assert {"copy_mirror.jsonl", "copy_fixed.jsonl", "copy_slippage.jsonl", "copy_margin_sync.jsonl",
            "copy_margin_late_follow.jsonl", "copy_failures.jsonl", "copy_profit_share.jsonl",
            "copy_protected.jsonl", "copy_isolation.jsonl"} <= set(COPY_SCENARIOS)


@pytest.mark.parametrize("name", COPY_SCENARIOS)
def test_ledger_sums_to_zero_and_one_outcome_per_copier_per_lead_fill(name):
    played = play(name)  # also checks the sum after every line
    assert [s["ledger"]["sum"] for s in played.snapshots] == ["0"] * len(played.snapshots)
    per_fill = Counter((o["lead_order"], o["copier"]) for o in played.outcomes() if o["kind"] in ("open", "close"))
    expected = Counter((order, copier) for _, order, copiers in played.lead_orders for copier in copiers)
    assert per_fill == expected and set(per_fill.values()) == {1}
    assert played.lead_orders, "a copy scenario has lead orders"


@pytest.mark.parametrize("name", COPY_SCENARIOS)
def test_replay_strict_matches_the_in_memory_engine(name):
    done = subprocess.run([sys.executable, "-m", "app.cli", "replay", str(SCENARIOS / name), "--strict"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    printed = [json.loads(line) for line in done.stdout.splitlines()]
    played = play(name)
    snapshots = [p for p in printed if "rejected" not in p]
    assert snapshots == played.snapshots
    assert [(p["rejected"]["line"], p["rejected"]["code"]) for p in printed if "rejected" in p] == played.rejected
    assert all(p["rejected"]["expected"] for p in printed if "rejected" in p)
