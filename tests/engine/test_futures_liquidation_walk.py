"""tests/scenarios/liquidation_walk.jsonl through `copydesk replay --strict`: the figures worked out in its comments."""
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

D = Decimal
SCENARIO = Path(__file__).parents[1] / "scenarios" / "liquidation_walk.jsonl"


@pytest.fixture(scope="module")
def outputs():
    done = subprocess.run([sys.executable, "-m", "app.cli", "replay", str(SCENARIO), "--strict"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    objects = [json.loads(line) for line in done.stdout.splitlines()]
    snapshots = [o for o in objects if "rejected" not in o]
    rejected = [o["rejected"] for o in objects if "rejected" in o]
    return snapshots, rejected


def futures(snapshot, user):
    return snapshot["users"][user]["futures"]


def btc(snapshot, user):
    found = [p for p in futures(snapshot, user)["positions"] if p["symbol"] == "BTCUSDT"]
    return found[0] if found else None


def test_every_snapshot_was_printed_and_only_the_expected_rejection(outputs):
    snapshots, rejected = outputs
    assert len(snapshots) == 5  # four snapshot lines and the final one
    assert [(r["code"], r["expected"]) for r in rejected] == [("MAX_REMOVABLE_EXCEEDED", True)]
    assert "at most 500 USDT" in rejected[0]["message"]


def test_open(outputs):
    opened = outputs[0][0]
    alice = btc(opened, "alice")
    assert (alice["qty"], alice["entry_price"], alice["margin"], alice["leverage"]) == ("20", "1000", "2000", 10)
    # MM at 20,000 (tier 2): 20,000 × 2% − 90 = 310; LP 17,910 / 19.6.
    assert alice["maintenance_margin"] == "310" and alice["liquidation_price"] == "913.7755102"
    assert futures(opened, "alice")["wallet_balance"] == "2990"
    # bob's short: (2,000 + 90 + 20,000) / (0.4 + 20) = 1,082.843137254…, rounded up.
    assert btc(opened, "bob")["liquidation_price"] == "1082.84313726"
    assert opened["insurance_fund"] == "102"


def test_margin_add_and_remove(outputs):
    adjusted = outputs[0][1]
    alice = btc(adjusted, "alice")
    assert alice["margin"] == "2250" and alice["liquidation_price"] == "901.02040816"
    assert futures(adjusted, "alice")["wallet_balance"] == "2990"
    assert futures(adjusted, "alice")["available"] == "740"  # 2,990 − 2,250


def test_partial_liquidation(outputs):
    partial = outputs[0][2]
    assert partial["liquidations"] == [
        {"user": "alice", "account": "futures", "symbol": "BTCUSDT", "qty": "10", "price": "900", "fee": "9",
         "kind": "partial", "side": "long", "lead": None, "insurance": "9", "at": "2026-01-05T00:00:00Z"}]
    alice = btc(partial, "alice")
    # The fee came from what the closed part's margin had left: the remaining 10 BTC keep 1,125.
    assert (alice["qty"], alice["margin"], alice["realized_pnl"]) == ("10", "1125", "-1000")
    assert alice["maintenance_margin"] == "90" and alice["liquidation_price"] == "896.46464646"
    assert futures(partial, "alice")["wallet_balance"] == "1981"
    assert futures(partial, "alice")["available"] == "856"  # 1,981 − 1,125
    assert partial["insurance_fund"] == "111"
    assert partial["ledger"]["sum"] == "0"


def test_full_liquidation_with_the_fund_paying_the_bankruptcy(outputs):
    full = outputs[0][3]
    [record] = full["liquidations"]
    assert (record["user"], record["qty"], record["price"], record["kind"], record["fee"], record["insurance"]) == (
        "alice", "10", "880", "full", "0", "-75")
    assert btc(full, "alice") is None
    assert futures(full, "alice")["wallet_balance"] == "856"
    assert full["insurance_fund"] == "36"
    assert full["ledger"]["sum"] == "0"


def test_adl_of_the_profitable_short_when_the_fund_runs_out(outputs):
    final = outputs[0][-1]
    kinds = {(r["user"], r["kind"]): r for r in final["liquidations"]}
    assert set(kinds) == {("bob", "adl"), ("carol", "full")}
    adl = kinds[("bob", "adl")]
    assert (adl["qty"], adl["price"], adl["side"]) == ("9", "836", "short")
    assert kinds[("carol", "full")]["insurance"] == "-36" and kinds[("carol", "full")]["price"] == "800"
    bob = btc(final, "bob")
    assert (bob["qty"], bob["margin"], bob["realized_pnl"]) == ("11", "1100", "1476")
    # (1,100 + 90 + 11,000) / (0.22 + 11) = 12,190 / 11.22 = 1,086.452762923…, rounded up.
    assert bob["liquidation_price"] == "1086.45276293"
    assert futures(final, "bob")["wallet_balance"] == "4466"
    assert futures(final, "carol")["wallet_balance"] == "555.6"
    assert final["insurance_fund"] == "0"
    notes = [(n["user"], n["kind"]) for n in final["notifications"]]
    assert ("bob", "adl") in notes and ("carol", "liquidation") in notes


def test_the_ledger_sums_to_zero_and_no_user_balance_is_negative(outputs):
    for snapshot in outputs[0]:
        if "ledger" in snapshot:
            assert snapshot["ledger"]["sum"] == "0"
        for user in snapshot.get("users", {}).values():
            assert D(user["funding"]["balance"]) >= 0
            for kind in ("futures", "copy", "elite"):
                if kind in user:
                    assert D(user[kind]["wallet_balance"]) >= 0
