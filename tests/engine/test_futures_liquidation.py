"""Liquidation, insurance fund and ADL (SPEC §5) on the default instruments, with hand-checked figures."""
from decimal import Decimal

from conftest import balance, run
from engine.snapshot import build_snapshot

D = Decimal


def setup(exchange, deposits, fund=None):
    config = {"do": "config", "slippage_bps": "0", "impact_bps": "0"}
    if fund is not None:
        config["insurance_fund"] = fund
    run(exchange, config)
    for user, amount in deposits.items():
        run(exchange, {"do": "user", "name": user}, {"do": "deposit", "user": user, "amount": amount},
            {"do": "transfer", "user": user, "from": "funding", "to": "futures", "amount": amount})


def order(user, symbol, side, qty, **fields):
    return {"do": "order", "user": user, "account": "futures", "symbol": symbol, "side": side, "qty": qty, **fields}


def price(symbol, mark):
    return {"do": "price", "symbol": symbol, "mark": mark}


def position(exchange, user, symbol):
    return exchange.accounts[f"{user}:futures"].positions.get((symbol, ""))


def test_partial_liquidation_of_a_100x_btc_position_keeps_the_rest_healthy(exchange):
    setup(exchange, {"alice": "10000"})
    run(exchange, price("BTCUSDT", "10000"), order("alice", "BTCUSDT", "buy", "25", leverage=100))
    # 250,000 notional is tier 2 (100x, MMR 0.5%, cum 50): margin 2,500, fee 125.
    # LP = (2,500 + 50 − 250,000) / (0.125 − 25) = 247,450 / 24.875 = 9,947.738693467…
    assert position(exchange, "alice", "BTCUSDT").liquidation_price == D("9947.73869346")
    run(exchange, price("BTCUSDT", "9947.7"))
    # Cut to the first tier: keep floor(50,000 / 9,947.7) = 5.026 (step 0.001), close 19.974 at 9,947.7:
    #   realized 19.974 × −52.3 = −1,044.6402; margin released 2,500 × 19.974 / 25 = 1,997.4;
    #   fee 0.3% × 19.974 × 9,947.7 = 596.0860794, paid from what the released margin had left
    #   (1,997.4 − 1,044.6402 = 952.7598): the remaining 5.026 keep their 502.6.
    [record] = build_snapshot(exchange, ("liquidations",))["liquidations"]
    assert (record["kind"], record["qty"], record["price"], record["fee"]) == ("partial", "19.974", "9947.7",
                                                                               "596.0860794")
    rest = position(exchange, "alice", "BTCUSDT")
    assert (rest.qty, rest.margin) == (D("5.026"), D("502.6"))
    # Healthy: 502.6 − 5.026 × 52.3 = 239.7402 > MM 49,997.1402 × 0.4% = 199.9885608.
    # New LP (tier 1) = (502.6 − 50,260) / (0.020104 − 5.026) = 49,757.4 / 5.005896 = 9,939.759036…
    assert rest.liquidation_price == D("9939.75903614")
    # Wallet 10,000 − 125 − 1,044.6402 − 596.0860794.
    assert balance(exchange, "alice", "futures") == D("8234.2737206")
    assert exchange.ledger_sum() == 0


def test_a_cross_loss_never_takes_the_margin_of_an_isolated_position(exchange):
    setup(exchange, {"alice": "3000"})
    run(exchange, price("BTCUSDT", "10000"), price("ETHUSDT", "2000"),
        order("alice", "ETHUSDT", "buy", "5", leverage=10, margin_mode="isolated"),   # margin 1,000, fee 5
        order("alice", "BTCUSDT", "buy", "1", leverage=10, margin_mode="cross"))      # fee 5 → wallet 2,990
    # BTC gaps to 7,500: the cross side has 2,990 − 1,000 = 1,990 and loses 2,500. It is liquidated;
    # the 510 it cannot pay comes from the insurance fund, not from the ETH position's 1,000, and no
    # liquidation fee is left to take.
    run(exchange, price("BTCUSDT", "7500"))
    assert position(exchange, "alice", "BTCUSDT") is None
    assert balance(exchange, "alice", "futures") == D("1000")
    assert exchange.ledger.balance("insurance_fund") == D("1000000") - D("510")
    # The ETH position is then liquidated past its bankruptcy price: it loses its 1,000 and no more.
    run(exchange, price("ETHUSDT", "1700"))
    assert position(exchange, "alice", "ETHUSDT") is None
    assert balance(exchange, "alice", "futures") == 0
    # Its 5 × 300 = 1,500 loss beyond the 1,000 margin: 500 more from the fund.
    assert exchange.ledger.balance("insurance_fund") == D("1000000") - D("510") - D("500")
    assert exchange.ledger_sum() == 0


def test_a_closing_fee_never_takes_the_margin_of_another_isolated_position(exchange):
    setup(exchange, {"alice": "2010"})
    run(exchange, price("BTCUSDT", "10000"), price("ETHUSDT", "2000"),
        order("alice", "BTCUSDT", "buy", "1", leverage=10), order("alice", "ETHUSDT", "buy", "5", leverage=10))
    # Wallet 2,010 − 5 − 5 = 2,000, all of it isolated margin.
    run(exchange, price("ETHUSDT", "1810"), {"do": "config", "slippage_bps": "1000"})
    result = run(exchange, {"do": "close", "user": "alice", "account": "futures", "symbol": "ETHUSDT"})
    # Filled 10% under mark at 1,629: the loss 5 × 371 = 1,855 is capped at the 1,000 margin (the fund
    # pays 855); the fee 5 × 1,629 × 0.05% = 4.0725 would have to come from the BTC position's margin: waived.
    assert result["price"] == "1629" and result["realized_pnl"] == "-1000"
    assert balance(exchange, "alice", "futures") == D("1000")
    run(exchange, price("BTCUSDT", "8000"))
    assert balance(exchange, "alice", "futures") == 0
    assert exchange.ledger_sum() == 0


def test_adl_takes_the_highest_ranked_profitable_opposite_position_first(exchange):
    setup(exchange, {"bob": "2000", "dan": "6000", "carol": "1000"}, fund="0")
    run(exchange, price("BTCUSDT", "10000"),
        order("bob", "BTCUSDT", "sell", "1", leverage=10),    # margin 1,000
        order("dan", "BTCUSDT", "sell", "1", leverage=2),     # margin 5,000
        price("BTCUSDT", "9000"),
        # carol longs 1 at 9,000, 50x: margin 180; bankruptcy price 9,000 − 180 = 8,820.
        order("carol", "BTCUSDT", "buy", "1", leverage=50))
    # At 9,000: bob PnL% 1,000 / 1,000 = 100%, effective leverage 9,000 / (1,000 + 1,000) = 4.5 → rank 4.5;
    #           dan PnL% 1,000 / 5,000 = 20%, effective leverage 9,000 / (5,000 + 1,000) = 1.5 → rank 0.3.
    run(exchange, price("BTCUSDT", "8500"))
    # carol's loss 500 leaves a 320 deficit; the fund is empty: ADL at carol's bankruptcy price 8,820,
    # 320 short of the mark per BTC → 1 BTC from bob, the higher rank. bob realizes 10,000 − 8,820 = 1,180.
    records = build_snapshot(exchange, ("liquidations",))["liquidations"]
    assert [(r["user"], r["kind"], r["qty"], r["price"]) for r in records] == [
        ("bob", "adl", "1", "8820"), ("carol", "full", "1", "8500")]
    assert position(exchange, "bob", "BTCUSDT") is None
    assert position(exchange, "dan", "BTCUSDT").qty == 1
    # bob: 2,000 − 5 (fee) + 1,180.
    assert balance(exchange, "bob", "futures") == D("3175")
    assert balance(exchange, "carol", "futures") == D("1000") - D("4.5") - D("180")
    assert exchange.ledger.balance("insurance_fund") == 0
    assert exchange.ledger_sum() == 0


def test_a_cross_close_filled_past_bankruptcy_never_leaves_the_wallet_negative(exchange):
    setup(exchange, {"alice": "1005"})
    run(exchange, price("BTCUSDT", "10000"),
        order("alice", "BTCUSDT", "buy", "1", leverage=10, margin_mode="cross"),   # margin 1,000 + fee 5
        price("BTCUSDT", "9100"),   # margin balance 1,000 − 900 = 100 > MM 36.4: alive
        {"do": "config", "slippage_bps": "1000"})
    result = run(exchange, {"do": "close", "user": "alice", "account": "futures", "symbol": "BTCUSDT"})
    # Filled 10% under mark at 8,190: realized −1,810 against a 1,000 wallet. The fund pays the 810
    # deficit and the fee (0.05% × 8,190 = 4.095) finds nothing left to take.
    assert result["price"] == "8190" and result["realized_pnl"] == "-1810"
    assert balance(exchange, "alice", "futures") == 0
    assert exchange.ledger.balance("insurance_fund") == D("1000000") - D("810")
    assert exchange.ledger_sum() == 0
