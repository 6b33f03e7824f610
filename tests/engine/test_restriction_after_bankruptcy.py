"""SPEC §6: a liquidation that ends in negative equity puts the account under the reduce-only restriction."""
from decimal import Decimal as D

from conftest import balance, rejects, run


def test_a_cross_bankruptcy_restricts_the_account(exchange):
    run(exchange, {"do": "config", "slippage_bps": "0", "impact_bps": "0", "taker_fee": "0", "liquidation_fee": "0"},
        {"do": "price", "symbol": "BTCUSDT", "mark": "10000"},
        {"do": "user", "name": "al"}, {"do": "deposit", "user": "al", "amount": "1000"},
        {"do": "transfer", "user": "al", "from": "funding", "to": "futures", "amount": "1000"},
        {"do": "order", "user": "al", "account": "futures", "symbol": "BTCUSDT", "side": "buy", "qty": "1",
         "leverage": 10, "margin_mode": "cross"},
        # A gap to 8,000: the loss of 2,000 is twice the 1,000 wallet; the fund pays the 1,000 deficit.
        {"do": "price", "symbol": "BTCUSDT", "mark": "8000"})
    futures = exchange.accounts["al:futures"]
    assert futures.positions == {} and balance(exchange, "al", "futures") == 0
    assert exchange.ledger.balance("insurance_fund") == D(1_000_000) - D(1000)
    assert futures.restricted
    assert any(n.kind == "restriction" for n in exchange.unreported["notifications"])
    run(exchange, {"do": "deposit", "user": "al", "amount": "500"},
        {"do": "transfer", "user": "al", "from": "funding", "to": "futures", "amount": "500"})
    rejects(exchange, {"do": "order", "user": "al", "account": "futures", "symbol": "BTCUSDT", "side": "buy",
                       "qty": "0.01"}, "RISK_RESTRICTED")


def test_an_isolated_liquidation_within_its_margin_does_not_restrict(exchange):
    run(exchange, {"do": "config", "slippage_bps": "0", "impact_bps": "0", "taker_fee": "0"},
        {"do": "price", "symbol": "BTCUSDT", "mark": "10000"},
        {"do": "user", "name": "al"}, {"do": "deposit", "user": "al", "amount": "1000"},
        {"do": "transfer", "user": "al", "from": "funding", "to": "futures", "amount": "1000"},
        {"do": "order", "user": "al", "account": "futures", "symbol": "BTCUSDT", "side": "buy", "qty": "0.5"},
        {"do": "price", "symbol": "BTCUSDT", "mark": "9000"})  # LP 9,036.14: liquidated, margin 500 lost
    assert exchange.accounts["al:futures"].positions == {}
    assert not exchange.accounts["al:futures"].restricted
