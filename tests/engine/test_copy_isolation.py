"""A copier's copy account and futures account never affect each other (SPEC §1, §7), on the
scenario copy_isolation. BTC: MMR 0.4%, liquidation fee 0.3%, taker fee 0.05%."""
import pytest

from copy_scenarios import play, position, relation


@pytest.fixture(scope="module")
def isolation():
    return play("copy_isolation.jsonl")


def test_a_liquidated_copy_account_leaves_futures_untouched(isolation):
    opened, liquidated = isolation.snapshots[0], isolation.snapshots[1]
    # bob's copy: 0.02 at 50x cross, initial margin 20, fee 0.5: wallet 29.5.
    held = position(opened, "bob", "copy", "BTCUSDT", "alice")
    assert (held["leverage"], held["margin_mode"], held["margin"]) == (50, "cross", "20")
    assert opened["users"]["bob"]["copy"]["wallet_balance"] == "29.5"
    futures = opened["users"]["bob"]["futures"]
    assert (futures["wallet_balance"], futures["available"]) == ("999.5", "899.5")
    # At 48,600: loss 0.02 × 1,400 = 28 leaves 1.5 against 0.02 × 48,600 × 0.4% = 3.888 maintenance.
    # The liquidation fee 0.02 × 48,600 × 0.3% = 2.916 takes what is left, 1.5.
    assert liquidated["liquidations"] == [{
        "user": "bob", "account": "copy", "symbol": "BTCUSDT", "qty": "0.02", "price": "48600", "fee": "1.5",
        "kind": "full", "side": "long", "lead": "alice", "insurance": "1.5", "at": "2026-01-05T00:00:00Z"}]
    copy = liquidated["users"]["bob"]["copy"]
    assert (copy["wallet_balance"], copy["positions"]) == ("0", [])
    # Futures: the same wallet, the same position, only its unrealized PnL moved with the price.
    futures = liquidated["users"]["bob"]["futures"]
    assert (futures["wallet_balance"], futures["available"], futures["margin_used"]) == ("999.5", "899.5", "100")
    held = position(liquidated, "bob", "futures", "BTCUSDT")
    assert (held["qty"], held["margin"], held["unrealized_pnl"]) == ("0.02", "100", "-28")
    assert liquidated["insurance_fund"] == "1000001.5"
    # The liquidation closed the copy order: −28 realized, 0.5 fee.
    assert relation(liquidated, "bob", "alice")["cum_realized_pnl"] == "-28.5"


def test_a_futures_loss_does_not_change_copy_available(isolation):
    opened, dropping, liquidated = isolation.snapshots[0], isolation.snapshots[1], isolation.snapshots[2]
    # carol's copy: 0.02 at 10x isolated: margin 100, wallet 999.5, available 899.5 — throughout.
    assert [s["users"]["carol"]["copy"]["available"] for s in (opened, dropping, liquidated)] == ["899.5"] * 3
    assert [s["users"]["carol"]["copy"]["wallet_balance"] for s in (opened, dropping, liquidated)] == ["999.5"] * 3
    # Her futures account: 0.04 at 25x cross (margin 80, fee 1): wallet 99. At 47,700: 99 − 92 = 7
    # against 7.632 maintenance: liquidated, fee 0.04 × 47,700 × 0.3% = 5.724, leaving 1.276.
    assert dropping["users"]["carol"]["futures"]["available"] == "0"  # 99 − 80 − 56
    assert [(l["user"], l["account"], l["fee"]) for l in liquidated["liquidations"]] == [("carol", "futures", "5.724")]
    assert liquidated["users"]["carol"]["futures"]["wallet_balance"] == "1.276"
    held = position(liquidated, "carol", "copy", "BTCUSDT", "alice")
    assert (held["qty"], held["margin"], held["unrealized_pnl"]) == ("0.02", "100", "-46")


def test_the_lead_close_reaches_the_survivor_only(isolation):
    closed = isolation.snapshots[3]
    assert [(o["copier"], o["status"], o["code"]) for o in closed["copy"]["outcomes"]] == [
        ("bob", "failed", "NOTHING_TO_CLOSE"), ("carol", "filled", None)]
    # carol: −46 and a 0.477 fee: 999.5 − 46.477.
    assert closed["users"]["carol"]["copy"]["wallet_balance"] == "953.023"
    assert closed["users"]["carol"]["futures"]["wallet_balance"] == "1.276"
    assert closed["users"]["bob"]["futures"]["wallet_balance"] == "999.5"
