"""Consecutive failed copies and auto-unfollow (SPEC §7.4): the scenario copy_failures, then the
countdown's conditions one at a time. A 1x copy of alice's 0.001 BTC at 50,000 and 10x needs
5 margin + 0.025 fee."""
import pytest

from conftest import rejects, run
from copy_scenarios import play, relation

COUNTDOWN_END = "2026-01-08T00:00:00Z"  # 3 days after the 20th failure at 2026-01-05T00:00:00Z


@pytest.fixture(scope="module")
def failures():
    return play("copy_failures.jsonl")


def _state(snapshot, copier):
    found = relation(snapshot, copier, "alice")
    return found["status"], found["consecutive_failures"], found["countdown_until"]


def _kinds(snapshot, user):
    return [n["kind"] for n in snapshot["notifications"] if n["user"] == user]


def test_the_reminder_comes_at_the_15th_failure(failures):
    at_14, at_15 = failures.snapshots[0], failures.snapshots[1]
    assert [_state(at_14, c) for c in ("bob", "carol", "dave")] == [("active", 14, None)] * 3
    assert all("copy_failures" not in _kinds(at_14, c) for c in ("bob", "carol", "dave"))
    assert [_state(at_15, c) for c in ("bob", "carol", "dave")] == [("active", 15, None)] * 3
    assert [_kinds(at_15, c) for c in ("bob", "carol", "dave")] == [["copy_failures"]] * 3
    assert at_15["notifications"][0]["text"].startswith("15 copies of alice in a row have failed")


def test_a_success_at_the_16th_copy_resets_the_count(failures):
    at_19 = failures.snapshots[2]
    # carol funded her copy account before lead order 16: four copies of 0.001 (margin 20, fees 0.1).
    assert _state(at_19, "carol") == ("active", 0, None)
    assert _state(at_19, "bob") == ("active", 19, None)
    copy = at_19["users"]["carol"]["copy"]
    assert (copy["wallet_balance"], copy["margin_used"]) == ("99.9", "20")
    # Neither the reminder nor a countdown repeats before 20.
    assert _kinds(at_19, "bob") == []


def test_twenty_failures_at_capacity_without_a_copy_position_start_a_3_day_countdown(failures):
    at_20 = failures.snapshots[3]
    assert _state(at_20, "bob") == ("active", 20, COUNTDOWN_END)
    assert _state(at_20, "dave") == ("active", 20, COUNTDOWN_END)
    assert _kinds(at_20, "bob") == ["unfollow_countdown"]
    assert f"you will be unfollowed at {COUNTDOWN_END}" in at_20["notifications"][0]["text"]
    # carol's copies succeed: no countdown for her.
    assert _state(at_20, "carol") == ("active", 0, None)


def test_the_21st_failure_keeps_the_countdown_and_a_success_cancels_one(failures):
    at_21 = failures.snapshots[4]
    assert _state(at_21, "bob") == ("active", 21, COUNTDOWN_END)
    assert _kinds(at_21, "bob") == []
    # dave funded his account at 01:00: his copy of lead order 21 fills and cancels his countdown.
    assert _state(at_21, "dave") == ("active", 0, None)
    assert _kinds(at_21, "dave") == ["countdown_cancelled"]
    assert [(o["copier"], o["status"]) for o in at_21["copy"]["outcomes"]] == [
        ("bob", "failed"), ("carol", "filled"), ("dave", "filled")]


def test_the_copier_is_unfollowed_when_the_countdown_ends(failures):
    before, after = failures.snapshots[5], failures.snapshots[6]
    assert before["at"] == "2026-01-07T23:59:59Z" and _state(before, "bob") == ("active", 21, COUNTDOWN_END)
    assert after["at"] == COUNTDOWN_END
    assert _state(after, "bob") == ("unfollowed", 21, None)
    assert [(n["kind"], n["at"]) for n in after["notifications"] if n["user"] == "bob"] == [
        ("unfollow", COUNTDOWN_END)]
    assert _state(after, "dave") == ("active", 0, None)
    # erin, refused at the start (LEAD_AT_CAPACITY), takes the freed place.
    assert failures.rejected[0][1] == "LEAD_AT_CAPACITY"
    assert _state(failures.final, "erin") == ("active", 0, None)


# --- the countdown's conditions, one at a time -------------------------------------------------------

def _world(exchange, capacity, copiers):
    run(exchange, {"do": "config", "slippage_bps": "0", "impact_bps": "0"},
        {"do": "price", "symbol": "BTCUSDT", "mark": "50000"},
        {"do": "user", "name": "alice"}, {"do": "deposit", "user": "alice", "amount": "2000"},
        {"do": "become_elite", "user": "alice", "symbols": ["BTCUSDT"], "capacity": capacity},
        {"do": "transfer", "user": "alice", "from": "funding", "to": "elite", "amount": "2000"})
    for name, funds in copiers.items():
        run(exchange, {"do": "user", "name": name}, {"do": "deposit", "user": name, "amount": "100"})
        if funds != "0":
            run(exchange, {"do": "transfer", "user": name, "from": "funding", "to": "copy", "amount": funds})
        run(exchange, {"do": "follow", "user": name, "lead": "alice", "mode": "ratio", "ratio": "1"})


def _lead_orders(exchange, count):
    for _ in range(count):
        run(exchange, {"do": "order", "user": "alice", "account": "elite", "symbol": "BTCUSDT", "side": "buy",
                       "qty": "0.001", "leverage": 10})


def test_no_countdown_while_the_lead_has_room(exchange):
    _world(exchange, capacity=2, copiers={"bob": "0"})
    _lead_orders(exchange, 25)
    snapshot = run(exchange, {"do": "snapshot", "of": ["copy", "notifications"]})
    assert _state(snapshot, "bob") == ("active", 25, None)
    assert _kinds(snapshot, "bob") == ["copy_failures"]  # the reminder at 15 only


def test_no_countdown_while_the_copier_holds_a_copy_position(exchange):
    # bob's 5.025 pays for exactly one copy; the next 20 fail, but he holds the first.
    _world(exchange, capacity=1, copiers={"bob": "5.025"})
    _lead_orders(exchange, 21)
    snapshot = run(exchange, {"do": "snapshot", "of": ["users", "copy", "notifications"]})
    assert snapshot["users"]["bob"]["copy"]["positions"][0]["qty"] == "0.001"
    assert _state(snapshot, "bob") == ("active", 20, None)
    assert "unfollow_countdown" not in _kinds(snapshot, "bob")


def test_a_countdown_whose_conditions_lapse_ends_without_unfollowing(exchange):
    _world(exchange, capacity=2, copiers={"bob": "0", "carol": "0"})
    _lead_orders(exchange, 20)
    started = run(exchange, {"do": "snapshot", "of": ["copy", "notifications"]})
    assert _state(started, "bob") == ("active", 20, COUNTDOWN_END)
    # carol leaves: alice is no longer at capacity when bob's countdown ends.
    run(exchange, {"do": "unfollow", "user": "carol", "lead": "alice"},
        {"do": "advance", "to": COUNTDOWN_END})
    ended = run(exchange, {"do": "snapshot", "of": ["copy", "notifications"]})
    assert _state(ended, "bob") == ("active", 20, None)
    assert [(n["kind"], n["at"]) for n in ended["notifications"] if n["user"] == "bob"] == [
        ("countdown_cancelled", COUNTDOWN_END)]
    # The next failure at 21 (alice at 1/2) starts nothing.
    _lead_orders(exchange, 1)
    assert _state(run(exchange, {"do": "snapshot", "of": ["copy"]}), "bob") == ("active", 21, None)


def test_at_capacity_follow_is_refused_without_changing_anything(exchange):
    _world(exchange, capacity=1, copiers={"bob": "0"})
    run(exchange, {"do": "user", "name": "carol"})
    rejects(exchange, {"do": "follow", "user": "carol", "lead": "alice", "mode": "ratio", "ratio": "1"},
            "LEAD_AT_CAPACITY")
