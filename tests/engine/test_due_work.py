"""Work due at the same instant all runs: funding at 00:00 is not pushed past by the daily series."""
from decimal import Decimal as D

from conftest import balance, run


def test_funding_at_midnight_runs_beside_the_daily_series(exchange):
    run(exchange,
        {"do": "config", "slippage_bps": "0", "impact_bps": "0", "taker_fee": "0"},
        {"do": "user", "name": "alice"}, {"do": "deposit", "user": "alice", "amount": "5000"},
        {"do": "become_elite", "user": "alice", "symbols": ["BTCUSDT"]},
        {"do": "transfer", "user": "alice", "from": "funding", "to": "elite", "amount": "5000"},
        {"do": "price", "symbol": "BTCUSDT", "mark": "50000", "at": "2026-01-05T17:00:00Z"},
        {"do": "order", "user": "alice", "account": "elite", "symbol": "BTCUSDT", "side": "buy", "qty": "0.2",
         "margin_mode": "cross"},
        {"do": "funding_rate", "symbol": "BTCUSDT", "rate": "0.0001"},
        {"do": "advance", "to": "2026-01-06T00:30:00Z"})
    # 0.2 × 50,000 × 0.0001 = 1 USDT paid by the long at 00:00, from the cross wallet.
    assert balance(exchange, "alice", "elite") == D("4999")
    assert [p.day_ms for p in exchange.lead_history["alice"].daily] == [1767657600000]  # 2026-01-06 00:00
