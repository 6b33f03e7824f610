"""Mirroring lead fills to copiers (SPEC §7.2, §7.3), on the scenarios copy_mirror, copy_fixed and
copy_slippage. Every figure is worked out by hand in the comments; fills are at the last price
(no spread, no impact) unless the scenario says otherwise, taker fee 0.05%, maker fee 0.02%."""
from decimal import Decimal

import pytest

from conftest import run
from copy_scenarios import lead_and_copier, play, position, relation
from engine.copytrading.mirror import LeadFill
from engine.fills import Fill
from engine.money import ZERO


@pytest.fixture(scope="module")
def mirror():
    return play("copy_mirror.jsonl")


@pytest.fixture(scope="module")
def fixed():
    return play("copy_fixed.jsonl")


@pytest.fixture(scope="module")
def slippage():
    return play("copy_slippage.jsonl")


def _outcomes(played, lead_order):
    return {o["copier"]: (o["kind"], o["status"], o["code"], o["qty"], o["price"])
            for o in played.outcomes(lead_order=lead_order)}


def test_proportional_copy_of_a_10000_usdt_order_is_1000_usdt(mirror):
    first = mirror.snapshots[0]
    # alice: 0.2 × 50,000 = 10,000 notional; bob at 0.1×: 0.02 × 50,000 = 1,000 notional.
    bob = position(first, "bob", "copy", "BTCUSDT", "alice")
    assert (bob["side"], bob["qty"], bob["entry_price"]) == ("long", "0.02", "50000")
    # Leverage and margin mode follow alice: 10x isolated, margin 1,000 / 10 = 100; fee 1,000 × 0.05% = 0.5.
    assert (bob["leverage"], bob["margin_mode"], bob["margin"]) == (10, "isolated", "100")
    copy = first["users"]["bob"]["copy"]
    assert (copy["wallet_balance"], copy["available"], copy["margin_used"]) == ("4999.5", "4899.5", "100")
    assert copy["copy_orders"][0] | {"opened_at": None} == {
        "lead": "alice", "lead_order": "L1", "symbol": "BTCUSDT", "side": "long", "qty": "0.02", "open_qty": "0.02",
        "entry_price": "50000", "fees": "0.5", "status": "open", "realized_pnl": "0", "opened_at": None,
        "closed_at": None}


def test_fixed_leverage_and_cross_margin_mode_override_the_lead(mirror):
    first = mirror.snapshots[0]
    carol = position(first, "carol", "copy", "BTCUSDT", "alice")
    # Same 0.02, but at carol's fixed 5x and in cross: initial margin 1,000 / 5 = 200.
    assert (carol["qty"], carol["leverage"], carol["margin_mode"], carol["margin"]) == ("0.02", 5, "cross", "200")
    copy = first["users"]["carol"]["copy"]
    # Cross: available = 4,999.5 wallet − 200 initial margin + min(0, uPnL 0).
    assert (copy["wallet_balance"], copy["available"], copy["margin_used"]) == ("4999.5", "4799.5", "200")


def test_a_copier_short_of_balance_fails_while_the_others_fill(mirror):
    # dave has 50; the copy needs 100 margin + 0.5 fee.
    assert _outcomes(mirror, "L1") == {
        "bob": ("open", "filled", None, "0.02", "50000"),
        "carol": ("open", "filled", None, "0.02", "50000"),
        "dave": ("open", "failed", "INSUFFICIENT_BALANCE", None, None)}
    failed = mirror.outcomes(lead_order="L1")[2]
    assert "100.50 USDT needed" in failed["message"] and "50.00 available in Copy" in failed["message"]
    first = mirror.snapshots[0]
    assert first["users"]["dave"]["copy"]["wallet_balance"] == "50"
    assert relation(first, "dave", "alice")["consecutive_failures"] == 1


def test_futures_trades_and_unled_symbols_are_not_lead_orders(mirror):
    # Fills 1–3 are L1 and its two copies; fill 4 is alice's futures BTC order and fill 5 her elite SOL
    # order: neither reaches a copier, so the next lead order is her close, fill 6.
    assert [order for _, order, _ in mirror.lead_orders] == ["L1", "L6", "L9", "L14"]
    assert {o["symbol"] for o in mirror.outcomes()} == {"BTCUSDT"}


def test_lead_closing_half_closes_half_of_each_copy(mirror):
    second = mirror.snapshots[1]
    # alice closes 0.1 of 0.2 at 51,000; each copier closes 0.02 × 0.1 / 0.2 = 0.01.
    assert _outcomes(mirror, "L6") == {
        "bob": ("close", "filled", None, "0.01", "51000"),
        "carol": ("close", "filled", None, "0.01", "51000"),
        "dave": ("close", "failed", "NOTHING_TO_CLOSE", None, None)}
    bob = position(second, "bob", "copy", "BTCUSDT", "alice")
    # The isolated margin halves: 100 → 50. Realized 0.01 × 1,000 = 10; fee 0.01 × 51,000 × 0.05% = 0.255.
    assert (bob["qty"], bob["margin"], bob["realized_pnl"]) == ("0.01", "50", "10")
    assert second["users"]["bob"]["copy"]["wallet_balance"] == "5009.245"  # 4,999.5 + 10 − 0.255
    order = second["users"]["bob"]["copy"]["copy_orders"][0]
    assert (order["open_qty"], order["fees"], order["realized_pnl"], order["status"]) == ("0.01", "0.755", "10", "open")
    carol = position(second, "carol", "copy", "BTCUSDT", "alice")
    assert (carol["qty"], carol["margin"]) == ("0.01", "100")  # cross: 0.01 × 50,000 / 5
    # A partly closed copy order adds nothing to the relation's realized PnL yet; failed closes do
    # not count as failed copies.
    assert relation(second, "bob", "alice")["cum_realized_pnl"] == "0"
    assert relation(second, "dave", "alice")["consecutive_failures"] == 1


def test_lead_reverse_closes_and_reopens_the_copy(mirror):
    third = mirror.snapshots[2]
    # alice sells 0.2 at 51,000: closes her 0.1 long, opens 0.1 short. bob closes his 0.01 (+10,
    # fee 0.255) and opens 0.1 × 0.1 = 0.01 short (margin 51, fee 0.255): one outcome, the open.
    assert _outcomes(mirror, "L9") == {
        "bob": ("open", "filled", None, "0.01", "51000"),
        "carol": ("open", "filled", None, "0.01", "51000"),
        "dave": ("open", "failed", "INSUFFICIENT_BALANCE", None, None)}  # 51 + 0.255 > 50
    bob = position(third, "bob", "copy", "BTCUSDT", "alice")
    assert (bob["side"], bob["qty"], bob["entry_price"], bob["margin"]) == ("short", "0.01", "51000", "51")
    assert third["users"]["bob"]["copy"]["wallet_balance"] == "5018.735"  # 5,009.245 + 10 − 0.255 − 0.255
    closed, reopened = third["users"]["bob"]["copy"]["copy_orders"]
    # L1 closed in full: realized 10 + 10, fees 0.5 + 0.255 + 0.255 = 1.01, net 18.99.
    assert (closed["lead_order"], closed["status"], closed["realized_pnl"], closed["fees"]) == (
        "L1", "closed", "20", "1.01")
    assert (reopened["lead_order"], reopened["side"], reopened["status"]) == ("L9", "short", "open")
    assert relation(third, "bob", "alice")["cum_realized_pnl"] == "18.99"
    carol = position(third, "carol", "copy", "BTCUSDT", "alice")
    assert (carol["side"], carol["leverage"], carol["margin_mode"], carol["margin"]) == ("short", 5, "cross", "102")
    assert relation(third, "dave", "alice")["consecutive_failures"] == 2


def test_the_final_close_settles_each_copy_order(mirror):
    final = mirror.final
    # Short 0.01 from 51,000 closed at 50,000: +10, fee 0.25; L9 net 10 − 0.255 − 0.25 = 9.495.
    assert final["users"]["bob"]["copy"]["wallet_balance"] == "5028.485"  # 5,000 + 18.99 + 9.495
    assert final["users"]["bob"]["copy"]["positions"] == []
    assert relation(final, "bob", "alice")["cum_realized_pnl"] == "28.485"
    assert relation(final, "carol", "alice")["cum_realized_pnl"] == "28.485"


def test_fixed_margin_sizes_by_margin_times_leverage_over_price(fixed):
    first = fixed.snapshots[0]
    # carol: 200 × 10 / 50,000 = 0.04 (margin 200, fee 2,000 × 0.05% = 1).
    carol = position(first, "carol", "copy", "BTCUSDT", "alice")
    assert (carol["qty"], carol["margin"]) == ("0.04", "200")
    assert first["users"]["carol"]["copy"]["wallet_balance"] == "1999"
    # bob asks 200 but caps each order at 150: 150 × 10 / 50,000 = 0.03.
    bob = position(first, "bob", "copy", "BTCUSDT", "alice")
    assert (bob["qty"], bob["margin"]) == ("0.03", "150")


def test_max_total_margin_shrinks_then_refuses_copies(fixed):
    # bob's 350 total: L1 150, L4 150 (room 200), L7 room 50 → 50 × 10 / 50,000 = 0.01, L10 room 0.
    bob = [(o["lead_order"], o["status"], o["code"], o["qty"]) for o in fixed.outcomes() if o["copier"] == "bob"]
    assert bob == [("L1", "filled", None, "0.03"), ("L4", "filled", None, "0.03"), ("L7", "filled", None, "0.01"),
                   ("L10", "failed", "MAX_MARGIN_REACHED", None), ("L12", "failed", "SYMBOL_NOT_SELECTED", None)]
    held = position(fixed.final, "bob", "copy", "BTCUSDT", "alice")
    assert (held["qty"], held["margin"]) == ("0.07", "350")
    # Fees 0.75 + 0.75 + 0.25; available 998.25 − 350.
    copy = fixed.final["users"]["bob"]["copy"]
    assert (copy["wallet_balance"], copy["available"]) == ("998.25", "648.25")
    assert relation(fixed.final, "bob", "alice")["consecutive_failures"] == 2


def test_symbols_subset_and_minimum_quantity(fixed):
    # carol copies ETH: 200 × 10 / 2,500 = 0.8; bob copies BTC only.
    carol = position(fixed.final, "carol", "copy", "ETHUSDT", "alice")
    assert (carol["qty"], carol["margin"]) == ("0.8", "200")
    assert position(fixed.final, "bob", "copy", "ETHUSDT", "alice") is None
    # erin at 1%: 0.05 BTC → 0.0005, below the 0.001 step: four BELOW_MIN_QTY; 1 ETH → 0.01 fills
    # (margin 2.5, fee 0.0125) and resets her count.
    erin = [(o["status"], o["code"], o["qty"]) for o in fixed.outcomes() if o["copier"] == "erin"]
    assert erin == [("failed", "BELOW_MIN_QTY", None)] * 4 + [("filled", None, "0.01")]
    assert relation(fixed.final, "erin", "alice")["consecutive_failures"] == 0
    assert fixed.final["users"]["erin"]["copy"]["wallet_balance"] == "99.9875"


def test_refused_follow_settings(fixed):
    # A second follow, a symbol alice does not lead, a ratio below 0.01, fixed mode without an amount.
    assert [code for _, code in fixed.rejected] == ["ALREADY_FOLLOWING", "SYMBOL_NOT_SELECTED", "BAD_FIELD",
                                                    "BAD_FIELD"]


def test_slippage_protection_refuses_opens_beyond_the_limit(slippage):
    # alice's limit buy fills as maker at 49,900; a copier's market buy fills at 49,900 × 1.01 = 50,399,
    # 499 / 49,900 = 1% away: within bob's 2%, beyond carol's 0.2% and dave's default 0.5%.
    assert _outcomes(slippage, "L1") == {
        "bob": ("open", "filled", None, "0.01", "50399"),
        "carol": ("open", "failed", "SLIPPAGE_EXCEEDED", None, None),
        "dave": ("open", "failed", "SLIPPAGE_EXCEEDED", None, None)}
    bob = position(slippage.snapshots[0], "bob", "copy", "BTCUSDT", "alice")
    # Margin 0.01 × 50,399 / 10 = 50.399; fee 503.99 × 0.05% = 0.251995.
    assert (bob["entry_price"], bob["margin"]) == ("50399", "50.399")
    assert slippage.snapshots[0]["users"]["bob"]["copy"]["wallet_balance"] == "999.748005"
    assert slippage.snapshots[0]["users"]["alice"]["elite"]["wallet_balance"] == "19999.002"  # maker fee 0.998


def test_slippage_protection_never_blocks_a_close(slippage):
    # bob now allows 0.2%; alice's limit sell fills at 50,100 and bob's market sell at 50,100 × 0.99 =
    # 49,599, 1% away: the close still happens.
    assert _outcomes(slippage, "L3") == {
        "bob": ("close", "filled", None, "0.01", "49599"),
        "carol": ("close", "failed", "NOTHING_TO_CLOSE", None, None),
        "dave": ("close", "failed", "NOTHING_TO_CLOSE", None, None)}
    # Realized 0.01 × (49,599 − 50,399) = −8; fee 0.247995: 999.748005 − 8 − 0.247995.
    assert slippage.final["users"]["bob"]["copy"]["wallet_balance"] == "991.50001"
    assert relation(slippage.final, "bob", "alice")["cum_realized_pnl"] == "-8.49999"


def test_a_reverse_whose_reopen_fails_says_the_copy_closed():
    """One outcome per lead fill (SPEC §7.3): a reverse's failed reopen still tells that the close went through."""
    exchange = lead_and_copier("20000", "erin", "110", mode="ratio", ratio="0.1")
    # erin copies 0.02 at 10x isolated: margin 100, fee 0.5 → 109.5.
    run(exchange, {"do": "order", "user": "alice", "account": "elite", "symbol": "BTCUSDT", "side": "buy",
                   "qty": "0.2", "leverage": 10, "margin_mode": "isolated"},
        {"do": "price", "symbol": "BTCUSDT", "mark": "46000"})
    # alice sells 0.4: closes her 0.2, opens 0.2 short. erin closes 0.02 at 46,000 (−80, fee 0.46 → 29.04) and
    # cannot reopen 0.02 short: margin 92 + fee 0.46.
    run(exchange, {"do": "order", "user": "alice", "account": "elite", "symbol": "BTCUSDT", "side": "sell",
                   "qty": "0.4", "leverage": 10, "margin_mode": "isolated"})
    snapshot = run(exchange, {"do": "snapshot"})
    reverse = [o for o in snapshot["copy"]["outcomes"] if o["lead_order"] != "L1"]
    assert [(o["kind"], o["status"], o["code"], o["message"]) for o in reverse] == [
        ("open", "failed", "INSUFFICIENT_BALANCE", "your 0.02 copy closed at 46000; the reopen failed: "
         "Insufficient available balance: 92.46 USDT needed, 29.04 available in Copy")]
    assert position(snapshot, "erin", "copy", "BTCUSDT", "alice") is None
    assert snapshot["users"]["erin"]["copy"]["wallet_balance"] == "29.04"


def test_copiers_with_the_same_settings_share_a_size_only_when_their_account_cannot_change_it():
    """A fan-out sizes a copy once per distinct settings for copiers holding no copy of the lead, and checks the
    contract's rules once per size; a copy position already held, or a total-margin cap, is read per copier."""
    fixed = {"mode": "fixed", "amount": "200"}
    exchange = lead_and_copier("20000", "bob", "1000", **fixed, leverage=5)
    run(exchange, {"do": "order", "user": "alice", "account": "elite", "symbol": "BTCUSDT", "side": "buy",
                   "qty": "0.1", "leverage": 10, "margin_mode": "isolated"},
        {"do": "update_follow", "user": "bob", "lead": "alice", "leverage": "follow"})
    for copier, extra in (("carol", {}), ("dave", {"max_total_margin": "150"}), ("erin", {})):
        funds = "100" if copier == "erin" else "1000"
        run(exchange, {"do": "user", "name": copier}, {"do": "deposit", "user": copier, "amount": funds},
            {"do": "transfer", "user": copier, "from": "funding", "to": "copy", "amount": funds},
            {"do": "follow", "user": copier, "lead": "alice", **fixed, **extra})
    # Now all four follow alice's leverage with 200 USDT a copy. bob's copy (from L1 at his 5x then: 200 × 5 /
    # 50,000 = 0.02) keeps its 5x, as an increase keeps the position's terms: 0.02 more. carol opens at alice's
    # 10x: 200 × 10 / 50,000 = 0.04. dave's cap of 150: 150 × 10 / 50,000 = 0.03. erin's 100 cannot hold 200 of
    # margin and the 1 USDT fee (0.04 × 50,000 × 0.05%).
    run(exchange, {"do": "order", "user": "alice", "account": "elite", "symbol": "BTCUSDT", "side": "buy",
                   "qty": "0.1", "leverage": 10, "margin_mode": "isolated"})
    snapshot = run(exchange, {"do": "snapshot"})
    second = {o["copier"]: (o["status"], o["code"], o["qty"]) for o in snapshot["copy"]["outcomes"]
              if o["lead_order"] != "L1"}
    assert second == {"bob": ("filled", None, "0.02"), "carol": ("filled", None, "0.04"),
                      "dave": ("filled", None, "0.03"), "erin": ("failed", "INSUFFICIENT_BALANCE", None)}
    held = {user: position(snapshot, user, "copy", "BTCUSDT", "alice") for user in ("bob", "carol", "dave")}
    assert {user: (p["qty"], p["leverage"], p["margin"]) for user, p in held.items()} == {
        "bob": ("0.04", 5, "400"), "carol": ("0.04", 10, "200"), "dave": ("0.03", 10, "150")}


def test_copies_alike_but_for_their_margin_get_their_own_liquidation_price():
    """A fan-out solves each distinct isolated copy once: the same size at the same entry with other margin is
    another solve."""
    exchange = lead_and_copier("20000", "bob", "1000", mode="ratio", ratio="0.1")
    run(exchange, {"do": "user", "name": "carol"}, {"do": "deposit", "user": "carol", "amount": "1000"},
        {"do": "transfer", "user": "carol", "from": "funding", "to": "copy", "amount": "1000"},
        {"do": "follow", "user": "carol", "lead": "alice", "mode": "ratio", "ratio": "0.1", "leverage": 20},
        {"do": "order", "user": "alice", "account": "elite", "symbol": "BTCUSDT", "side": "buy", "qty": "0.2",
         "leverage": 10, "margin_mode": "isolated"})
    snapshot = run(exchange, {"do": "snapshot"})
    # Both hold 0.02 from 50,000 (1,000 notional, first tier: MMR 0.4%). A long's liquidation price is
    # (margin − 1,000) / (0.02 × 0.004 − 0.02), rounded down: bob's 10x margin 100 → 900 / 0.01992;
    # carol's 20x margin 50 → 950 / 0.01992.
    held = {user: position(snapshot, user, "copy", "BTCUSDT", "alice") for user in ("bob", "carol")}
    assert {user: (p["qty"], p["entry_price"], p["margin"], p["liquidation_price"]) for user, p in held.items()} == {
        "bob": ("0.02", "50000", "100", "45180.72289156"), "carol": ("0.02", "50000", "50", "47690.7630522")}


def test_a_fresh_isolated_copy_is_priced_in_the_fan_out_and_liquidated_when_the_mark_reaches_it():
    """A run of fresh opens places its isolated copies in the risk book itself (RiskIndex.place_opened) and
    leaves the copier's account out of the command's re-pricing: the copy must still liquidate on time."""
    exchange = lead_and_copier("20000", "bob", "1000", mode="ratio", ratio="0.1", leverage=20)
    run(exchange, {"do": "order", "user": "alice", "account": "elite", "symbol": "BTCUSDT", "side": "buy",
                   "qty": "0.2", "leverage": 10, "margin_mode": "isolated"})
    copy = exchange.accounts["bob:copy"].positions[("BTCUSDT", "alice")]
    # 0.02 from 50,000 at 20x: margin 50, liquidation price 950 / 0.01992 rounded down (as above); alice's
    # own 10x position liquidates at 45,180.72.
    assert copy.liquidation_price == Decimal("47690.7630522")
    run(exchange, {"do": "price", "symbol": "BTCUSDT", "mark": "47700"})
    assert ("BTCUSDT", "alice") in exchange.accounts["bob:copy"].positions
    run(exchange, {"do": "price", "symbol": "BTCUSDT", "mark": "47690"})
    assert ("BTCUSDT", "alice") not in exchange.accounts["bob:copy"].positions
    assert ("BTCUSDT", "") in exchange.accounts["alice:elite"].positions


def test_a_fresh_isolated_copy_re_prices_the_copiers_cross_copy_its_fee_moved():
    """The fee of a fresh isolated copy leaves less behind the copier's cross positions: their liquidation
    price moves, so a copier holding one is re-priced as a whole when the command settles."""
    exchange = lead_and_copier("20000", "bob", "1000", mode="ratio", ratio="0.1", margin_mode="isolated")
    run(exchange, {"do": "price", "symbol": "ETHUSDT", "mark": "2500"},
        {"do": "user", "name": "dave"}, {"do": "deposit", "user": "dave", "amount": "20000"},
        {"do": "become_elite", "user": "dave", "symbols": ["ETHUSDT"]},
        {"do": "transfer", "user": "dave", "from": "funding", "to": "elite", "amount": "20000"},
        {"do": "follow", "user": "bob", "lead": "dave", "mode": "ratio", "ratio": "0.5", "margin_mode": "cross"},
        {"do": "order", "user": "dave", "account": "elite", "symbol": "ETHUSDT", "side": "buy", "qty": "2",
         "leverage": 10, "margin_mode": "cross"})
    account = exchange.accounts["bob:copy"]
    cross = account.positions[("ETHUSDT", "dave")]
    before = cross.liquidation_price
    run(exchange, {"do": "order", "user": "alice", "account": "elite", "symbol": "BTCUSDT", "side": "buy",
                   "qty": "0.2", "leverage": 10, "margin_mode": "isolated"})
    assert ("BTCUSDT", "alice") in account.positions
    moved = cross.liquidation_price
    assert moved > before  # a long's cross liquidation price rises as the balance behind it falls
    exchange.risk.refresh(account)
    assert cross.liquidation_price == moved


def test_copies_alike_but_for_their_margin_close_with_their_own_plan():
    """A lead's close plans each distinct whole copy once: copies opened alike share their figures, and one
    whose margin was added to since is planned on its own (its released margin, hence any deficit, differs)."""
    exchange = lead_and_copier("20000", "bob", "1000", mode="ratio", ratio="0.1")
    run(exchange, {"do": "user", "name": "carol"}, {"do": "deposit", "user": "carol", "amount": "1000"},
        {"do": "transfer", "user": "carol", "from": "funding", "to": "copy", "amount": "1000"},
        {"do": "follow", "user": "carol", "lead": "alice", "mode": "ratio", "ratio": "0.1"},
        {"do": "user", "name": "dave"}, {"do": "deposit", "user": "dave", "amount": "1000"},
        {"do": "transfer", "user": "dave", "from": "funding", "to": "copy", "amount": "1000"},
        {"do": "follow", "user": "dave", "lead": "alice", "mode": "ratio", "ratio": "0.1"},
        {"do": "order", "user": "alice", "account": "elite", "symbol": "BTCUSDT", "side": "buy", "qty": "0.2",
         "leverage": 10, "margin_mode": "isolated"},
        {"do": "margin", "user": "carol", "account": "copy", "symbol": "BTCUSDT", "lead": "alice", "delta": "50"})
    bob, carol, dave = (exchange.accounts[f"{user}:copy"].positions[("BTCUSDT", "alice")]
                        for user in ("bob", "carol", "dave"))
    assert bob.qty is carol.qty is dave.qty and bob.margin is dave.margin and carol.margin == Decimal("150")
    close = Fill(99, exchange.now_ms, "alice:elite", "BTCUSDT", "", -1, Decimal("0.2"), Decimal("50000"),
                 Decimal("5"), ZERO, False, "trade", "", exchange.now_ms, Decimal("0.2"))
    terms = LeadFill(exchange, exchange.leads["alice"], close, Decimal(1), None)
    plans = {name: terms.closing(held, held.qty)[1] for name, held in (("bob", bob), ("carol", carol), ("dave", dave))}
    assert plans["bob"] is plans["dave"] and plans["bob"].released == Decimal("100")
    assert plans["carol"].released == Decimal("150") and plans["carol"].close_qty == Decimal("0.02")
    assert terms.closing(bob, Decimal("0.01"))[1] is None  # a part of a copy is planned per copier
