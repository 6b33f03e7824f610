"""Liquidation prices through real orders (SPEC §4 worked figures), cross accounts, margin adjustment."""
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, localcontext

import pytest

from conftest import balance, run
from engine.instruments import DEFAULT_INSTRUMENTS
from engine.money import QUANTUM
from engine.snapshot import build_snapshot

D = Decimal
BTC, ETH = DEFAULT_INSTRUMENTS["BTCUSDT"], DEFAULT_INSTRUMENTS["ETHUSDT"]
SETUP = [
    {"do": "config", "slippage_bps": "0", "impact_bps": "0"},
    {"do": "user", "name": "alice"},
    {"do": "deposit", "user": "alice", "amount": "4000"},
    {"do": "transfer", "user": "alice", "from": "funding", "to": "futures", "amount": "4000"},
    {"do": "price", "symbol": "BTCUSDT", "mark": "10000"},
    {"do": "price", "symbol": "ETHUSDT", "mark": "2000"},
]


def order(**fields):
    return {"do": "order", "user": "alice", "account": "futures", "symbol": "BTCUSDT", **fields}


def positions(exchange, user="alice"):
    view = build_snapshot(exchange, ("users",))["users"][user]["futures"]
    return {p["symbol"]: p for p in view["positions"]}


def accept(desk, *lines):
    for line in lines:
        outcome = desk.execute(line)
        assert outcome.accepted, (line, outcome.code, outcome.message)


# --- isolated: the spec's worked figures through real orders ------------------------------------

@pytest.mark.parametrize("side, expected, rounded", [("buy", "9036.14457831", "9036.14"),
                                                     ("sell", "10956.17529881", "10956.18")])
def test_isolated_liquidation_price_of_the_spec_example(exchange, side, expected, rounded):
    run(exchange, *SETUP, order(side=side, qty="1", leverage=10, margin_mode="isolated"))
    view = positions(exchange)["BTCUSDT"]
    # 1 BTC at 10,000, 10x: margin 10,000 / 10 = 1,000 (the 5 USDT fee comes from the wallet).
    assert (view["entry_price"], view["margin"], view["maintenance_margin"]) == ("10000", "1000", "40")
    # long:  (1,000 − 10,000) / (0.004 − 1) = 9,036.1445783…
    # short: (1,000 + 10,000) / (0.004 + 1) = 10,956.1752988…
    assert view["liquidation_price"] == expected
    assert D(view["liquidation_price"]).quantize(D("0.01")) == D(rounded)
    assert balance(exchange, "alice", "futures") == D("3995")


def test_isolated_position_is_liquidated_at_its_price_and_not_one_tick_before(exchange):
    run(exchange, *SETUP, order(side="buy", qty="1", leverage=10))
    run(exchange, {"do": "price", "symbol": "BTCUSDT", "mark": "9036.14457832"})  # 1e-8 above LP
    assert "BTCUSDT" in positions(exchange)
    run(exchange, {"do": "price", "symbol": "BTCUSDT", "mark": "9036.14457831"})
    assert positions(exchange) == {}
    # The whole margin is gone: 3,995 − 1,000.
    assert balance(exchange, "alice", "futures") == D("2995")


def test_adding_and_removing_margin_moves_the_liquidation_price(exchange):
    run(exchange, *SETUP, order(side="buy", qty="1", leverage=10))
    result = run(exchange, {"do": "margin", "user": "alice", "account": "futures", "symbol": "BTCUSDT",
                            "delta": "500"})
    # (1,500 − 10,000) / −0.996 = 8,534.136546184…
    assert result == {"margin": "1500", "liquidation_price": "8534.13654618"}
    assert positions(exchange)["BTCUSDT"]["liquidation_price"] == "8534.13654618"
    run(exchange, {"do": "margin", "user": "alice", "account": "futures", "symbol": "BTCUSDT", "delta": "-400"})
    # (1,100 − 10,000) / −0.996 = 8,935.742971887…
    assert positions(exchange)["BTCUSDT"]["liquidation_price"] == "8935.74297188"
    # Margin is an allocation inside the wallet: the wallet only paid the 5 USDT fee.
    assert balance(exchange, "alice", "futures") == D("3995")


# --- cross: the other cross positions of the account count ----------------------------------------

def spec_lp(instrument, side, qty, entry, wallet, other_mm, other_upnl):
    """SPEC §4: LP = (WB − TMM₁ + UPNL₁ + cum − side·Q·EP) / (Q·MMR − side·Q), tier of the LP notional."""
    with localcontext(prec=50):
        for tier in instrument.tiers:
            lp = (wallet - other_mm + other_upnl + tier.cum - side * qty * entry) / (qty * tier.mmr - side * qty)
            if instrument.tier_for(lp * qty) == tier:
                return lp


def test_cross_liquidation_prices_account_for_the_other_cross_position(desk):
    accept(desk, *SETUP,
           order(side="buy", qty="1", leverage=10, margin_mode="cross"),                       # fee 5
           order(symbol="ETHUSDT", side="sell", qty="10", leverage=20, margin_mode="cross"),   # fee 10
           {"do": "price", "symbol": "ETHUSDT", "mark": "2100"})
    exchange = desk.exchange
    view = positions(exchange)
    wallet = D("3985")  # 4,000 − 5 − 10
    assert balance(exchange, "alice", "futures") == wallet
    # BTC long: the others are the ETH short at mark 2,100: uPnL −10 × 100 = −1,000, MM 21,000 × 0.5% = 105.
    #   LP = (3,985 − 105 − 1,000 + 0 − 10,000) / (0.004 − 1) = −7,120 / −0.996 = 7,148.594377510…
    btc = spec_lp(BTC, 1, D(1), D(10000), wallet, D(105), D(-1000))
    assert btc.quantize(QUANTUM, rounding=ROUND_FLOOR) == D("7148.59437751")  # a long rounds down
    assert view["BTCUSDT"]["liquidation_price"] == "7148.59437751"
    # ETH short: the others are the BTC long at mark 10,000: uPnL 0, MM 10,000 × 0.4% = 40.
    #   LP = (3,985 − 40 + 0 + 0 + 20,000) / (0.05 + 10) = 23,945 / 10.05 = 2,382.587064676…
    eth = spec_lp(ETH, -1, D(10), D(2000), wallet, D(40), D(0))
    assert view["ETHUSDT"]["liquidation_price"] == "2382.58706468" == str(eth.quantize(QUANTUM, ROUND_CEILING))
    # Each position alone would show another price: the BTC long by itself at (3,985 − 10,000) / −0.996.
    assert spec_lp(BTC, 1, D(1), D(10000), wallet, D(0), D(0)).quantize(QUANTUM, ROUND_FLOOR) == D("6039.15662650")


def test_cross_liquidation_prices_follow_the_other_symbols_mark(desk):
    accept(desk, *SETUP,
           order(side="buy", qty="1", leverage=10, margin_mode="cross"),
           order(symbol="ETHUSDT", side="sell", qty="10", leverage=20, margin_mode="cross"),
           {"do": "price", "symbol": "ETHUSDT", "mark": "2100"},
           {"do": "price", "symbol": "ETHUSDT", "mark": "2200"})
    # ETH at 2,200: uPnL −2,000, MM 22,000 × 0.5% = 110.
    #   BTC LP = (3,985 − 110 − 2,000 − 10,000) / −0.996 = 8,125 / 0.996 = 8,157.630522088…
    assert positions(desk.exchange)["BTCUSDT"]["liquidation_price"] == "8157.63052208"
    # BTC to 9,000: the ETH short's others: uPnL −1,000, MM 36.
    #   ETH LP = (3,985 − 36 − 1,000 + 20,000) / 10.05 = 22,949 / 10.05 = 2,283.482587064…, rounded up.
    accept(desk, {"do": "price", "symbol": "BTCUSDT", "mark": "9000"})
    assert positions(desk.exchange)["ETHUSDT"]["liquidation_price"] == "2283.48258707"


def test_the_cross_account_is_liquidated_at_the_shown_price(desk):
    accept(desk, *SETUP,
           order(side="buy", qty="1", leverage=10, margin_mode="cross"),
           order(symbol="ETHUSDT", side="sell", qty="10", leverage=20, margin_mode="cross"),
           {"do": "price", "symbol": "ETHUSDT", "mark": "2100"})
    # Just under the ETH short's LP 2,382.58706468: still alive.
    accept(desk, {"do": "price", "symbol": "ETHUSDT", "mark": "2382.58706467"})
    assert set(positions(desk.exchange)) == {"BTCUSDT", "ETHUSDT"}
    accept(desk, {"do": "price", "symbol": "ETHUSDT", "mark": "2382.58706468"})
    # Margin balance 3,985 − 10 × 382.58706468 = 159.1293532 = MM 40 + 23,825.8706468 × 0.5%: liquidated.
    # The largest position (ETH) goes first: realized −3,825.8706468, fee 0.5% × 23,825.8706468
    # = 119.12935323 → wallet 40.0000000 = the BTC long's MM, so the BTC long follows at 10,000 with
    # fee 0.3% × 10,000 = 30.
    liquidations = build_snapshot(desk.exchange, ("liquidations",))["liquidations"]
    assert [(r["symbol"], r["qty"], r["price"], r["fee"], r["kind"]) for r in liquidations] == [
        ("ETHUSDT", "10", "2382.58706468", "119.12935323", "full"),
        ("BTCUSDT", "1", "10000", "30", "full")]
    assert positions(desk.exchange) == {}
    # 3,985 − 3,825.8706468 − 119.12935323 − 30 = 9.99999997
    assert balance(desk.exchange, "alice", "futures") == D("9.99999997")


def test_a_resting_order_moves_the_cross_liquidation_price(desk):
    accept(desk, *SETUP, order(side="buy", qty="1", leverage=10, margin_mode="cross"))
    # Wallet 3,995: LP = (3,995 − 10,000) / −0.996 = 6,029.116465863…
    assert positions(desk.exchange)["BTCUSDT"]["liquidation_price"] == "6029.11646586"
    accept(desk, order(symbol="ETHUSDT", side="buy", qty="1", type="limit", price="1000", leverage=10,
                       margin_mode="cross", client_id="bid"))
    # The bid reserves 100 margin + 0.2 maker fee: (3,995 − 100.2 − 10,000) / −0.996 = 6,129.718875502…
    assert positions(desk.exchange)["BTCUSDT"]["liquidation_price"] == "6129.7188755"
    accept(desk, {"do": "cancel", "user": "alice", "account": "futures", "client_id": "bid"})
    assert positions(desk.exchange)["BTCUSDT"]["liquidation_price"] == "6029.11646586"


def test_new_tiers_move_the_liquidation_price_of_open_positions(desk):
    accept(desk, *SETUP, order(side="buy", qty="1", leverage=10))
    assert positions(desk.exchange)["BTCUSDT"]["liquidation_price"] == "9036.14457831"
    accept(desk, {"do": "instrument", "symbol": "BTCUSDT",
                  "tiers": [{"max_notional": "1000000", "max_leverage": 10, "mmr": "0.05"}]})
    # MMR 5%: (1,000 − 10,000) / (0.05 − 1) = 9,473.684210526…
    assert positions(desk.exchange)["BTCUSDT"]["liquidation_price"] == "9473.68421052"
    # MMR 11%: MM 1,100 > margin 1,000 at the current mark: liquidated at once.
    accept(desk, {"do": "instrument", "symbol": "BTCUSDT",
                  "tiers": [{"max_notional": "1000000", "max_leverage": 9, "mmr": "0.11"}]})
    assert positions(desk.exchange) == {}
    [record] = build_snapshot(desk.exchange, ("liquidations",))["liquidations"]
    assert (record["kind"], record["price"]) == ("full", "10000")
