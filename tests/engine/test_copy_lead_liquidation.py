"""A lead's liquidation and auto-deleveraging are lead fills (SPEC §5, §7.3), mirrored to every copier
once they have settled, on the scenario copy_lead_liquidation. Figures are worked out in the scenario's
comments: no spread, no impact, taker fee 0.05%, liquidation fee 0.1%, small BTCUSDT tiers."""
from decimal import Decimal

import pytest

from conftest import run
from copy_scenarios import lead_and_copier, play, position, relation, scenario_lines
from engine.copytrading.profile import history
from engine.exchange import Exchange


@pytest.fixture(scope="module")
def played():
    return play("copy_lead_liquidation.jsonl")


def _closes(played, lead_order):
    return {o["copier"]: (o["status"], o["code"], o["qty"], o["price"], o["message"])
            for o in played.outcomes(kind="close", lead_order=lead_order)}


def _balances(snapshot, *copiers):
    return [snapshot["users"][copier]["copy"]["wallet_balance"] for copier in copiers]


def test_a_partial_liquidation_of_the_lead_closes_the_same_half_of_every_copy(played):
    opened, partial = played.snapshots[0], played.snapshots[1]
    assert [(l["user"], l["kind"], l["qty"], l["price"], l["fee"]) for l in partial["liquidations"]] == [
        ("alice", "partial", "10", "900", "9")]
    lead_order = played.outcomes(kind="close")[0]["lead_order"]
    assert _closes(played, lead_order) == {
        "bob": ("filled", None, "1", "900", "the lead's position was liquidated"),
        "carol": ("filled", None, "0.3", "900", "the lead's position was liquidated"),
        # dave closed his copy by hand before: one outcome still, saying why nothing was closed.
        "dave": ("failed", "NOTHING_TO_CLOSE", None, None, "no BTCUSDT copy position of alice to close")}
    # bob: 999 − 100 realized − 0.45 fee; carol: 999.7 − 30 − 0.135.
    assert _balances(opened, "bob", "carol") == ["999", "999.7"]
    assert _balances(partial, "bob", "carol") == ["898.55", "969.565"]
    bob = position(partial, "bob", "copy", "BTCUSDT", "alice")
    assert (bob["qty"], bob["margin"], bob["realized_pnl"]) == ("1", "200", "-100")
    carol = position(partial, "carol", "copy", "BTCUSDT", "alice")
    assert (carol["qty"], carol["margin"]) == ("0.3", "60")
    assert partial["users"]["alice"]["elite"]["wallet_balance"] == "3981"


def test_a_full_liquidation_of_the_lead_closes_the_rest_and_settles_the_copy_orders(played):
    full = played.snapshots[2]
    assert [(l["user"], l["kind"], l["qty"], l["insurance"]) for l in full["liquidations"]] == [
        ("alice", "full", "10", "-75")]
    assert full["insurance_fund"] == "934"
    lead_order = played.outcomes(kind="close")[-4]["lead_order"]
    assert _closes(played, lead_order)["bob"] == ("filled", None, "1", "880", "the lead's position was liquidated")
    assert _closes(played, lead_order)["carol"][2:4] == ("0.3", "880")
    assert position(full, "bob", "copy", "BTCUSDT", "alice") is None
    assert position(full, "carol", "copy", "BTCUSDT", "alice") is None
    # bob: 898.55 − 120 − 0.44; carol: 969.565 − 36 − 0.132.
    assert _balances(full, "bob", "carol") == ["778.11", "933.433"]
    # The copy order closed in full: bob's −220 realized less 1 + 0.45 + 0.44 of fees.
    assert relation(full, "bob", "alice")["cum_realized_pnl"] == "-221.89"
    assert relation(full, "carol", "alice")["cum_realized_pnl"] == "-66.567"


def test_auto_deleveraging_the_lead_is_mirrored_once_the_bankruptcy_has_settled(played):
    adl = played.snapshots[3]
    assert [(l["user"], l["kind"], l["qty"], l["price"], l["insurance"]) for l in adl["liquidations"]] == [
        ("alice", "adl", "3.133", "836", "0"), ("erin", "full", "10", "700", "-934")]
    assert adl["insurance_fund"] == "0"
    lead_order = played.outcomes(kind="close")[-1]["lead_order"]
    # 3.133 of alice's 10: each copy closes 31.33%, rounded down to the 0.001 step, at its own price.
    assert _closes(played, lead_order) == {
        copier: ("filled", None, qty, "700", "the lead's position was auto-deleveraged")
        for copier, qty in (("bob", "0.313"), ("carol", "0.093"), ("dave", "0.313"))}
    # bob: 778.11 − 0.44 open fee + 56.34 − 0.10955; carol: 933.433 − 0.132 + 16.74 − 0.03255.
    assert _balances(adl, "bob", "carol", "dave") == ["833.90045", "950.00845", "1053.79045"]
    assert position(adl, "bob", "copy", "BTCUSDT", "alice")["qty"] == "0.687"
    assert position(adl, "alice", "elite", "BTCUSDT")["qty"] == "6.867"
    assert adl["users"]["alice"]["elite"]["wallet_balance"] == "2989.452"
    assert adl["ledger"]["sum"] == "0"


def _small_lead_liquidated_at(mark: str) -> tuple[Exchange, list]:
    """alice (600 USDT of elite equity) opens 0.1 at 50x — margin 100, fee 2.5: equity 597.5, a lead order; bob
    copies 0.01 at 2x — then the mark goes to `mark`, which liquidates her. Returns the lead-order events it made."""
    exchange = lead_and_copier("600", "bob", "1000", mode="ratio", ratio="0.1", leverage=2)
    run(exchange, {"do": "order", "user": "alice", "account": "elite", "symbol": "BTCUSDT", "side": "buy",
                   "qty": "0.1", "leverage": 50, "margin_mode": "isolated"})
    exchange.take_events()
    run(exchange, {"do": "price", "symbol": "BTCUSDT", "mark": mark})
    return exchange, [e for e in exchange.take_events() if isinstance(e, tuple) and e[0] == "lead_order"]


def test_a_lead_below_the_minimum_equity_is_liquidated_without_broadcasting():
    """SPEC §7.1: fills of an elite account under 500 USDT of equity are not lead orders, forced ones alike."""
    # 49,000: alice is liquidated (margin 100 − loss 100), leaving 497.5 of equity: under 500, not broadcast.
    exchange, lead_orders = _small_lead_liquidated_at("49000")
    assert not lead_orders
    snapshot = run(exchange, {"do": "snapshot"})
    assert [l["user"] for l in snapshot["liquidations"]] == ["alice"]
    assert position(snapshot, "bob", "copy", "BTCUSDT", "alice")["qty"] == "0.01"
    assert not history(exchange, "alice").trades[-1].broadcast  # nor is it a lead order in her record


def test_a_liquidation_counts_as_a_lead_order_only_if_it_was_mirrored_as_one():
    """Between the fill and its fee the lead's equity is still ≥ 500: the record must not say "lead order"."""
    # 49,100: the fill loses 90 (equity 507.5), then the 10 of margin left goes to the fee and the fund: 497.5.
    exchange, lead_orders = _small_lead_liquidated_at("49100")
    assert not lead_orders
    liquidated = history(exchange, "alice").trades[-1]
    assert (liquidated.pnl, liquidated.broadcast) == (Decimal("-90"), False)
    assert run(exchange, {"do": "snapshot"})["users"]["alice"]["elite"]["wallet_balance"] == "497.5"


def test_a_cut_and_a_close_in_one_tick_are_each_mirrored_by_the_fraction_they_closed():
    """The two fills of one liquidation reach the copiers after both: each by the qty alice held before it."""
    lines = scenario_lines("copy_lead_liquidation.jsonl")
    exchange = Exchange()
    run(exchange, *lines[:lines.index({"do": "price", "symbol": "BTCUSDT", "mark": "900"})])
    exchange.take_events()
    # Straight to 880: keep 9,000 / 880 → 10.227 of 20 (cut 9.773), still unhealthy, then closed whole.
    run(exchange, {"do": "price", "symbol": "BTCUSDT", "mark": "880"})
    mirrored = [(fill.qty, {o.copier: o.qty for o in outcomes if o.status == "filled"})
                for e in exchange.take_events() if isinstance(e, tuple) and e[0] == "lead_order"
                for _kind, _lead, _order, fill, outcomes in [e]]
    # 9.773 / 20 = 48.865%: bob 0.977 of 2, carol 0.293 of 0.6; then the whole rest of each.
    assert [(str(qty), {c: str(q) for c, q in closed.items()}) for qty, closed in mirrored] == [
        ("9.773", {"bob": "0.977", "carol": "0.293"}), ("10.227", {"bob": "1.023", "carol": "0.307"})]


def test_the_leads_liquidations_count_in_its_lead_pnl(played):
    """Forced fills of a lead are lead orders (SPEC §7.1, §8): its PnL cannot hide a liquidation."""
    # The cut −1,000, the full liquidation −1,125 (capped at the margin), the ADL +137.852; no fill fees.
    alice = played.final["leads"]["alice"]
    assert (alice["lead_pnl"], alice["gainers"], alice["losers"]) == ("-1987.148", 1, 2)
