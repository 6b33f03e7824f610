"""Weekly settlement (SPEC §7.6, §7.7) on the scenarios copy_profit_share and copy_protected, with
the ledger read back from the database `copydesk replay --strict --db` writes. bob copies alice at
0.1×: every lead order of 0.2 BTC is 0.02 for him; taker fee 0.05%."""
import sqlite3
import subprocess
import sys
from decimal import Decimal

import pytest

from conftest import rejects, run
from copy_scenarios import SCENARIOS, play, position, relation
from engine.clock import parse_time

MONDAY_12, MONDAY_19, MONDAY_26 = "2026-01-12T00:00:00Z", "2026-01-19T00:00:00Z", "2026-01-26T00:00:00Z"


@pytest.fixture(scope="module")
def shared():
    return play("copy_profit_share.jsonl")


@pytest.fixture(scope="module")
def protected():
    return play("copy_protected.jsonl")


def _replayed(name, tmp_path_factory):
    """Run a scenario through `copydesk replay --strict` into a database and open it."""
    db = tmp_path_factory.mktemp("replay") / "replay.db"
    done = subprocess.run([sys.executable, "-m", "app.cli", "replay", str(SCENARIOS / name), "--strict",
                           "--db", str(db)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return sqlite3.connect(db)


def _ledger(conn, entry_type):
    rows = conn.execute("SELECT at_ms, debit, credit, amount FROM ledger WHERE type = ? ORDER BY id", (entry_type,))
    return [(at, debit, credit, Decimal(amount).scaleb(-8)) for at, debit, credit, amount in rows]


def _ms(iso):
    return parse_time(iso)


def test_week_one_profit_is_shared(shared):
    first = shared.snapshots[0]
    # 0.02 × (55,000 − 50,000) = 100, fees 0.5 + 0.55: net 98.95; 10% = 9.895 on Monday 12th.
    assert first["at"] == MONDAY_12
    bob = relation(first, "bob", "alice")
    assert (bob["cum_realized_pnl"], bob["shared_profit"]) == ("98.95", "9.895")
    assert first["users"]["bob"]["copy"]["wallet_balance"] == "5089.055"  # 5,000 + 98.95 − 9.895
    # alice: 50,000 + 0.2 × 5,000 − fees 5 and 5.5 + 9.895.
    assert first["users"]["alice"]["elite"]["wallet_balance"] == "50999.395"
    assert [(n["kind"], n["at"]) for n in first["notifications"] if n["user"] == "bob"] == [("settlement", MONDAY_12)]


def test_only_new_profit_after_a_losing_week_is_shared(shared):
    # Week 2: −100 − 0.55 − 0.5 = −101.05, cumulative −2.1. Week 3: +40 − 0.5 − 0.52 = 38.98, cumulative
    # 36.88: 10% = 3.688 is below the 9.895 already shared, so nothing is due either Monday.
    week2, week3 = shared.snapshots[1], shared.snapshots[2]
    assert (relation(week2, "bob", "alice")["cum_realized_pnl"], relation(week2, "bob", "alice")["shared_profit"]) == (
        "-2.1", "9.895")
    assert (relation(week3, "bob", "alice")["cum_realized_pnl"], relation(week3, "bob", "alice")["shared_profit"]) == (
        "36.88", "9.895")
    assert week3["users"]["bob"]["copy"]["wallet_balance"] == "5026.985"  # 5,089.055 − 101.05 + 38.98
    assert not [n for n in week2["notifications"] + week3["notifications"] if n["kind"] == "settlement"]


def test_unfollow_settles_on_fully_closed_copy_orders_only(shared):
    fourth = shared.snapshots[3]
    # Week 4: +200 − 0.5 − 0.6 = 198.9, cumulative 235.78 → 23.578 due in all, 13.683 more. The copy of
    # the second order is half closed (+10) and does not count.
    bob = relation(fourth, "bob", "alice")
    assert (bob["status"], bob["cum_realized_pnl"], bob["shared_profit"]) == ("unfollowed", "235.78", "23.578")
    open_order = [o for o in fourth["users"]["bob"]["copy"]["copy_orders"] if o["status"] == "open"]
    assert [(o["lead_order"], o["open_qty"], o["realized_pnl"]) for o in open_order] == [("L17", "0.01", "10")]
    # 5,026.985 + 198.9 − 0.6 open fee + 10 − 0.305 close fee − 13.683.
    assert fourth["users"]["bob"]["copy"]["wallet_balance"] == "5221.297"
    assert position(fourth, "bob", "copy", "BTCUSDT", "alice")["qty"] == "0.01"  # unfollow closes nothing
    # Closed by hand after the unfollow, and a Monday later: nothing more is shared.
    assert relation(shared.final, "bob", "alice")["shared_profit"] == "23.578"


def test_profit_share_ledger_moves(shared, tmp_path_factory):
    conn = _replayed("copy_profit_share.jsonl", tmp_path_factory)
    assert _ledger(conn, "profit_share") == [
        (_ms(MONDAY_12), "bob:copy", "alice:elite", Decimal("9.895")),
        (_ms("2026-01-27T03:00:00Z"), "bob:copy", "alice:elite", Decimal("13.683"))]
    rows = conn.execute("SELECT at_ms, net_result, profit_shared, reason FROM settlements ORDER BY seq").fetchall()
    assert [(at, Decimal(net).scaleb(-8), Decimal(paid).scaleb(-8), reason) for at, net, paid, reason in rows] == [
        (_ms(MONDAY_12), Decimal("98.95"), Decimal("9.895"), "weekly"),
        (_ms(MONDAY_19), Decimal("-101.05"), 0, "weekly"),
        (_ms(MONDAY_26), Decimal("38.98"), 0, "weekly"),
        (_ms("2026-01-27T03:00:00Z"), Decimal("198.9"), Decimal("13.683"), "unfollow")]
    assert conn.execute("SELECT sum(balance) FROM wallets").fetchone()[0] == 0


def test_protected_portfolio_requirements(protected):
    # 9,000 of elite equity is not enough; 12,000 is. carol's whole 5,000 would take the copiers past
    # 2,000 collateral ÷ 20% = 10,000 (bob has 6,000 in); 10x is above the 5x cap.
    assert [code for _, code in protected.rejected] == [
        "ELITE_REQUIREMENTS", "FOLLOW_PAUSED_SCALE_LIMIT", "LEVERAGE_NOT_ALLOWED",
        "MANAGED_POSITION", "MANAGED_POSITION", "MANAGED_POSITION"]
    first = protected.snapshots[0]
    assert first["users"]["alice"]["elite"]["collateral"] == "2000"
    # 12,000 − 2,000 collateral − 5 fee on 0.2 × 50,000.
    assert first["users"]["alice"]["elite"]["wallet_balance"] == "9995"
    for copier in ("bob", "carol"):
        held = position(first, copier, "copy", "BTCUSDT", "alice")
        assert (held["qty"], held["leverage"], held["margin"]) == ("0.02", 5, "200")


def test_protected_weekly_loss_is_compensated_from_the_collateral(protected):
    loss, monday = protected.snapshots[1], protected.snapshots[2]
    # −100 − 0.5 − 0.45 = −100.95 each.
    assert loss["users"]["bob"]["copy"]["wallet_balance"] == "5899.05"
    assert relation(loss, "bob", "alice")["cum_realized_pnl"] == "-100.95"
    assert monday["users"]["bob"]["copy"]["wallet_balance"] == "6000"
    assert monday["users"]["carol"]["copy"]["wallet_balance"] == "5000"
    assert monday["users"]["alice"]["elite"]["collateral"] == "1798.1"  # 2,000 − 2 × 100.95
    assert [n["text"] for n in monday["notifications"] if n["user"] == "bob"] == [
        "Weekly settlement with alice: 100.95 USDT compensated from the lead's collateral"]


def test_protected_profit_is_shared_and_the_rebate_released_at_a_new_high(protected):
    final = protected.final
    # Week 2: +200 − 0.45 − 0.55 = 199; 70% = 139.3 to alice. bob: 6,000 + 199 − 139.3.
    assert final["users"]["bob"]["copy"]["wallet_balance"] == "6059.7"
    assert (relation(final, "bob", "alice")["cum_realized_pnl"], relation(final, "bob", "alice")["shared_profit"]) == (
        "98.05", "139.3")
    # alice: 9,995 − 1,000 − 4.5 (week 1), − 4.5 + 2,000 − 5.5 (week 2), + 2 × 139.3 shared
    # + 2 × 1.365 rebate (70% of 0.5 + 0.45 + 0.45 + 0.55).
    assert final["users"]["alice"]["elite"]["wallet_balance"] == "11261.83"
    assert final["users"]["alice"]["elite"]["collateral"] == "1798.1"


def test_protected_ledger_moves(protected, tmp_path_factory):
    conn = _replayed("copy_protected.jsonl", tmp_path_factory)
    assert _ledger(conn, "collateral_lock") == [(_ms("2026-01-05T00:00:00Z"), "alice:elite", "alice:collateral",
                                                Decimal("2000"))]
    assert _ledger(conn, "compensation") == [
        (_ms(MONDAY_12), "alice:collateral", "bob:copy", Decimal("100.95")),
        (_ms(MONDAY_12), "alice:collateral", "carol:copy", Decimal("100.95"))]
    rebates = _ledger(conn, "fee_rebate")
    # Locked as each fee is paid (70% of 0.5, 0.45, 0.45, 0.55 for bob then carol) ...
    locked = [amount for _, debit, credit, amount in rebates if (debit, credit) == ("fees", "alice:rebate_pool")]
    assert locked == [Decimal("0.35")] * 2 + [Decimal("0.315")] * 4 + [Decimal("0.385")] * 2
    # ... and released only at the new high, on the 19th.
    assert [(at, debit, credit, amount) for at, debit, credit, amount in rebates if debit == "alice:rebate_pool"] == [
        (_ms(MONDAY_19), "alice:rebate_pool", "alice:elite", Decimal("1.365")),
        (_ms(MONDAY_19), "alice:rebate_pool", "alice:elite", Decimal("1.365"))]
    assert _ledger(conn, "profit_share") == [(_ms(MONDAY_19), "bob:copy", "alice:elite", Decimal("139.3")),
                                             (_ms(MONDAY_19), "carol:copy", "alice:elite", Decimal("139.3"))]


def test_a_protected_lead_trades_its_lead_symbols_at_5x_at_most(exchange):
    run(exchange, {"do": "price", "symbol": "BTCUSDT", "mark": "50000"},
        {"do": "price", "symbol": "ETHUSDT", "mark": "2500"},
        {"do": "user", "name": "alice"}, {"do": "deposit", "user": "alice", "amount": "12000"},
        {"do": "become_elite", "user": "alice", "symbols": ["BTCUSDT"]},
        {"do": "transfer", "user": "alice", "from": "funding", "to": "elite", "amount": "12000"},
        {"do": "become_elite", "user": "alice", "symbols": ["BTCUSDT"], "mode": "protected", "collateral": "2000"})
    order = {"do": "order", "user": "alice", "account": "elite", "symbol": "BTCUSDT", "side": "buy", "qty": "0.01"}
    rejects(exchange, order | {"leverage": 6}, "LEVERAGE_NOT_ALLOWED")
    rejects(exchange, {"do": "leverage", "user": "alice", "account": "elite", "symbol": "BTCUSDT", "leverage": 6},
            "LEVERAGE_NOT_ALLOWED")
    # Becoming protected set the lead symbols' default from 10x down to 5x: an order without a
    # leverage field is allowed, and runs at 5x.
    run(exchange, order, order | {"leverage": 5})
    held = exchange.accounts["alice:elite"].positions[("BTCUSDT", "")]
    assert (held.qty, held.leverage) == (Decimal("0.02"), 5)
    # ETH is not a lead symbol: it is not part of the protected portfolio.
    run(exchange, order | {"symbol": "ETHUSDT", "qty": "1", "leverage": 10})
