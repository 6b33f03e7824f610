"""The risk index's batch placement of a fan-out's fresh copies (RiskIndex.place_opened), on its own."""
from decimal import Decimal

from copy_scenarios import lead_and_copier
from engine.positions import Position


def bob_holding_a_fresh_copy():
    """alice leads BTCUSDT at 50,000; bob's copy account has just been given a 0.02 isolated copy at 20x
    (margin 50), not yet in the risk book."""
    exchange = lead_and_copier("20000", "bob", "1000", mode="ratio", ratio="0.1")
    account = exchange.accounts["bob:copy"]
    copy = Position("bob:copy", "BTCUSDT", "alice", 1, Decimal("0.02"), Decimal("50000"), 20, "isolated",
                    Decimal("50"), exchange.now_ms)
    account.positions[("BTCUSDT", "alice")] = copy
    return exchange, account, copy


def test_place_opened_prices_an_isolated_copy_and_hands_its_symbol_to_the_settlement():
    exchange, account, copy = bob_holding_a_fresh_copy()
    # bob's account was not touched in this command and holds this isolated copy only: nothing left to re-price.
    assert exchange.risk.place_opened([account], [copy]) == ["bob:copy"]
    assert copy.liquidation_price == Decimal("47690.7630522")  # 950 / 0.01992, rounded down
    # No account is touched, yet the settlement still checks the symbol the copy was placed in.
    assert exchange.risk.refresh_touched() == {"BTCUSDT"}
    assert exchange.risk.refresh_touched() == set()
    assert exchange.risk.crossed("BTCUSDT", Decimal("47691"))[0] == []
    assert exchange.risk.crossed("BTCUSDT", Decimal("47690"))[0] == [("bob:copy", "BTCUSDT", "alice")]


def test_place_opened_leaves_an_account_touched_before_or_holding_cross_to_the_settlement():
    exchange, account, copy = bob_holding_a_fresh_copy()
    exchange.changes.touched.add("bob:copy")  # changed earlier in the command: its other changes are unpriced
    assert exchange.risk.place_opened([account], [copy]) == []
    exchange.changes.touched.clear()
    account.positions[("ETHUSDT", "dave")] = Position("bob:copy", "ETHUSDT", "dave", 1, Decimal("1"),
                                                      Decimal("2500"), 10, "cross", Decimal("0"), exchange.now_ms)
    assert exchange.risk.place_opened([account], [copy]) == []
