"""Reopening a desk in the middle of copy trading — relations, pending margin signals, running
countdowns, open copy orders, closed copy orders not yet shown — gives back the same state, bit for
bit, and the same snapshots."""
import sqlite3
from decimal import Decimal

import pytest

from copy_scenarios import play, scenario_lines
from storage.desk import Desk
from storage.schema import LATEST, schema_version


def _until(lines, predicate):
    """The lines up to and including the first one matching `predicate`."""
    end = next(i for i, line in enumerate(lines) if predicate(line))
    return lines[:end + 1]


def test_pending_margin_signals_survive_a_reopen(tmp_path):
    # Stop right after M5, with M4 and M5 both still held.
    lines = _until(scenario_lines("copy_margin_sync.jsonl"), lambda l: l.get("delta") == "-357")
    with Desk.open(tmp_path / "d.db") as desk:
        for line in lines:
            assert desk.execute(line).accepted
        state = desk.state_hash()
        assert sorted(s.delta for s in desk.exchange.signals.values()) == [-357, 595]
    with Desk.open(tmp_path / "d.db") as desk:
        assert desk.state_hash() == state
        assert len(desk.exchange.leads["alice"].copiers) == 3
        assert sum(len(book) for book in desk.exchange.copy_orders.values()) == 3
        # Once reopened, the held signals still apply in order of occurrence: bob 109 → 163.5 → 130.8.
        desk.execute({"do": "advance", "to": "2026-01-05T00:05:03Z"})
        bob = desk.exchange.accounts["bob:copy"].positions[("BTCUSDT", "alice")]
        assert bob.margin == Decimal("130.8")


def test_a_running_countdown_survives_a_reopen(tmp_path):
    # Stop after lead order 20: bob's and dave's countdowns run until 2026-01-08.
    lines = scenario_lines("copy_failures.jsonl")
    twentieth = [i for i, line in enumerate(lines) if line["do"] == "order"][19]
    with Desk.open(tmp_path / "d.db") as desk:
        for line in lines[:twentieth + 1]:
            desk.execute(line)
        state = desk.state_hash()
    with Desk.open(tmp_path / "d.db") as desk:
        assert desk.state_hash() == state
        assert sorted(desk.exchange.relations[seq].copier for seq in desk.exchange.countdowns) == ["bob", "dave"]
        # Both end at once: bob (the older relation) is unfollowed first, which frees a place, so the
        # conditions no longer hold for dave and his countdown ends without unfollowing.
        desk.execute({"do": "advance", "to": "2026-01-08T00:00:00Z"})
        bob, dave = (desk.exchange.relations_by_pair[(name, "alice")] for name in ("bob", "dave"))
        assert (bob.status, dave.status, dave.countdown_until) == ("unfollowed", "active", None)


@pytest.mark.parametrize("name", ["copy_mirror.jsonl", "copy_margin_sync.jsonl", "copy_failures.jsonl",
                                  "copy_profit_share.jsonl", "copy_protected.jsonl"])
def test_reopening_after_every_line_reproduces_state_and_snapshots(tmp_path, name):
    path = tmp_path / "d.db"
    snapshots = []
    desk = Desk.open(path)
    try:
        for line in scenario_lines(name):
            outcome = desk.execute(line)
            if line["do"] == "snapshot":
                snapshots.append(outcome.result)
            state = desk.state_hash()
            desk.close()
            desk = Desk.open(path)
            assert desk.state_hash() == state, f"{name}: reopening after {line} changed the state"
        snapshots.append(desk.execute({"do": "snapshot"}).result)
    finally:
        desk.close()
    assert snapshots == play(name).snapshots


def test_copy_orders_closed_before_a_reopen_still_show_in_the_next_snapshot(tmp_path):
    # copy_mirror up to alice's 50% close, then her reverse closes bob's L1 copy order.
    lines = _until(scenario_lines("copy_mirror.jsonl"), lambda l: l["do"] == "reverse")
    with Desk.open(tmp_path / "d.db") as desk:
        for line in lines:
            desk.execute(line)
    with Desk.open(tmp_path / "d.db") as desk:
        shown = desk.execute({"do": "snapshot", "of": ["users"]}).result["users"]["bob"]["copy"]["copy_orders"]
    assert [(o["lead_order"], o["status"], o["realized_pnl"]) for o in shown] == [("L1", "closed", "20"),
                                                                                 ("L9", "open", "0")]
    # Shown once: a desk reopened after that snapshot lists the open one only.
    with Desk.open(tmp_path / "d.db") as desk:
        shown = desk.execute({"do": "snapshot", "of": ["users"]}).result["users"]["bob"]["copy"]["copy_orders"]
    assert [o["lead_order"] for o in shown] == ["L9"]


def test_copy_orders_keep_their_follow_across_a_reopen_and_older_ones_fall_back_to_the_newest(tmp_path):
    """Schema 6 records the follow a copy order was opened under. Copy orders written before it (the
    column NULL, as migration 6 leaves them) count in the newest follow of the pair, as they always did."""
    lines = scenario_lines("copy_refollow.jsonl")
    before_close = _until(lines, lambda l: l.get("do") == "snapshot")
    rest = lines[len(before_close):]
    for downgrade in (False, True):
        path = tmp_path / f"refollow-{downgrade}.db"
        with Desk.open(path) as desk:
            for line in before_close:
                assert desk.execute(line).accepted
            assert sorted(record.relation for book in desk.exchange.copy_orders.values() for record in book) == [1, 2]
        if downgrade:  # the database as schema 5 left it
            conn = sqlite3.connect(path)
            conn.executescript("ALTER TABLE copy_orders DROP COLUMN relation; PRAGMA user_version = 5;")
            conn.close()
        with Desk.open(path) as desk:
            assert schema_version(desk.store.conn) == LATEST
            for line in rest:
                assert desk.execute(line).accepted
            pnl = [(r.status, r.cum_realized_pnl) for r in desk.exchange.relations.values()]
        assert pnl == ([("unfollowed", 0), ("active", Decimal("57.95"))] if downgrade else
                       [("unfollowed", Decimal("38.98")), ("active", Decimal("18.97"))])
