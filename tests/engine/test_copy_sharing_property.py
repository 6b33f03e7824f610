"""A fan-out shares work among copiers of the same settings (the copy's size, its price and opening checks,
the liquidation solve of copies opened alike) and opens fresh copies in runs (engine.copytrading.fresh_opens).
Differential property: random populations of copiers, many with equal settings, and random lead orders and
price moves give exactly the state and outcomes of an exchange that works every copier out on its own.
Copiers and the lead also move isolated margin (the lead's moves reach the copiers as margin syncs a few
seconds on), so copies opened alike come to differ."""
from contextlib import contextmanager
from unittest.mock import patch

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import run
from engine.clock import format_time
from engine.copytrading.fresh_opens import FreshOpens
from engine.copytrading.mirror import LeadFill
from engine.errors import Rejected
from engine.exchange import Exchange
from engine.fills import taker_price
from engine.order_entry import plan_opening
from engine.risk import RiskIndex

SYMBOLS = ("BTCUSDT", "ETHUSDT")
START = {"BTCUSDT": 50000, "ETHUSDT": 2500}
BEGIN_MS = 1_790_000_000_000


@contextmanager
def each_copier_on_its_own():
    """The fan-out as it was before sharing: sizing, price and plan (opening and closing), and every
    liquidation solve per copier; and each copier mirrored on its own, not in a run of fresh opens."""
    def size(self, exchange, relation, account, position):
        return self.size_alone(exchange, relation, account)

    def fresh_open(self, qty, leverage):
        price = taker_price(self._config, self.instrument, self._last, self.fill.side, qty)
        return price, plan_opening(self.instrument, None, self.fill.side, qty, price, leverage, self.fee_rate)

    def closing(self, position, qty):
        return self.taker_price(-position.side, qty), None

    isolated_price = RiskIndex._isolated_price
    alone = staticmethod(lambda instrument, position, solved: isolated_price(instrument, position, None))
    with patch.object(LeadFill, "size", size), patch.object(LeadFill, "fresh_open", fresh_open), \
            patch.object(LeadFill, "closing", closing), patch.object(RiskIndex, "_isolated_price", alone), \
            patch.object(FreshOpens, "take", lambda self, relation: False):
        yield


follows = st.fixed_dictionaries({
    "mode": st.sampled_from(("fixed", "ratio")),
    "amount": st.sampled_from(("20", "50", "200")),
    "ratio": st.sampled_from(("0.01", "0.1", "0.5")),
    "leverage": st.sampled_from((None, 5, 20)),
    "margin_mode": st.sampled_from((None, "isolated", "cross")),
    "max_margin_per_order": st.sampled_from((None, None, "30")),
    "max_total_margin": st.sampled_from((None, None, "120")),
    "symbols": st.sampled_from((None, None, ["ETHUSDT"])),
    "tp_ratio": st.sampled_from((None, None, "0.5")),
    "funds": st.sampled_from(("40", "300", "5000")),
})
steps = st.one_of(
    st.tuples(st.just("order"), st.sampled_from(SYMBOLS), st.sampled_from(("buy", "sell")),
              st.sampled_from(("0.05", "0.2", "1", "3")), st.sampled_from((10, 20)),
              st.sampled_from(("isolated", "cross"))),
    st.tuples(st.just("price"), st.sampled_from(SYMBOLS), st.sampled_from((-9, -3, 2, 6))),
    st.tuples(st.just("close"), st.sampled_from(SYMBOLS)),
    st.tuples(st.just("lead_margin"), st.sampled_from(SYMBOLS), st.sampled_from(("300", "-100"))),
    st.tuples(st.just("copier_margin"), st.integers(0, 13), st.sampled_from(SYMBOLS), st.sampled_from(("3", "-2"))))


def world(population: list[dict]) -> Exchange:
    exchange = Exchange(start_ms=BEGIN_MS)
    run(exchange, *({"do": "price", "symbol": symbol, "mark": str(price)} for symbol, price in START.items()),
        {"do": "user", "name": "alice"}, {"do": "deposit", "user": "alice", "amount": "1000000"},
        {"do": "become_elite", "user": "alice", "symbols": list(SYMBOLS)},
        {"do": "transfer", "user": "alice", "from": "funding", "to": "elite", "amount": "1000000"})
    for i, drawn in enumerate(population):
        name, funds = f"c{i}", drawn["funds"]
        follow = {key: value for key, value in drawn.items() if value is not None and key != "funds"}
        follow.pop("amount" if follow["mode"] == "ratio" else "ratio")
        run(exchange, {"do": "user", "name": name}, {"do": "deposit", "user": name, "amount": funds},
            {"do": "transfer", "user": name, "from": "funding", "to": "copy", "amount": funds},
            {"do": "follow", "user": name, "lead": "alice", **follow})
    return exchange


def line(step: tuple, marks: dict, number: int) -> dict:
    at = {"at": format_time(BEGIN_MS + (number + 1) * 10_000)}  # 10 s a step: margin signals are delivered on the way
    kind = step[0]
    if kind == "order":
        _, symbol, side, qty, leverage, margin_mode = step
        return {"do": "order", "user": "alice", "account": "elite", "symbol": symbol, "side": side, "qty": qty,
                "leverage": leverage, "margin_mode": margin_mode, **at}
    if kind == "close":
        return {"do": "close", "user": "alice", "account": "elite", "symbol": step[1], **at}
    if kind == "lead_margin":
        return {"do": "margin", "user": "alice", "account": "elite", "symbol": step[1], "delta": step[2], **at}
    if kind == "copier_margin":
        _, copier, symbol, delta = step
        return {"do": "margin", "user": f"c{copier}", "account": "copy", "symbol": symbol, "lead": "alice",
                "delta": delta, **at}
    _, symbol, percent = step
    marks[symbol] = marks[symbol] * (100 + percent) // 100
    return {"do": "price", "symbol": symbol, "mark": str(marks[symbol]), **at}


def liquidation_prices(exchange: Exchange) -> dict:
    """Derived, so not in the state hash: every position's liquidation price as the risk index holds it."""
    return {position.key(): position.liquidation_price
            for account in exchange.accounts.values() for position in account.positions.values()}


def outcome_of(exchange: Exchange, command: dict) -> str:
    try:
        run(exchange, command)
    except Rejected as rejection:
        return rejection.code
    return "ok"


ALIKE = {"mode": "ratio", "amount": "20", "ratio": "0.1", "leverage": None, "margin_mode": None,
         "max_margin_per_order": None, "max_total_margin": None, "symbols": None, "tp_ratio": None, "funds": "5000"}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(follows, min_size=6, max_size=14), st.lists(steps, min_size=3, max_size=12))
# Four copies opened alike share their qty and entry; c0 adds margin to hers, then the lead's margin sync moves
# all four in one command: c0's liquidation price must be solved on its own.
@example([ALIKE] * 4, [("order", "BTCUSDT", "buy", "1", 10, "isolated"), ("copier_margin", 0, "BTCUSDT", "3"),
                       ("lead_margin", "BTCUSDT", "300"), ("price", "BTCUSDT", 2)])
def test_shared_fan_out_equals_one_copier_at_a_time(population, plan):
    shared, alone = world(population), world(population)
    shared_marks, alone_marks = dict(START), dict(START)
    for number, step in enumerate(plan):
        result = outcome_of(shared, line(step, shared_marks, number))
        assert result != "BAD_FIELD", step  # every generated line is well-formed: only trading rules refuse one
        with each_copier_on_its_own():
            assert outcome_of(alone, line(step, alone_marks, number)) == result
        assert shared.state_hash() == alone.state_hash(), step
        assert liquidation_prices(shared) == liquidation_prices(alone), step
    snapshot = {"do": "snapshot"}
    assert run(shared, snapshot) == run(alone, snapshot)
