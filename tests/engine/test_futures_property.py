"""Random orders, price moves, margin changes and funding over several accounts: the invariants of
SPEC §1, §4 and §5 hold after every step."""
from decimal import Decimal, localcontext

from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from engine.commands import parse_line
from engine.errors import Rejected
from engine.exchange import Exchange
from engine.fills import Fill
from engine.funding import FundingPayment
from engine.liquidation import Liquidation
from engine.money import usdt_up
from engine.valuation import available_balance

D = Decimal
STEP = D("1e-8")
USERS = ("ann", "ben", "cy")
# TSTUSDT has small tiers so that positions often sit above the first one (partial liquidation).
TEST_INSTRUMENT = {"do": "instrument", "symbol": "TSTUSDT", "tick": "0.01", "step": "0.1", "min_notional": "5",
                   "funding_hours": 4, "liquidation_fee": "0.01",
                   "tiers": [{"max_notional": "1000", "max_leverage": 50, "mmr": "0.01"},
                             {"max_notional": "5000", "max_leverage": 25, "mmr": "0.02"},
                             {"max_notional": "20000", "max_leverage": 10, "mmr": "0.05"},
                             {"max_notional": "100000", "max_leverage": 4, "mmr": "0.1"}]}
START = {"BTCUSDT": D("10000"), "ETHUSDT": D("2000"), "TSTUSDT": D("100")}
SYMBOLS = tuple(START)

users = st.sampled_from(USERS)
symbols = st.sampled_from(SYMBOLS)
sides = st.sampled_from(("buy", "sell"))


def qty_of(exchange, user, symbol, leverage, permille):
    """A quantity worth `permille` of what the account's available balance could open at this leverage."""
    step = exchange.instruments[symbol].step
    free = available_balance(exchange, exchange.accounts[f"{user}:futures"])
    most = free * leverage / exchange.markets[symbol].last
    return str(step * max(1, (most * permille / 1000 / step).to_integral_value()))


def held(exchange, pick):
    """The pick-th open position (in a stable order), or None."""
    positions = sorted((p.account, p.symbol) for a in exchange.accounts.values() for p in a.positions.values())
    return positions[pick % len(positions)] if positions else None


orders = st.tuples(st.just("order"), users, symbols, sides, st.integers(1, 1100),
                   st.sampled_from((1, 2, 5, 10, 20, 25, 50)), st.sampled_from(("isolated", "cross")),
                   st.sampled_from(("market", "market", "limit", "post_only", "stop_market", "stop_limit",
                                    "trailing_stop", "scaled")), st.integers(1, 50),
                   st.sampled_from((False, False, False, True)))
picks = st.integers(0, 100)
closes = st.tuples(st.just("close"), picks, st.sampled_from((None, 2, 4)))
reverses = st.tuples(st.just("reverse"), picks)
margins = st.tuples(st.just("margin"), picks, st.integers(-100, 100))
leverages = st.tuples(st.just("leverage"), picks, st.sampled_from((2, 5, 10, 20)))
moves = st.tuples(st.just("move"), symbols, st.one_of(st.integers(-30, 30), st.integers(-300, 300)))
to_lp = st.tuples(st.just("to_lp"), picks, st.sampled_from((-1, 0, 1)))
rates = st.tuples(st.just("rate"), symbols, st.integers(-50, 50))
advances = st.tuples(st.just("advance"), st.integers(1, 9))
actions = st.one_of(orders, orders, orders, orders, orders, orders, closes, reverses, margins, margins, leverages,
                    moves, moves, moves, moves, to_lp, to_lp, rates, advances)


def line_for(exchange, action):
    kind = action[0]
    if kind == "order":
        _, user, symbol, side, units, leverage, mode, order_type, offset, reduce_only = action
        line = {"do": "order", "user": user, "account": "futures", "symbol": symbol, "side": side,
                "qty": qty_of(exchange, user, symbol, leverage, units), "leverage": leverage, "margin_mode": mode, "reduce_only": reduce_only}
        if order_type != "market":
            tick = exchange.instruments[symbol].tick
            last = exchange.markets[symbol].last

            def level(permille):
                return str(max(tick, (last * (1 + D(permille) / 1000) / tick).to_integral_value() * tick))
            # Limits rest below (buy) or above (sell) the last price; stops trigger the other way round.
            sign = -1 if side == "buy" else 1
            line["type"] = order_type
            if order_type in ("limit", "post_only"):
                line["price"] = level(sign * offset)
            elif order_type == "stop_market":
                line["trigger"] = level(-sign * offset)
            elif order_type == "stop_limit":
                line.update({"trigger": level(-sign * offset), "price": level(-sign * offset // 2)})
            elif order_type == "trailing_stop":
                line["callback"] = str(D(offset) / 1000)
            else:
                line.update({"price": level(sign * offset), "price_to": level(sign * (offset + 20)), "count": 3})
        return line
    if kind in ("close", "reverse", "margin", "leverage"):
        found = held(exchange, action[1])
        if found is None:
            return None
        account, symbol = found
        user = account.split(":")[0]
        line = {"do": kind, "user": user, "account": "futures", "symbol": symbol}
        position = exchange.accounts[account].positions[(symbol, "")]
        if kind == "close" and action[2]:
            step = exchange.instruments[symbol].step
            line["qty"] = str(max(step, (position.qty / action[2] / step).to_integral_value() * step))
        elif kind == "margin":
            delta = (max(position.margin, D(10)) * action[2] / 100).quantize(D("0.01"))
            line["delta"] = str(delta or 1)
        elif kind == "leverage":
            line["leverage"] = action[2]
        return line
    if kind == "move":
        _, symbol, permille = action
        tick = exchange.instruments[symbol].tick
        mark = exchange.markets[symbol].mark * (1 + D(permille) / 1000)
        mark = max(tick, (mark / tick).to_integral_value() * tick)
        return {"do": "price", "symbol": symbol, "mark": str(mark)}
    if kind == "to_lp":
        # Put a mark exactly on some position's liquidation price, or 1e-8 either side of it.
        _, pick, offset = action
        priced = sorted((p.symbol, p.account, p.liquidation_price) for a in exchange.accounts.values()
                        for p in a.positions.values() if p.liquidation_price is not None)
        if not priced:
            return None
        symbol, _, lp = priced[pick % len(priced)]
        return {"do": "price", "symbol": symbol, "mark": str(max(STEP, lp + offset * STEP))}
    if kind == "rate":
        return {"do": "funding_rate", "symbol": action[1], "rate": str(D(action[2]) / 10000)}
    if kind == "advance":
        return {"do": "advance", "by": f"{action[1]}h"}
    raise AssertionError(kind)


def exact_isolated_unhealthy(instrument, position, mark, margin=None):
    """margin + uPnL(mark) ≤ MM(mark), without any rounding."""
    with localcontext(prec=60):
        margin = position.margin if margin is None else margin
        equity = margin + position.side * position.qty * (mark - position.entry_price)
        return equity <= instrument.maintenance_margin(position.qty * mark)


def exact_cross_unhealthy(exchange, account):
    with localcontext(prec=60):
        cross = [p for p in account.positions.values() if not p.isolated]
        if not cross:
            return False
        balance = exchange.ledger.balance(account.id)
        balance -= sum((p.margin for p in account.positions.values() if p.isolated), D(0))
        balance -= sum((o.reserved_margin for o in account.orders.values()), D(0))
        maintenance = D(0)
        for p in cross:
            mark = exchange.markets[p.symbol].mark
            balance += p.side * p.qty * (mark - p.entry_price)
            maintenance += exchange.instruments[p.symbol].maintenance_margin(p.qty * mark)
        return balance <= maintenance


def isolated_losses(events, leverage):
    """Per position key: what the step took from it (realized loss, liquidation fees, funding), and the
    margin the step's opening fills added to it (at the position's leverage before the step, else 1x)."""
    losses, added = {}, {}
    for event in events:
        if isinstance(event, Fill):
            key = (event.account, event.symbol, event.lead)
            losses[key] = losses.get(key, D(0)) - event.realized_pnl
            opened = event.qty - event.closed_qty
            if opened:
                added[key] = added.get(key, D(0)) + usdt_up(opened * event.price / leverage.get(key, 1))
        elif isinstance(event, Liquidation):
            key = (f"{event.user}:{event.account}", event.symbol, event.lead)
            losses[key] = losses.get(key, D(0)) + event.fee
        elif isinstance(event, FundingPayment):
            key = (event.account, event.symbol, event.lead)
            losses[key] = losses.get(key, D(0)) - event.amount
    return losses, added


def check_invariants(exchange, before_isolated, events, was_tick):
    # The ledger sums to zero; no user wallet is ever negative.
    assert exchange.ledger_sum() == 0
    for name, wallet in exchange.ledger.wallets.items():
        if ":" in name:
            assert wallet.balance >= 0, (name, wallet.balance)
    # An isolated position never loses more than the margin it had (and what the step added to it).
    losses, added = isolated_losses(events, {key: lev for key, (_, lev) in before_isolated.items()})
    for key, loss in losses.items():
        if key in before_isolated:
            bound = before_isolated[key][0] + added.get(key, D(0))
            assert loss <= bound, (key, loss, bound)
    for account in exchange.accounts.values():
        for position in account.positions.values():
            instrument = exchange.instruments[position.symbol]
            mark = exchange.markets[position.symbol].mark
            lp = position.liquidation_price
            if position.isolated:
                assert position.margin >= 0
                # The liquidation price is consistent with the margin: the condition holds at LP and not
                # one 1e-8 step on the safe side.
                if lp is not None:
                    assert exact_isolated_unhealthy(instrument, position, lp), (position, lp)
                    assert not exact_isolated_unhealthy(instrument, position, lp + position.side * STEP), (position, lp)
                else:
                    assert position.side > 0 and not exact_isolated_unhealthy(instrument, position, STEP)
                # What survives is healthy and not past its liquidation price.
                assert not exact_isolated_unhealthy(instrument, position, mark), (position, mark)
            if lp is not None and was_tick:
                assert position.side * (mark - lp) > 0, (position, mark, lp)
        assert not exact_cross_unhealthy(exchange, account), account.id


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(deposits=st.lists(st.integers(100, 20000), min_size=3, max_size=3),
       fund=st.sampled_from(("0", "100", "1000000")),
       slippage=st.sampled_from(("0", "1", "5")),
       steps=st.lists(actions, min_size=20, max_size=100))
def test_futures_invariants_hold_after_every_step(deposits, fund, slippage, steps):
    exchange = Exchange()
    setup = [{"do": "config", "slippage_bps": slippage, "insurance_fund": fund}, TEST_INSTRUMENT]
    for user, amount in zip(USERS, deposits):
        setup += [{"do": "user", "name": user}, {"do": "deposit", "user": user, "amount": str(amount)},
                  {"do": "transfer", "user": user, "from": "funding", "to": "futures", "amount": str(amount)}]
    setup += [{"do": "price", "symbol": s, "mark": str(p)} for s, p in START.items()]
    for line in setup:
        exchange.execute(parse_line(line))
    exchange.take_events()
    for action in steps:
        line = line_for(exchange, action)
        if line is None:
            continue
        before_isolated = {p.key(): (p.margin, p.leverage) for a in exchange.accounts.values()
                           for p in a.positions.values() if p.isolated}
        note(line)
        before = exchange.state_hash()
        try:
            exchange.execute(parse_line(line))
        except Rejected:
            # A rejected command changes nothing.
            assert exchange.state_hash() == before, line
        check_invariants(exchange, before_isolated, exchange.take_events(), line["do"] == "price")
        exchange.changes.clear()  # as the desk does after each commit: nothing stays "touched"
