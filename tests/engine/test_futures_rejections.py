"""Every futures rejection code: the command is refused with its code and leaves the state hash unchanged."""
from decimal import Decimal

import pytest

from conftest import balance, rejects, run

D = Decimal


def order(**fields):
    return {"do": "order", "user": "alice", "account": "futures", "symbol": "BTCUSDT", "side": "buy", "qty": "0.1",
            **fields}


@pytest.fixture
def desk_ex(exchange):
    """alice with 10,000 USDT in Futures; BTCUSDT at 10,000; a stored 10x isolated BTCUSDT setting."""
    run(exchange,
        {"do": "config", "slippage_bps": "0", "impact_bps": "0"},
        {"do": "user", "name": "alice"},
        {"do": "deposit", "user": "alice", "amount": "10000"},
        {"do": "transfer", "user": "alice", "from": "funding", "to": "futures", "amount": "10000"},
        {"do": "price", "symbol": "BTCUSDT", "mark": "10000"},
        # Stores the per-symbol setting, so a rejected order that touched it would show in the hash.
        {"do": "leverage", "user": "alice", "account": "futures", "symbol": "BTCUSDT", "leverage": 10})
    return exchange


def test_invalid_qty(desk_ex):
    rejects(desk_ex, order(qty="0"), "INVALID_QTY")
    rejects(desk_ex, order(qty="-1"), "INVALID_QTY")
    # BTCUSDT steps in 0.001.
    error = rejects(desk_ex, order(qty="0.0015"), "INVALID_QTY")
    assert "multiple of 0.001" in error.message
    rejects(desk_ex, order(qty=None, amount=None), "INVALID_QTY")


def test_invalid_price(desk_ex):
    # BTCUSDT ticks in 0.1.
    rejects(desk_ex, order(type="limit", price="9000.05"), "INVALID_PRICE")
    rejects(desk_ex, order(type="limit", price="0"), "INVALID_PRICE")
    rejects(desk_ex, order(type="limit"), "INVALID_PRICE")  # a limit without a price
    # A take-profit of a long must be above the price.
    rejects(desk_ex, order(tp="9000"), "INVALID_PRICE")
    # A buy stop at or below last would trigger at once.
    rejects(desk_ex, order(type="stop_market", trigger="10000"), "INVALID_PRICE")


def test_below_min_qty(desk_ex):
    run(desk_ex, {"do": "instrument", "symbol": "BTCUSDT", "min_qty": "0.01"})
    error = rejects(desk_ex, order(qty="0.005"), "BELOW_MIN_QTY")
    assert "minimum quantity is 0.01" in error.message


def test_below_min_notional(desk_ex):
    # At 4,000 the smallest step is 0.001 × 4,000 = 4 USDT < the 5 USDT minimum.
    run(desk_ex, {"do": "price", "symbol": "BTCUSDT", "mark": "4000"})
    rejects(desk_ex, order(qty="0.001"), "BELOW_MIN_NOTIONAL")
    # 0.002 × 4,000 = 8 USDT passes.
    run(desk_ex, order(qty="0.002"))


def test_leverage_not_allowed(desk_ex):
    run(desk_ex, {"do": "deposit", "user": "alice", "amount": "100000"},
        {"do": "transfer", "user": "alice", "from": "funding", "to": "futures", "amount": "100000"})
    # 30 × 10,000 = 300,000 notional is BTCUSDT tier 3 (max 50x): 60x is refused, 50x is fine.
    error = rejects(desk_ex, order(qty="30", leverage=60), "LEVERAGE_NOT_ALLOWED")
    assert "50x allowed" in error.message
    rejects(desk_ex, order(leverage=126), "LEVERAGE_NOT_ALLOWED")
    run(desk_ex, order(qty="30", leverage=50))
    # The open 300,000 position allows at most 50x.
    rejects(desk_ex, {"do": "leverage", "user": "alice", "account": "futures", "symbol": "BTCUSDT",
                      "leverage": 51}, "LEVERAGE_NOT_ALLOWED")
    # An order at another leverage than the open position's.
    rejects(desk_ex, order(qty="0.1", leverage=20), "LEVERAGE_NOT_ALLOWED")


def test_insufficient_balance(desk_ex):
    # 10 BTC at 10,000, 10x: margin 10,000 + fee 50 > 10,000 available.
    error = rejects(desk_ex, order(qty="10"), "INSUFFICIENT_BALANCE")
    assert "10,050.00 USDT needed" in error.message and "10,000.00 available" in error.message
    # At another leverage than the stored setting: the setting must not change either.
    rejects(desk_ex, order(qty="10", leverage=9), "INSUFFICIENT_BALANCE")
    # 9.99 BTC: margin 9,990 + fee 49.95 = 10,039.95 > 10,000.
    rejects(desk_ex, order(qty="9.99"), "INSUFFICIENT_BALANCE")
    # 9.9 BTC: 9,900 + 49.50 = 9,949.50 fits.
    run(desk_ex, order(qty="9.9"))
    assert balance(desk_ex, "alice", "futures") == D("9950.5")


def test_insufficient_balance_for_margin_and_leverage(desk_ex):
    run(desk_ex, order(qty="0.5"))  # margin 500, fee 2.5: available 10,000 − 2.5 − 500 = 9,497.5
    rejects(desk_ex, {"do": "margin", "user": "alice", "account": "futures", "symbol": "BTCUSDT",
                      "delta": "9497.50000001"}, "INSUFFICIENT_BALANCE")
    run(desk_ex, order(qty="0.9"))  # margin 900, fee 4.5: available 9,497.5 − 904.5 = 8,593
    run(desk_ex, {"do": "transfer", "user": "alice", "from": "futures", "to": "funding", "amount": "8000"})
    # 1x on 1.4 BTC needs 14,000 − 1,400 = 12,600 more, 593 available.
    rejects(desk_ex, {"do": "leverage", "user": "alice", "account": "futures", "symbol": "BTCUSDT",
                      "leverage": 1}, "INSUFFICIENT_BALANCE")


def test_reduce_only(desk_ex):
    rejects(desk_ex, order(side="sell", reduce_only=True), "REDUCE_ONLY")
    run(desk_ex, order(qty="0.1"))
    # A reduce-only buy on a long would increase it.
    rejects(desk_ex, order(reduce_only=True), "REDUCE_ONLY")


def test_risk_restricted_blocks_increases_but_not_reductions(desk_ex):
    run(desk_ex, order(qty="0.2"),
        {"do": "restrict", "user": "alice", "account": "futures", "reduce_only": True})
    error = rejects(desk_ex, order(qty="0.1"), "RISK_RESTRICTED")
    assert "reduce-only restriction" in error.message
    # Flipping 0.2 long with a 0.3 sell would open 0.1 short: refused too.
    rejects(desk_ex, order(side="sell", qty="0.3"), "RISK_RESTRICTED")
    run(desk_ex, order(side="sell", qty="0.1"))
    assert desk_ex.accounts["alice:futures"].positions[("BTCUSDT", "")].qty == D("0.1")


def test_post_only_would_take(desk_ex):
    # A post-only buy at or above last would take liquidity.
    rejects(desk_ex, order(type="post_only", price="10000"), "POST_ONLY_WOULD_TAKE")
    rejects(desk_ex, order(type="post_only", side="sell", price="9999.9"), "POST_ONLY_WOULD_TAKE")
    assert run(desk_ex, order(type="post_only", price="9999.9"))["status"] == "open"


def test_no_position(desk_ex):
    rejects(desk_ex, {"do": "close", "user": "alice", "account": "futures", "symbol": "BTCUSDT"}, "NO_POSITION")
    rejects(desk_ex, {"do": "reverse", "user": "alice", "account": "futures", "symbol": "BTCUSDT"}, "NO_POSITION")
    rejects(desk_ex, {"do": "margin", "user": "alice", "account": "futures", "symbol": "BTCUSDT", "delta": "10"},
            "NO_POSITION")


def test_margin_mode_locked(desk_ex):
    run(desk_ex, order(type="limit", price="9000"))
    # A resting order locks the mode as much as a position.
    rejects(desk_ex, {"do": "margin_mode", "user": "alice", "account": "futures", "symbol": "BTCUSDT",
                      "mode": "cross"}, "MARGIN_MODE_LOCKED")
    rejects(desk_ex, order(margin_mode="cross"), "MARGIN_MODE_LOCKED")
    run(desk_ex, {"do": "cancel", "user": "alice", "account": "futures", "client_id": "o1"}, order())
    rejects(desk_ex, {"do": "margin_mode", "user": "alice", "account": "futures", "symbol": "BTCUSDT",
                      "mode": "cross"}, "MARGIN_MODE_LOCKED")


def test_not_isolated(desk_ex):
    run(desk_ex, order(margin_mode="cross"))
    rejects(desk_ex, {"do": "margin", "user": "alice", "account": "futures", "symbol": "BTCUSDT", "delta": "10"},
            "NOT_ISOLATED")


def test_max_removable_exceeded(desk_ex):
    run(desk_ex, order(qty="1"), {"do": "margin", "user": "alice", "account": "futures", "symbol": "BTCUSDT",
                                  "delta": "300"})
    # margin 1,300, uPnL 0, mark notional 10,000 / 10x = 1,000: at most 300 can leave.
    error = rejects(desk_ex, {"do": "margin", "user": "alice", "account": "futures", "symbol": "BTCUSDT",
                              "delta": "-300.00000001"}, "MAX_REMOVABLE_EXCEEDED")
    assert "at most 300 USDT" in error.message
    # At mark 9,900: uPnL −100, notional 9,900 / 10 = 990: 1,300 − 100 − 990 = 210.
    run(desk_ex, {"do": "price", "symbol": "BTCUSDT", "mark": "9900"})
    rejects(desk_ex, {"do": "margin", "user": "alice", "account": "futures", "symbol": "BTCUSDT",
                      "delta": "-210.00000001"}, "MAX_REMOVABLE_EXCEEDED")
    run(desk_ex, {"do": "margin", "user": "alice", "account": "futures", "symbol": "BTCUSDT", "delta": "-210"})
    assert desk_ex.accounts["alice:futures"].positions[("BTCUSDT", "")].margin == D(1090)


def test_unknown_symbol(desk_ex):
    rejects(desk_ex, order(symbol="FOOUSDT"), "UNKNOWN_SYMBOL")
    rejects(desk_ex, {"do": "price", "symbol": "FOOUSDT", "mark": "1"}, "UNKNOWN_SYMBOL")
    rejects(desk_ex, order(symbol="BTC-USDT"), "UNKNOWN_SYMBOL")


def test_no_market_price(desk_ex):
    rejects(desk_ex, order(symbol="ETHUSDT"), "NO_MARKET_PRICE")
    rejects(desk_ex, {"do": "funding_rate", "symbol": "ETHUSDT", "rate": "0.0001"}, "NO_MARKET_PRICE")


def test_unknown_order(desk_ex):
    run(desk_ex, order(type="limit", price="9000", client_id="mine"))
    rejects(desk_ex, {"do": "cancel", "user": "alice", "account": "futures", "client_id": "yours"}, "UNKNOWN_ORDER")
    run(desk_ex, {"do": "cancel", "user": "alice", "account": "futures", "client_id": "mine"})
    # Cancelled once, it is no longer open.
    rejects(desk_ex, {"do": "cancel", "user": "alice", "account": "futures", "client_id": "mine"}, "UNKNOWN_ORDER")


def test_bad_field(desk_ex):
    rejects(desk_ex, order(tif="DAY"), "BAD_FIELD")
    rejects(desk_ex, order(colour="red"), "BAD_FIELD")
    rejects(desk_ex, order(type="trailing_stop"), "BAD_FIELD")  # no callback
    rejects(desk_ex, order(lead="bob"), "BAD_FIELD")            # lead is for the copy account
    # Scaled levels only rest: as IOC they would all expire.
    rejects(desk_ex, order(type="scaled", price="9000", price_to="9500", count=2, tif="IOC"), "BAD_FIELD")
    run(desk_ex, order(type="limit", price="9000", client_id="dup"))
    rejects(desk_ex, order(type="limit", price="8000", client_id="dup"), "BAD_FIELD")


def test_rejected_orders_of_every_type_leave_the_setting_alone(desk_ex):
    """A refused order at another leverage must not change the stored leverage (the state hash says so)."""
    for kind in ({}, {"type": "limit", "price": "9000"}, {"type": "stop_market", "trigger": "11000"},
                 {"type": "scaled", "price": "9000", "price_to": "9500", "count": 2}):
        rejects(desk_ex, order(qty="50", leverage=5, **kind), "INSUFFICIENT_BALANCE")


def test_an_expired_ioc_leaves_the_state_alone(desk_ex):
    before = desk_ex.state_hash()
    result = run(desk_ex, order(type="limit", price="9000", tif="IOC", leverage=20))
    assert result["status"] == "expired"
    assert desk_ex.state_hash() == before


def test_a_scaled_order_is_placed_whole_or_not_at_all(desk_ex):
    # 3 × 0.5 BTC at 9,000 / 9,250 / 9,500, 10x: margin 450 + 462.5 + 475 = 1,387.5 plus maker fees;
    # with 1,000 available each level alone fits but the three together do not.
    run(desk_ex, {"do": "transfer", "user": "alice", "from": "futures", "to": "funding", "amount": "9000"})
    rejects(desk_ex, order(type="scaled", qty="1.5", price="9000", price_to="9500", count=3), "INSUFFICIENT_BALANCE")
    assert desk_ex.accounts["alice:futures"].orders == {}
