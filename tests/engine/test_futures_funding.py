"""Funding (SPEC §6): who pays, when, from where, and at which rate."""
from decimal import Decimal

import pytest

from conftest import balance, run
from engine.funding import FundingPayment, simulated_rate

D = Decimal


def at(time):
    return f"2026-01-05T{time}:00Z"


def order(user="alice", **fields):
    return {"do": "order", "user": user, "account": "futures", "symbol": "BTCUSDT", "qty": "1", **fields}


def close(user="alice", symbol="BTCUSDT", **fields):
    return {"do": "close", "user": user, "account": "futures", "symbol": symbol, **fields}


def payments(exchange):
    return [(p.account, p.symbol, p.amount, p.at_ms) for p in exchange.changes.appended.get(FundingPayment, [])]


@pytest.fixture
def ex(exchange):
    """alice and bob with 10,000 USDT each in Futures; no fees, no slippage; BTCUSDT and SOLUSDT priced."""
    run(exchange, {"do": "config", "slippage_bps": "0", "impact_bps": "0", "taker_fee": "0", "maker_fee": "0"})
    for name in ("alice", "bob"):
        run(exchange, {"do": "user", "name": name}, {"do": "deposit", "user": name, "amount": "10000"},
            {"do": "transfer", "user": name, "from": "funding", "to": "futures", "amount": "10000"})
    run(exchange, {"do": "price", "symbol": "BTCUSDT", "mark": "10000"},
        {"do": "price", "symbol": "SOLUSDT", "mark": "100"})
    return exchange


def test_a_position_open_across_the_funding_time_pays(ex):
    run(ex, {**order(side="buy"), "at": at("07:59")},
        {"do": "funding_rate", "symbol": "BTCUSDT", "rate": "0.0001"},
        {**close(), "at": at("08:01")})
    # 1 × 10,000 × 0.01% = 1 USDT paid by the long at 08:00.
    assert payments(ex) == [("alice:futures", "BTCUSDT", D(-1), 1767600000000)]
    assert balance(ex, "alice", "futures") == D(9999)
    assert ex.ledger.balance("market") == D(1)


def test_a_position_closed_before_the_funding_time_does_not_pay(ex):
    run(ex, {**order(side="buy"), "at": at("07:00")},
        {"do": "funding_rate", "symbol": "BTCUSDT", "rate": "0.0001"},
        {**close(), "at": at("07:59")},
        {"do": "advance", "to": at("08:01")})
    assert payments(ex) == []
    assert balance(ex, "alice", "futures") == D(10000)


def test_a_position_opened_after_the_funding_time_does_not_pay(ex):
    run(ex, {"do": "funding_rate", "symbol": "BTCUSDT", "rate": "0.0001"},
        {**order(side="buy"), "at": "2026-01-05T08:00:01Z"},
        {"do": "advance", "to": at("15:59")})
    assert payments(ex) == []


def test_isolated_pays_from_its_margin_and_cross_from_the_wallet(ex):
    run(ex, order(side="buy", leverage=10, margin_mode="isolated"),
        order(user="bob", side="sell", leverage=10, margin_mode="cross"),
        {"do": "funding_rate", "symbol": "BTCUSDT", "rate": "0.0005"},
        {"do": "price", "symbol": "BTCUSDT", "mark": "10200"},
        {"do": "advance", "to": at("08:00")})
    # 1 × 10,200 × 0.05% = 5.1: the long pays it out of its 1,000 margin, the short receives it.
    alice = ex.accounts["alice:futures"].positions[("BTCUSDT", "")]
    assert alice.margin == D("994.9")
    assert balance(ex, "alice", "futures") == D("9994.9")
    assert balance(ex, "bob", "futures") == D("10005.1")
    assert ex.ledger.balance("market") == 0 and ex.ledger_sum() == 0
    # The isolated liquidation price moved with the margin: (994.9 − 10,000) / (0.004 − 1).
    assert alice.liquidation_price == D("9041.26506024")


def test_a_negative_rate_makes_shorts_pay(ex):
    run(ex, order(side="sell"), {"do": "funding_rate", "symbol": "BTCUSDT", "rate": "-0.0002"},
        {"do": "advance", "to": at("08:00")})
    # −1 × 10,000 × −0.02% = −2: the short pays 2.
    assert payments(ex) == [("alice:futures", "BTCUSDT", D(-2), 1767600000000)]


def test_a_set_rate_applies_once_then_the_simulated_rate(ex):
    run(ex, order(side="buy"), {"do": "funding_rate", "symbol": "BTCUSDT", "rate": "0.001"},
        {"do": "advance", "to": at("16:00")})
    # 08:00 at the set 0.1%: 10; 16:00 at the simulated rate (mark = index → 0.01%): 1.
    assert [p[2] for p in payments(ex)] == [D(-10), D(-1)]


def test_funding_times_are_8_hourly_for_btc_and_4_hourly_for_sol(ex):
    run(ex, order(side="buy"), order(symbol="SOLUSDT", side="buy", qty="10"),
        {"do": "advance", "to": "2026-01-06T00:00:00Z"})
    hours = lambda symbol: [(at_ms - 1767571200000) // 3600000 for _, s, _, at_ms in payments(ex) if s == symbol]
    assert hours("BTCUSDT") == [8, 16, 24]
    assert hours("SOLUSDT") == [4, 8, 12, 16, 20, 24]
    # SOL: 10 × 100 × 0.01% = 0.1 each time.
    assert {p[2] for p in payments(ex) if p[1] == "SOLUSDT"} == {D("-0.1")}


@pytest.mark.parametrize("mark, index, rate", [
    ("10000", "10000", "0.0001"),    # P = 0: 0 + clamp(0.01%) = 0.01%
    ("10003", "10000", "0.0001"),    # P = 0.03%: 0.03% + clamp(−0.02%) = 0.01%
    ("10010", "10000", "0.0005"),    # P = 0.1%: 0.1% + clamp(−0.09% → −0.05%) = 0.05%
    ("9990", "10000", "-0.0005"),    # P = −0.1%: −0.1% + clamp(0.11% → 0.05%) = −0.05%
    ("10007", "10000", "0.0002"),    # P = 0.07%: 0.07% + clamp(−0.06% → −0.05%) = 0.02%
])
def test_simulated_rate(mark, index, rate):
    assert simulated_rate(D(mark), D(index)) == D(rate)


def test_the_simulated_rate_is_charged_from_mark_and_index(ex):
    run(ex, order(side="buy"), {"do": "price", "symbol": "BTCUSDT", "mark": "10010", "index": "10000"},
        {"do": "advance", "to": at("08:00")})
    # Rate 0.05% (capped) on 1 × 10,010: 5.005.
    assert payments(ex)[0][2] == D("-5.005")


def test_cross_funding_never_takes_the_wallet_below_the_isolated_margins(exchange):
    run(exchange, {"do": "config", "slippage_bps": "0", "impact_bps": "0"},
        {"do": "user", "name": "alice"}, {"do": "deposit", "user": "alice", "amount": "1105.5"},
        {"do": "transfer", "user": "alice", "from": "funding", "to": "futures", "amount": "1105.5"},
        {"do": "price", "symbol": "BTCUSDT", "mark": "10000"}, {"do": "price", "symbol": "ETHUSDT", "mark": "2000"},
        # Cross BTC: margin 1,000 + fee 5; isolated ETH: margin 100 + fee 0.5 → wallet 1,100, nothing available.
        order(side="buy", leverage=10, margin_mode="cross"),
        order(symbol="ETHUSDT", side="buy", qty="0.5", leverage=10, margin_mode="isolated"),
        {"do": "price", "symbol": "BTCUSDT", "mark": "20000"},
        {"do": "funding_rate", "symbol": "BTCUSDT", "rate": "0.1"},
        {"do": "funding_rate", "symbol": "ETHUSDT", "rate": "0"},
        {"do": "advance", "to": at("08:00")})
    # The BTC long owes 1 × 20,000 × 10% = 2,000; the wallet has 1,100, of which 100 is the ETH position's
    # margin: it pays 1,000 and keeps 100. Its 10,000 unrealized profit keeps it far from liquidation.
    assert payments(exchange)[0] == ("alice:futures", "BTCUSDT", D(-1000), 1767600000000)
    assert balance(exchange, "alice", "futures") == D(100)
    positions = exchange.accounts["alice:futures"].positions
    assert set(positions) == {("BTCUSDT", ""), ("ETHUSDT", "")} and positions[("ETHUSDT", "")].margin == D(100)
