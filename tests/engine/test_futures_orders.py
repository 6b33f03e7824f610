"""Order types, fills and the position commands (SPEC §3, §4), with hand-checked figures."""
from decimal import Decimal

import pytest

from conftest import balance, rejects, run
from engine.fills import Fill

D = Decimal
TAKER, MAKER = D("0.0005"), D("0.0002")


def order(**fields):
    return {"do": "order", "user": "alice", "account": "futures", "symbol": "BTCUSDT", **fields}


def price(mark, last=None, symbol="BTCUSDT"):
    line = {"do": "price", "symbol": symbol, "mark": mark}
    if last is not None:
        line["last"] = last
    return line


def position(exchange, symbol="BTCUSDT"):
    return exchange.accounts["alice:futures"].positions.get((symbol, ""))


def orders(exchange):
    return {o.client_id: o for o in exchange.accounts["alice:futures"].orders.values()}


def fills(exchange):
    return [f for f in exchange.changes.appended.get(Fill, []) if f.account == "alice:futures"]


def available(exchange):
    from engine.valuation import available_balance
    return available_balance(exchange, exchange.accounts["alice:futures"])


@pytest.fixture
def ex(exchange):
    """alice with 100,000 USDT in Futures, no slippage, BTCUSDT at 10,000."""
    run(exchange,
        {"do": "config", "slippage_bps": "0", "impact_bps": "0"},
        {"do": "user", "name": "alice"},
        {"do": "deposit", "user": "alice", "amount": "100000"},
        {"do": "transfer", "user": "alice", "from": "funding", "to": "futures", "amount": "100000"},
        price("10000"))
    return exchange


# --- market orders and the slippage model ------------------------------------------------------

def test_market_order_price_follows_the_slippage_model(ex):
    run(ex, {"do": "config", "slippage_bps": "5", "impact_bps": "10"}, price("10001"))
    # Buy 3 at last 10,001: notional 30,003 → impact 10 × 30,003 / 1,000,000 = 0.30003 bps;
    # moved 5.30003 bps → 10,001 × 1.000530003 = 10,006.300560003, rounded up to the 0.1 tick: 10,006.4.
    result = run(ex, order(side="buy", qty="3"))
    assert result["price"] == "10006.4"
    # Taker fee 3 × 10,006.4 × 0.05% = 15.0096.
    assert result["fee"] == "15.0096"
    assert position(ex).entry_price == D("10006.4")
    assert balance(ex, "alice", "futures") == D("99984.9904")
    # Sell 3 closes at 10,001 × (1 − 0.000530003) = 9,995.699439997, rounded down to 9,995.6:
    # realized 3 × (9,995.6 − 10,006.4) = −32.4; fee 3 × 9,995.6 × 0.05% = 14.9934.
    result = run(ex, order(side="sell", qty="3"))
    assert result["price"] == "9995.6" and result["fee"] == "14.9934"
    assert position(ex) is None
    assert balance(ex, "alice", "futures") == D("99984.9904") - D("32.4") - D("14.9934")
    assert ex.ledger_sum() == 0


def test_market_order_sized_in_usdt(ex):
    # 2,500 USDT at last 10,000 → 0.25 BTC.
    result = run(ex, {**order(side="buy"), "amount": "2500"})
    assert result["qty"] == "0.25"


# --- limit, IOC/FOK, post-only ------------------------------------------------------------------

def test_limit_rests_reserves_margin_and_fills_as_maker_when_last_trades_through(ex):
    result = run(ex, order(side="buy", qty="0.5", type="limit", price="9900"))
    assert result == {"status": "open", "client_id": "o1"}
    # Reserved: margin 0.5 × 9,900 / 10 = 495 plus maker fee 0.5 × 9,900 × 0.02% = 0.99.
    assert orders(ex)["o1"].reserved_margin == D("495.99")
    assert available(ex) == D("100000") - D("495.99")
    run(ex, price("9950"))
    assert "o1" in orders(ex) and position(ex) is None
    # Last trades through 9,900 (to 9,850): the order fills at its own price, as maker.
    run(ex, price("9850"))
    assert orders(ex) == {}
    assert position(ex).qty == D("0.5") and position(ex).entry_price == D("9900")
    fill = fills(ex)[-1]
    assert (fill.price, fill.maker, fill.fee) == (D("9900"), True, D("0.99"))
    assert balance(ex, "alice", "futures") == D("99999.01")
    assert position(ex).margin == D("495")


def test_a_marketable_limit_takes_at_the_fill_model_price_capped_by_its_limit(ex):
    run(ex, {"do": "config", "slippage_bps": "10"})
    # Taker price 10,000 × 1.001 = 10,010, but the limit is 10,005: it fills at 10,005 as taker.
    result = run(ex, order(side="buy", qty="1", type="limit", price="10005"))
    assert result["status"] == "filled" and result["price"] == "10005"
    assert result["fee"] == str(D("10005") * TAKER)  # 5.0025
    # Within the limit it fills at the fill model's price: 10,000 × 0.999 = 9,990 ≥ 9,980.
    assert run(ex, order(side="sell", qty="1", type="limit", price="9980"))["price"] == "9990"


@pytest.mark.parametrize("tif", ["IOC", "FOK"])
def test_ioc_and_fok_expire_when_they_cannot_fill_at_once(ex, tif):
    before = ex.state_hash()
    result = run(ex, order(side="buy", qty="1", type="limit", price="9900", tif=tif))
    assert result["status"] == "expired"
    assert ex.state_hash() == before
    # Marketable, they fill whole at once.
    result = run(ex, order(side="buy", qty="1", type="limit", price="10000", tif=tif))
    assert result["status"] == "filled" and position(ex).qty == 1


def test_post_only_rests_and_fills_as_maker(ex):
    rejects(ex, order(side="sell", qty="1", type="post_only", price="10000"), "POST_ONLY_WOULD_TAKE")
    assert run(ex, order(side="sell", qty="1", type="post_only", price="10100"))["status"] == "open"
    run(ex, price("10100"))
    fill = fills(ex)[-1]
    # Maker fee 10,100 × 0.02% = 2.02.
    assert (fill.side, fill.price, fill.maker, fill.fee) == (-1, D("10100"), True, D("2.02"))
    assert position(ex).side == -1


def test_cancel_releases_the_reservation(ex):
    run(ex, order(side="buy", qty="1", type="limit", price="9000", client_id="bid"))
    assert available(ex) == D("100000") - D("900") - D("1.8")
    run(ex, {"do": "cancel", "user": "alice", "account": "futures", "client_id": "bid"})
    assert available(ex) == D("100000") and orders(ex) == {}


# --- stops ---------------------------------------------------------------------------------------

def test_stop_market_triggers_on_last(ex):
    run(ex, order(side="buy", qty="1"))
    run(ex, order(side="sell", qty="1", type="stop_market", trigger="9500", reduce_only=True, client_id="stop"))
    assert orders(ex)["stop"].status == "untriggered"
    # Mark falls through the trigger but last does not: a last-price stop waits.
    run(ex, price("9400", last="9600"))
    assert "stop" in orders(ex)
    run(ex, price("9600", last="9500"))
    assert orders(ex) == {} and position(ex) is None
    fill = fills(ex)[-1]
    # Filled at the fill model's price from last (no slippage): 9,500; realized 1 × (9,500 − 10,000).
    assert (fill.price, fill.realized_pnl, fill.maker) == (D("9500"), D("-500"), False)


def test_stop_market_triggers_on_mark(ex):
    run(ex, order(side="buy", qty="1", type="stop_market", trigger="10500", trigger_by="mark", client_id="stop"))
    run(ex, price("10400", last="10600"))  # last is past the trigger, mark is not
    assert "stop" in orders(ex)
    run(ex, price("10500", last="10450"))
    assert orders(ex) == {}
    # Triggered by mark, filled at last (taker): 10,450.
    assert position(ex).entry_price == D("10450") and position(ex).qty == 1


def test_stop_limit_fills_at_once_when_its_limit_allows(ex):
    run(ex, order(side="buy", qty="1", type="stop_limit", trigger="10500", price="10600"))
    run(ex, price("10550"))
    # Triggered at last 10,550; the limit 10,600 allows it: taker at 10,550.
    assert position(ex).entry_price == D("10550") and fills(ex)[-1].maker is False


def test_stop_limit_rests_after_triggering_and_fills_as_maker(ex):
    run(ex, order(side="buy", qty="1", type="stop_limit", trigger="10500", price="10450", client_id="sl"))
    assert available(ex) == D("100000")  # a stop reserves nothing until it triggers
    run(ex, price("10500"))
    # Triggered, but a buy limit at 10,450 under last 10,500 cannot take: it rests, reserving like a limit:
    # margin 10,450 / 10 = 1,045 plus maker fee 10,450 × 0.02% = 2.09.
    assert orders(ex)["sl"].status == "open" and position(ex) is None
    assert orders(ex)["sl"].reserved_margin == D("1047.09")
    assert available(ex) == D("100000") - D("1047.09")
    run(ex, price("10400"))
    assert orders(ex) == {}
    fill = fills(ex)[-1]
    assert (fill.price, fill.maker, fill.fee) == (D("10450"), True, D("10450") * MAKER)


def test_a_triggered_stop_limit_that_cannot_reserve_its_margin_is_cancelled(ex):
    run(ex, order(side="buy", qty="1", type="stop_limit", trigger="10500", price="10450", client_id="sl"))
    # Meanwhile the balance is used up: 100,000 − 99,000 moved out leaves 1,000 < 1,047.09.
    run(ex, {"do": "transfer", "user": "alice", "from": "futures", "to": "funding", "amount": "99000"})
    run(ex, price("10500"))
    assert orders(ex) == {} and position(ex) is None
    assert available(ex) == D("1000")
    note = ex.unreported["notifications"][-1]
    assert note.kind == "order" and "sl" in note.text and "1,047.09 USDT needed" in note.text


def test_trailing_stop_follows_the_high_and_fires_on_the_callback(ex):
    run(ex, order(side="buy", qty="1"))
    run(ex, order(side="sell", qty="1", type="trailing_stop", callback="0.01", reduce_only=True, client_id="trail"))
    run(ex, price("10500"))                 # new high 10,500: fires at 10,500 × 0.99 = 10,395
    assert orders(ex)["trail"].extreme == D("10500")
    run(ex, price("10395.1"))               # above 10,395: still waiting
    assert "trail" in orders(ex)
    run(ex, price("10395"))
    assert orders(ex) == {} and position(ex) is None
    assert fills(ex)[-1].price == D("10395") and fills(ex)[-1].realized_pnl == D("395")


def test_trailing_buy_follows_the_low(ex):
    run(ex, order(side="buy", qty="1", type="trailing_stop", callback="0.02", client_id="trail"))
    run(ex, price("9000"))                  # new low: fires at 9,000 × 1.02 = 9,180
    run(ex, price("9179.9"))
    assert position(ex) is None
    run(ex, price("9180"))
    assert position(ex).entry_price == D("9180")


# --- TP/SL on a position ---------------------------------------------------------------------------

def test_take_profit_closes_the_position_at_its_mark(ex):
    run(ex, order(side="buy", qty="1", tp="11000", sl="9000"))
    assert (position(ex).tp, position(ex).sl) == (D("11000"), D("9000"))
    run(ex, price("10999.9"))
    assert position(ex) is not None
    run(ex, price("11000"))
    assert position(ex) is None
    assert fills(ex)[-1].realized_pnl == D("1000")


def test_stop_loss_closes_a_short(ex):
    run(ex, order(side="sell", qty="2", sl="10200"))
    run(ex, price("10200"))
    assert position(ex) is None
    # realized −2 × 200 = −400.
    assert fills(ex)[-1].realized_pnl == D("-400")


def test_tp_sl_of_a_closed_position_do_not_fire_on_the_next_one(ex):
    run(ex, order(side="buy", qty="1", tp="11000", sl="9000"))
    run(ex, {"do": "close", "user": "alice", "account": "futures", "symbol": "BTCUSDT"})
    run(ex, order(side="buy", qty="1", leverage=2))  # a new position without TP/SL (LP far away at 2x)
    run(ex, price("11000"), price("9000"))
    assert position(ex) is not None and position(ex).qty == 1


def test_tp_sl_of_a_reversed_position_do_not_fire_on_the_new_side(ex):
    run(ex, order(side="buy", qty="1", tp="11000", leverage=2))
    run(ex, {"do": "reverse", "user": "alice", "account": "futures", "symbol": "BTCUSDT"})
    run(ex, price("11000"))
    assert position(ex) is not None and position(ex).side == -1


# --- reverse, scaled, reduce-only, close ----------------------------------------------------------

def test_reverse_closes_and_opens_the_other_side_in_one_fill(ex):
    run(ex, order(side="buy", qty="1"), price("10200"))
    result = run(ex, {"do": "reverse", "user": "alice", "account": "futures", "symbol": "BTCUSDT"})
    # One sell of 2 at 10,200: realized +200, fee 2 × 10,200 × 0.05% = 10.2.
    assert result == {"status": "filled", "qty": "2", "price": "10200"}
    p = position(ex)
    assert (p.side, p.qty, p.entry_price, p.margin) == (-1, D(1), D("10200"), D("1020"))
    # 100,000 − 5 (open fee) + 200 − 10.2.
    assert balance(ex, "alice", "futures") == D("100184.8")


def test_scaled_places_n_orders_evenly_spaced(ex):
    result = run(ex, order(side="buy", qty="1", type="scaled", price="9000", price_to="9300", count=4,
                           client_id="ladder"))
    assert result["client_ids"] == ["ladder-1", "ladder-2", "ladder-3", "ladder-4"]
    # (9,300 − 9,000) / 3 = 100 apart, 1 / 4 = 0.25 each.
    placed = orders(ex)
    assert [(placed[c].price, placed[c].qty) for c in result["client_ids"]] == [
        (D("9000"), D("0.25")), (D("9100"), D("0.25")), (D("9200"), D("0.25")), (D("9300"), D("0.25"))]
    # Falling to 9,100 fills the top three levels as maker: entry (9,300 + 9,200 + 9,100) / 3 = 9,200.
    run(ex, price("9100"))
    assert position(ex).qty == D("0.75") and position(ex).entry_price == D("9200")
    assert set(orders(ex)) == {"ladder-1"}


def test_scaled_puts_the_rounding_remainder_on_the_last_level(ex):
    result = run(ex, order(side="sell", qty="1", type="scaled", price="10100", price_to="10200", count=3))
    placed = orders(ex)
    # 1 / 3 = 0.333 per level (step 0.001), the last takes 1 − 0.666 = 0.334; 50 apart.
    assert [(placed[c].price, placed[c].qty) for c in result["client_ids"]] == [
        (D("10100"), D("0.333")), (D("10150"), D("0.333")), (D("10200"), D("0.334"))]


def test_reduce_only_is_capped_at_the_position(ex):
    run(ex, order(side="buy", qty="0.5"))
    result = run(ex, order(side="sell", qty="2", reduce_only=True))
    assert result["qty"] == "0.5" and position(ex) is None


def test_reduce_only_resting_order_is_capped_when_it_fills(ex):
    run(ex, order(side="buy", qty="1"))
    run(ex, order(side="sell", qty="1", type="limit", price="10500", reduce_only=True, client_id="tp"))
    run(ex, {"do": "close", "user": "alice", "account": "futures", "symbol": "BTCUSDT", "qty": "0.6"})
    run(ex, price("10500"))
    # Only 0.4 was left: the order closes 0.4 and does not open a short.
    assert position(ex) is None and fills(ex)[-1].qty == D("0.4")


def test_close_part_then_all(ex):
    run(ex, order(side="buy", qty="1"), price("10100"))
    result = run(ex, {"do": "close", "user": "alice", "account": "futures", "symbol": "BTCUSDT", "qty": "0.3"})
    # 0.3 × 100 = 30 realized; margin 1,000 × 0.7 = 700 left.
    assert result["realized_pnl"] == "30" and position(ex).qty == D("0.7") and position(ex).margin == D("700")
    rejects(ex, {"do": "close", "user": "alice", "account": "futures", "symbol": "BTCUSDT", "qty": "0.8"},
            "INVALID_QTY")
    result = run(ex, {"do": "close", "user": "alice", "account": "futures", "symbol": "BTCUSDT"})
    assert result["qty"] == "0.7" and result["realized_pnl"] == "70" and position(ex) is None
    # 100,000 − 5 + 30 − 1.515 + 70 − 3.535 (fees 0.05% of 3,030 and 7,070).
    assert balance(ex, "alice", "futures") == D("100089.95")


# --- leverage and margin mode ------------------------------------------------------------------------

def test_lower_leverage_takes_more_margin_higher_leverage_keeps_it(ex):
    run(ex, order(side="buy", qty="1", leverage=10))
    run(ex, {"do": "leverage", "user": "alice", "account": "futures", "symbol": "BTCUSDT", "leverage": 5})
    # 10,000 / 5 = 2,000 margin: 1,000 more from the available balance.
    assert position(ex).margin == D(2000) and position(ex).leverage == 5
    assert available(ex) == D("100000") - D("5") - D("2000")
    run(ex, {"do": "leverage", "user": "alice", "account": "futures", "symbol": "BTCUSDT", "leverage": 20})
    assert position(ex).margin == D(2000) and position(ex).leverage == 20
    # The next order uses the new leverage: 1 × 10,000 / 20 = 500 more margin.
    run(ex, order(side="buy", qty="1"))
    assert position(ex).margin == D(2500)


def test_cross_leverage_change_moves_the_initial_margin(ex):
    run(ex, order(side="buy", qty="1", leverage=10, margin_mode="cross"))
    assert available(ex) == D("100000") - D("5") - D("1000")
    run(ex, {"do": "leverage", "user": "alice", "account": "futures", "symbol": "BTCUSDT", "leverage": 4})
    assert available(ex) == D("100000") - D("5") - D("2500")


def test_margin_mode_switches_only_without_position_or_order(ex):
    run(ex, {"do": "margin_mode", "user": "alice", "account": "futures", "symbol": "BTCUSDT", "mode": "cross"})
    run(ex, order(side="buy", qty="1"))
    assert position(ex).margin_mode == "cross"
    rejects(ex, {"do": "margin_mode", "user": "alice", "account": "futures", "symbol": "BTCUSDT",
                 "mode": "isolated"}, "MARGIN_MODE_LOCKED")
    # Another symbol is not locked.
    run(ex, {"do": "margin_mode", "user": "alice", "account": "futures", "symbol": "ETHUSDT", "mode": "cross"})
    run(ex, {"do": "close", "user": "alice", "account": "futures", "symbol": "BTCUSDT"},
        {"do": "margin_mode", "user": "alice", "account": "futures", "symbol": "BTCUSDT", "mode": "isolated"})
    run(ex, order(side="buy", qty="1"))
    assert position(ex).margin_mode == "isolated" and position(ex).margin == D(1000)


def test_an_order_may_choose_the_mode_when_nothing_is_open(ex):
    run(ex, order(side="buy", qty="1", margin_mode="cross", leverage=20))
    assert (position(ex).margin_mode, position(ex).leverage) == ("cross", 20)
    # The choice is kept for the symbol.
    setting = ex.settings[("alice:futures", "BTCUSDT")]
    assert (setting.margin_mode, setting.leverage) == ("cross", 20)
