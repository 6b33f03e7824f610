"""Lead metrics through the engine: broadcast rule, investment, NAV across transfers, periods."""
from decimal import Decimal as D

import pytest

from conftest import run


def at(hhmm: str, day: int = 5) -> str:
    return f"2026-01-{day:02d}T{hhmm}:00Z"


@pytest.fixture
def world(exchange):
    run(exchange,
        {"do": "config", "slippage_bps": "0", "impact_bps": "0", "taker_fee": "0", "maker_fee": "0"},
        {"do": "price", "symbol": "BTCUSDT", "mark": "10000"},
        {"do": "user", "name": "alice"}, {"do": "deposit", "user": "alice", "amount": "20000"},
        {"do": "become_elite", "user": "alice", "symbols": ["BTCUSDT"]},
        {"do": "transfer", "user": "alice", "from": "funding", "to": "elite", "amount": "10000"},
        {"do": "user", "name": "bob"}, {"do": "deposit", "user": "bob", "amount": "1000"},
        {"do": "transfer", "user": "bob", "from": "funding", "to": "copy", "amount": "1000"},
        {"do": "follow", "user": "bob", "lead": "alice", "mode": "ratio", "ratio": "0.1"},
        # Day 1: a +100 lead order held one hour (1 BTC 10,000 → 10,100).
        {"do": "order", "user": "alice", "account": "elite", "symbol": "BTCUSDT", "side": "buy", "qty": "1",
         "at": at("01:00")},
        {"do": "price", "symbol": "BTCUSDT", "mark": "10100", "at": at("02:00")},
        {"do": "close", "user": "alice", "account": "elite", "symbol": "BTCUSDT"})
    return exchange


def leads(exchange, period="all"):
    return run(exchange, {"do": "snapshot", "of": ["leads", "copy"], "period": period})


def test_a_trade_under_500_equity_counts_in_win_rate_but_is_not_copied(world):
    copied = leads(world)["copy"]["outcomes"]
    assert [(o["kind"], o["status"]) for o in copied] == [("open", "filled"), ("close", "filled")]
    # Day 2: 9,700 leaves the elite account: equity 10,100 − 9,700 = 400 < 500, so the next trade is not broadcast.
    run(world, {"do": "transfer", "user": "alice", "from": "elite", "to": "funding", "amount": "9700",
                "at": at("03:00", 6)},
        {"do": "order", "user": "alice", "account": "elite", "symbol": "BTCUSDT", "side": "buy", "qty": "0.01"},
        {"do": "price", "symbol": "BTCUSDT", "mark": "10000", "at": at("04:00", 6)},
        {"do": "close", "user": "alice", "account": "elite", "symbol": "BTCUSDT"})  # −1 on 0.01 BTC
    snapshot = leads(world)
    assert snapshot["copy"]["outcomes"] == []  # nothing copied
    alice = snapshot["leads"]["alice"]
    assert alice["win_rate"] == "0.5" and alice["gainers"] == 1 and alice["losers"] == 1
    assert alice["avg_holding_seconds"] == 3600
    assert alice["lead_pnl"] == "100"            # lead orders only: the unbroadcast −1 is not a lead order
    assert alice["investment"] == "10000"        # out 9,700 goes to C; investment unchanged
    assert alice["pnl_pct"] == "0.01"            # 100 / 10,000
    assert alice["copiers"] == 1 and alice["capacity"] == 1000


def test_daily_nav_ignores_the_withdrawal_and_follows_trading_only(world):
    run(world, {"do": "transfer", "user": "alice", "from": "elite", "to": "funding", "amount": "9700",
                "at": at("03:00", 6)},
        {"do": "order", "user": "alice", "account": "elite", "symbol": "BTCUSDT", "side": "buy", "qty": "0.01"},
        {"do": "price", "symbol": "BTCUSDT", "mark": "10000", "at": at("04:00", 6)},
        {"do": "close", "user": "alice", "account": "elite", "symbol": "BTCUSDT"},
        {"do": "advance", "to": at("00:30", 7)})
    daily = world.lead_history["alice"].daily
    assert [p.equity for p in daily] == [D(10100), D(399)]
    assert [p.net_transfer for p in daily] == [D(10000), D(-9700)]
    # NAV₂ = 1 × (399 − (−9,700)) / 10,100 = 10,099 / 10,100: only the −1 trading loss moved it,
    # while equity itself fell 96%.
    assert daily[1].nav == (D(10099) / D(10100)).quantize(D("1e-12"))
    alice = leads(world)["leads"]["alice"]
    assert D(alice["max_drawdown"]) == (1 - D(10099) / D(10100)).quantize(D("1e-8"))


def test_periods_only_count_their_own_trades(world):
    run(world, {"do": "advance", "to": "2026-01-20T00:00:00Z"},
        {"do": "order", "user": "alice", "account": "elite", "symbol": "BTCUSDT", "side": "sell", "qty": "1"},
        {"do": "price", "symbol": "BTCUSDT", "mark": "10000", "at": "2026-01-20T06:00:00Z"},
        {"do": "close", "user": "alice", "account": "elite", "symbol": "BTCUSDT"})  # short 10,100 → 10,000: +100
    week = leads(world, "7d")["leads"]["alice"]
    ever = leads(world, "all")["leads"]["alice"]
    assert (week["lead_pnl"], week["gainers"]) == ("100", 1)
    assert (ever["lead_pnl"], ever["gainers"]) == ("200", 2)
    # 7 D investment starts at the equity of the daily point at its start, 2026-01-13: 10,100 plus the
    # 1 USDT profit share Bob paid at Monday's settlement (10% of his +10 copy), with no transfers since.
    assert week["investment"] == "10101"
    assert ever["profit_share_earned"] == "1"


def test_daily_series_survive_a_restart(tmp_path):
    from storage.desk import Desk
    with Desk.open(tmp_path / "m.db") as desk:
        for line in [{"do": "price", "symbol": "BTCUSDT", "mark": "10000"}, {"do": "user", "name": "al"},
                     {"do": "deposit", "user": "al", "amount": "1000"},
                     {"do": "become_elite", "user": "al", "symbols": ["BTCUSDT"]},
                     {"do": "transfer", "user": "al", "from": "funding", "to": "elite", "amount": "1000"},
                     {"do": "advance", "by": "3d"}]:
            assert desk.execute(line).accepted
        before = [p.row() for p in desk.exchange.lead_history["al"].daily]
        state = desk.state_hash()
    with Desk.open(tmp_path / "m.db") as desk:
        assert [p.row() for p in desk.exchange.lead_history["al"].daily] == before and len(before) == 3
        assert desk.state_hash() == state
