"""The ticket's preview is the engine's own arithmetic: the liquidation price it shows is the one the
position gets."""
from decimal import Decimal as D

from conftest import run
from engine.previews import preview_order


def world(exchange):
    run(exchange, {"do": "config", "slippage_bps": "0", "impact_bps": "0", "taker_fee": "0"},
        {"do": "price", "symbol": "BTCUSDT", "mark": "10000"}, {"do": "price", "symbol": "ETHUSDT", "mark": "1000"},
        {"do": "user", "name": "al"}, {"do": "deposit", "user": "al", "amount": "5000"},
        {"do": "transfer", "user": "al", "from": "funding", "to": "futures", "amount": "5000"})


def test_isolated_preview_matches_the_opened_position(exchange):
    world(exchange)
    preview = preview_order(exchange, "al", "futures", "BTCUSDT", 1, D("1"))
    assert (preview["margin"], preview["cost"]) == (D(1000), D(1000))
    run(exchange, {"do": "order", "user": "al", "account": "futures", "symbol": "BTCUSDT", "side": "buy", "qty": "1"})
    assert exchange.accounts["al:futures"].positions[("BTCUSDT", "")].liquidation_price == preview["liquidation_price"]


def test_cross_preview_counts_the_other_cross_positions(exchange):
    world(exchange)
    run(exchange, {"do": "order", "user": "al", "account": "futures", "symbol": "ETHUSDT", "side": "sell", "qty": "5",
                   "margin_mode": "cross"})
    preview = preview_order(exchange, "al", "futures", "BTCUSDT", 1, D("1"), margin_mode="cross")
    run(exchange, {"do": "order", "user": "al", "account": "futures", "symbol": "BTCUSDT", "side": "buy", "qty": "1",
                   "margin_mode": "cross"})
    assert exchange.accounts["al:futures"].positions[("BTCUSDT", "")].liquidation_price == preview["liquidation_price"]
