"""Following (SPEC §7.2): refusals change nothing; unfollow; the legacy account upgrade (SPEC §9)."""
import pytest

from conftest import balance, rejects, run
from copy_scenarios import play


def _elite(exchange, name, **profile):
    run(exchange, {"do": "user", "name": name},
        {"do": "become_elite", "user": name, "symbols": ["BTCUSDT"], **profile})


@pytest.fixture
def world(exchange):
    run(exchange, {"do": "user", "name": "bob"}, {"do": "user", "name": "carol"})
    _elite(exchange, "alice", capacity=1)
    return exchange


def _follow(copier, lead, **settings):
    return {"do": "follow", "user": copier, "lead": lead, "mode": "ratio", "ratio": "0.1", **settings}


def test_following_someone_who_does_not_lead_is_refused(world):
    error = rejects(world, _follow("bob", "carol"), "NOT_ELITE")
    assert "carol is not an elite trader" in error.message


def test_following_twice_is_refused(world):
    run(world, _follow("bob", "alice"))
    rejects(world, _follow("bob", "alice", ratio="0.5"), "ALREADY_FOLLOWING")


def test_update_and_unfollow_without_a_relation_are_refused(world):
    rejects(world, {"do": "unfollow", "user": "bob", "lead": "alice"}, "NOT_FOLLOWING")
    rejects(world, {"do": "update_follow", "user": "bob", "lead": "alice", "ratio": "0.2"}, "NOT_FOLLOWING")
    run(world, _follow("bob", "alice"), {"do": "unfollow", "user": "bob", "lead": "alice"})
    rejects(world, {"do": "unfollow", "user": "bob", "lead": "alice"}, "NOT_FOLLOWING")
    # The ended relation stays on record; following again starts a new one.
    run(world, _follow("bob", "alice", ratio="0.2"))
    relations = run(world, {"do": "snapshot", "of": ["copy"]})["copy"]["relations"]
    assert [(r["status"], r["ratio"]) for r in relations] == [("unfollowed", "0.1"), ("active", "0.2")]


def test_a_lead_at_capacity_refuses_new_copiers(world):
    run(world, _follow("bob", "alice"))
    error = rejects(world, _follow("carol", "alice"), "LEAD_AT_CAPACITY")
    assert "capacity (1 copiers)" in error.message


def test_a_copier_follows_at_most_20_leads(world):
    for n in range(20):
        _elite(world, f"lead{n}")
        run(world, _follow("bob", f"lead{n}"))
    _elite(world, "lead20")
    rejects(world, _follow("bob", "lead20"), "MAX_LEADS")
    # Leaving one makes room again.
    run(world, {"do": "unfollow", "user": "bob", "lead": "lead0"}, _follow("bob", "lead20"))


def test_no_one_copies_themselves(world):
    rejects(world, _follow("alice", "alice"), "BAD_FIELD")


def test_legacy_upgrade_completes_at_once_without_copy_or_lead_positions(exchange):
    run(exchange, {"do": "user", "name": "leo", "legacy": True}, {"do": "deposit", "user": "leo", "amount": "100"},
        {"do": "transfer", "user": "leo", "from": "funding", "to": "futures", "amount": "60"})
    _elite(exchange, "alice")
    before = run(exchange, {"do": "snapshot", "of": ["users"]})["users"]["leo"]
    assert set(before) == {"funding", "futures"}
    # Until it upgrades, a legacy user can neither copy nor lead.
    rejects(exchange, _follow("leo", "alice"), "UNKNOWN_ACCOUNT")
    rejects(exchange, {"do": "become_elite", "user": "leo", "symbols": ["BTCUSDT"]}, "ELITE_REQUIREMENTS")
    assert run(exchange, {"do": "upgrade", "user": "leo"}) == {"upgrade": "done"}
    after = run(exchange, {"do": "snapshot", "of": ["users", "notifications"]})
    assert set(after["users"]["leo"]) == {"funding", "futures", "copy"}
    assert after["users"]["leo"]["copy"]["wallet_balance"] == "0"
    assert (balance(exchange, "leo", "futures"), balance(exchange, "leo", "funding")) == (60, 40)
    assert [n["kind"] for n in after["notifications"] if n["user"] == "leo"] == ["upgrade"]
    # Now leo copies like anyone else; a second upgrade is refused.
    run(exchange, _follow("leo", "alice"))
    rejects(exchange, {"do": "upgrade", "user": "leo"}, "BAD_FIELD")


def test_upgrading_a_user_who_is_not_legacy_is_refused(world):
    rejects(world, {"do": "upgrade", "user": "bob"}, "BAD_FIELD")


@pytest.fixture
def protected(exchange):
    # alice locks 2,000 of collateral: copiers may allocate at most 2,000 ÷ 20% = 10,000.
    run(exchange, {"do": "user", "name": "alice"}, {"do": "deposit", "user": "alice", "amount": "12000"},
        {"do": "become_elite", "user": "alice", "symbols": ["BTCUSDT"]},
        {"do": "transfer", "user": "alice", "from": "funding", "to": "elite", "amount": "12000"},
        {"do": "become_elite", "user": "alice", "symbols": ["BTCUSDT"], "mode": "protected", "collateral": "2000"})
    for name in ("bob", "carol"):
        run(exchange, {"do": "user", "name": name}, {"do": "deposit", "user": name, "amount": "20000"},
            {"do": "transfer", "user": name, "from": "funding", "to": "copy", "amount": "20000"})
    return exchange


def test_raising_a_protected_allocation_must_fit_the_scale_limit(protected):
    run(protected, _follow("bob", "alice", max_total_margin="100"),
        {"do": "update_follow", "user": "bob", "lead": "alice", "max_total_margin": "9000"})
    # bob's 9,000 + carol's 1,000.01 > 10,000; 1,000 fits exactly.
    rejects(protected, _follow("carol", "alice", max_total_margin="1000.01"), "FOLLOW_PAUSED_SCALE_LIMIT")
    run(protected, _follow("carol", "alice", max_total_margin="1000"))
    rejects(protected, {"do": "update_follow", "user": "bob", "lead": "alice", "max_total_margin": "9000.01"},
            "FOLLOW_PAUSED_SCALE_LIMIT")
    # Lowering always fits, and frees room: 5,000 + 1,000, so carol may go to 5,000.
    run(protected, {"do": "update_follow", "user": "bob", "lead": "alice", "max_total_margin": "5000"},
        {"do": "update_follow", "user": "carol", "lead": "alice", "max_total_margin": "5000"})
    assert [(r.copier, r.allocation) for r in protected.leads["alice"].copiers.values()] == [
        ("bob", 5000), ("carol", 5000)]


def test_a_first_protected_become_elite_without_an_elite_account_is_refused_cleanly(exchange):
    # With the equity rule configured away, a new user asks for a protected portfolio at once.
    run(exchange, {"do": "config", "protected_min_equity": "0"}, {"do": "user", "name": "alice"})
    error = rejects(exchange, {"do": "become_elite", "user": "alice", "symbols": ["BTCUSDT"], "mode": "protected",
                               "collateral": "10"}, "INSUFFICIENT_BALANCE")
    assert "0.00 available in Elite" in error.message


def test_a_copy_orders_pnl_stays_with_the_follow_it_was_copied_under():
    played = play("copy_refollow.jsonl")
    ended, active = (relation for relation in played.final["copy"]["relations"] if relation["copier"] == "bob")
    # The leftover copy, opened before the unfollow: 40 − 0.5 − 0.52; the new one: 20 − 0.51 − 0.52.
    assert (ended["status"], ended["cum_realized_pnl"]) == ("unfollowed", "38.98")
    assert (active["status"], active["cum_realized_pnl"]) == ("active", "18.97")
    assert played.final["users"]["bob"]["copy"]["wallet_balance"] == "5057.95"  # 5,000 − 1.01 + 60 − 1.04
