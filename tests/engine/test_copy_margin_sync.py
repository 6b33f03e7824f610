"""Margin synchronization (SPEC §7.5) on the scenarios copy_margin_sync and copy_margin_late_follow.

Copier delta = lead delta ÷ lead margin before × copier margin. Signals are held until
max(delivery, occurrence + 2 s) and applied in order of occurrence; one delivered more than 60 s
after it happened is dropped. Copies: bob 0.02 BTC at 10x, carol the same with no spare balance,
frank 0.02 at 20x; alice holds 0.2 at 10x, all bought at 50,000."""
import pytest

from conftest import run
from copy_scenarios import play, position


@pytest.fixture(scope="module")
def sync():
    return play("copy_margin_sync.jsonl")


def _margins(snapshot):
    return {name: position(snapshot, name, "copy", "BTCUSDT", "alice")["margin"] for name in ("bob", "carol", "frank")}


def _syncs(snapshot):
    return [(o["lead_order"], o["copier"], o["status"], o["code"], o["delta"], o["at"])
            for o in snapshot["copy"]["outcomes"] if o["kind"] == "margin_sync"]


def test_a_signal_waits_for_the_hold_window(sync):
    first = sync.snapshots[0]
    # alice's margin is 1,500 at once; the copiers' are unchanged until 00:00:02.
    assert position(first, "alice", "elite", "BTCUSDT")["margin"] == "1500"
    assert _margins(first) == {"bob": "100", "carol": "100", "frank": "50"}
    assert _syncs(first) == []


def test_adding_half_the_margin_grows_each_copy_by_half_except_a_copier_without_balance(sync):
    second = sync.snapshots[1]
    # Ratio 500 / 1,000 = 0.5: bob +50, frank +25; carol's available balance is 0 (100.5 − 0.5 fee −
    # 100 margin), so her synchronization is not executed.
    assert _syncs(second) == [("M1", "bob", "filled", None, "50", "2026-01-05T00:00:02Z"),
                              ("M1", "carol", "failed", "INSUFFICIENT_BALANCE", None, "2026-01-05T00:00:02Z"),
                              ("M1", "frank", "filled", None, "25", "2026-01-05T00:00:02Z")]
    assert _margins(second) == {"bob": "150", "carol": "100", "frank": "75"}
    assert second["users"]["bob"]["copy"]["available"] == "4849.5"  # 4,999.5 − 150
    assert second["users"]["carol"]["copy"]["wallet_balance"] == "100"


def test_a_removal_is_capped_at_each_copiers_maximum_removable(sync):
    third = sync.snapshots[2]
    # At 49,500 alice removes 410 of 1,500 (her maximum: 1,500 − 100 loss − 9,900 / 10). Ratio −410/1,500:
    # bob −41 of 150 — his maximum, 150 − 10 − 990 / 10 = 41; frank −20.5 of 75, capped at
    # 75 − 10 − 990 / 20 = 15.5; carol −27.33 of 100, but 100 − 10 − 99 < 0 leaves nothing removable.
    assert _syncs(third) == [("M2", "bob", "filled", None, "-41", "2026-01-05T00:01:02Z"),
                             ("M2", "carol", "failed", "MAX_REMOVABLE_EXCEEDED", None, "2026-01-05T00:01:02Z"),
                             ("M2", "frank", "filled", None, "-15.5", "2026-01-05T00:01:02Z")]
    assert _margins(third) == {"bob": "109", "carol": "100", "frank": "59.5"}
    assert position(third, "alice", "elite", "BTCUSDT")["margin"] == "1090"


def test_a_signal_delivered_75_s_late_changes_nothing(sync):
    # alice added 100 at 00:02:00; the signal reaches the copiers at 00:03:15 and is dropped.
    before, after = sync.snapshots[3], sync.snapshots[4]
    assert _syncs(before) == []
    assert [(copier, status, code, at) for _, copier, status, code, _, at in _syncs(after)] == [
        ("bob", "failed", "SIGNAL_EXPIRED", "2026-01-05T00:03:15Z"),
        ("carol", "failed", "SIGNAL_EXPIRED", "2026-01-05T00:03:15Z"),
        ("frank", "failed", "SIGNAL_EXPIRED", "2026-01-05T00:03:15Z")]
    assert "75 s" in after["copy"]["outcomes"][0]["message"]
    assert position(after, "alice", "elite", "BTCUSDT")["margin"] == "1190"
    assert _margins(after) == {"bob": "109", "carol": "100", "frank": "59.5"}
    assert after["users"]["bob"]["copy"]["available"] == "4890.5"


def test_signals_delivered_in_reverse_order_are_applied_in_order_of_occurrence(sync):
    # M4 (00:05:00.0, add 595 = 50% of 1,190) is delivered at 00:05:01.5, after M5 (00:05:00.5, remove
    # 357 = 20% of 1,785) was delivered at 00:05:00.5. Neither applies before its hold window ends.
    assert _syncs(sync.snapshots[5]) == []
    # Occurrence order: bob 109 + 54.5 = 163.5, then −20% = −32.7 (his maximum removable is 163.5 − 10
    # − 99 = 54.5) → 130.8. frank 59.5 + 29.75 = 89.25, then −17.85 → 71.4. carol cannot fund the add,
    # and has nothing removable. (Removal first would have left bob's −21.8 with nothing removable,
    # then +54.5: 163.5.)
    assert _syncs(sync.snapshots[6]) == [
        ("M4", "bob", "filled", None, "54.5", "2026-01-05T00:05:02Z"),
        ("M4", "carol", "failed", "INSUFFICIENT_BALANCE", None, "2026-01-05T00:05:02Z"),
        ("M4", "frank", "filled", None, "29.75", "2026-01-05T00:05:02Z"),
        ("M5", "bob", "filled", None, "-32.7", "2026-01-05T00:05:02.500Z"),
        ("M5", "carol", "failed", "MAX_REMOVABLE_EXCEEDED", None, "2026-01-05T00:05:02.500Z"),
        ("M5", "frank", "filled", None, "-17.85", "2026-01-05T00:05:02.500Z")]
    assert _margins(sync.final) == {"bob": "130.8", "carol": "100", "frank": "71.4"}
    assert position(sync.final, "alice", "elite", "BTCUSDT")["margin"] == "1428"  # 1,190 + 595 − 357
    # Isolated margin moves inside the wallet: no ledger entry for any synchronization.
    assert sync.final["users"]["bob"]["copy"]["wallet_balance"] == "4999.5"


def test_a_relationship_created_after_the_adjustment_is_not_synchronized_for_it():
    late = play("copy_margin_late_follow.jsonl")
    first, second = late.snapshots[0], late.snapshots[1]
    # M1 (+500 of 1,000) happened at 00:00:00; gina followed at 00:00:01 and copied L3 before M1 applied
    # at 00:00:02. Only bob is synchronized: 100 × 0.5 = +50.
    assert _syncs(first) == [("M1", "bob", "filled", None, "50", "2026-01-05T00:00:02Z")]
    assert position(first, "gina", "copy", "BTCUSDT", "alice")["margin"] == "100"
    assert position(first, "bob", "copy", "BTCUSDT", "alice")["margin"] == "150"
    # bob was at his 100 USDT total, so he did not copy L3.
    assert [(o["copier"], o["status"], o["code"]) for o in late.outcomes(lead_order="L3")] == [
        ("bob", "failed", "MAX_MARGIN_REACHED"), ("gina", "filled", None)]
    # M2 (+1,250 of 2,500) came after gina followed: both grow by half.
    assert _syncs(second) == [("M2", "bob", "filled", None, "75", "2026-01-05T00:01:02Z"),
                              ("M2", "gina", "filled", None, "50", "2026-01-05T00:01:02Z")]
    assert position(second, "gina", "copy", "BTCUSDT", "alice")["margin"] == "150"
    assert position(second, "bob", "copy", "BTCUSDT", "alice")["margin"] == "225"


def test_signals_due_at_the_same_instant_apply_in_order_of_occurrence(exchange):
    run(exchange, {"do": "config", "slippage_bps": "0", "impact_bps": "0"},
        {"do": "price", "symbol": "BTCUSDT", "mark": "50000"},
        {"do": "user", "name": "alice"}, {"do": "deposit", "user": "alice", "amount": "20000"},
        {"do": "become_elite", "user": "alice", "symbols": ["BTCUSDT"]},
        {"do": "transfer", "user": "alice", "from": "funding", "to": "elite", "amount": "20000"},
        {"do": "user", "name": "bob"}, {"do": "deposit", "user": "bob", "amount": "5000"},
        {"do": "transfer", "user": "bob", "from": "funding", "to": "copy", "amount": "5000"},
        {"do": "follow", "user": "bob", "lead": "alice", "mode": "ratio", "ratio": "0.1"},
        {"do": "order", "user": "alice", "account": "elite", "symbol": "BTCUSDT", "side": "buy", "qty": "0.2",
         "leverage": 10},
        {"do": "price", "symbol": "BTCUSDT", "mark": "49500"},
        # A at 00:00:00, delivered 2.5 s later; B at 00:00:00.5, delivered at once and held until 00:00:02.5.
        {"do": "margin", "user": "alice", "account": "elite", "symbol": "BTCUSDT", "delta": "500",
         "signal_delay_s": 2.5},
        {"do": "margin", "user": "alice", "account": "elite", "symbol": "BTCUSDT", "delta": "-300",
         "at": "2026-01-05T00:00:00.500Z"},
        {"do": "advance", "to": "2026-01-05T00:00:02.500Z"})
    # A first: bob 100 × 1.5 = 150; then B, −300 / 1,500 = −20%: −30, within his 150 − 10 − 99 = 41.
    # (B first would find nothing removable in 100 − 10 − 99, then A would leave 150.)
    snapshot = run(exchange, {"do": "snapshot"})
    assert _syncs(snapshot) == [("M1", "bob", "filled", None, "50", "2026-01-05T00:00:02.500Z"),
                                ("M2", "bob", "filled", None, "-30", "2026-01-05T00:00:02.500Z")]
    assert position(snapshot, "bob", "copy", "BTCUSDT", "alice")["margin"] == "120"
