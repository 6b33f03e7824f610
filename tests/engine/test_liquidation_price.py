from decimal import Decimal, localcontext

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.instruments import DEFAULT_INSTRUMENTS, Instrument
from engine.liquidation_price import bankruptcy_price, liquidation_price, max_removable
from engine.money import QUANTUM, usdt_up

D = Decimal
BTC = DEFAULT_INSTRUMENTS["BTCUSDT"]
ETH = DEFAULT_INSTRUMENTS["ETHUSDT"]
LONG, SHORT = 1, -1


def liquidatable(instrument: Instrument, side: int, qty: Decimal, entry: Decimal, mark: Decimal,
                 wallet_balance: Decimal, other_maintenance: Decimal = D(0), other_unrealized: Decimal = D(0)) -> bool:
    """SPEC §4 condition, evaluated exactly: margin balance + uPnL ≤ maintenance margin at mark."""
    with localcontext(prec=60):
        equity = wallet_balance + other_unrealized + side * qty * (mark - entry)
        return equity <= other_maintenance + instrument.maintenance_margin(qty * mark)


def test_isolated_long_example_from_the_spec():
    # (1,000 − 10,000) / (0.004 − 1) = 9,036.144578313…; a long rounds down, toward liquidation.
    price = liquidation_price(BTC, LONG, D(1), D(10000), D(1000))
    assert price == D("9036.14457831")
    assert price.quantize(D("0.01")) == D("9036.14")
    assert liquidatable(BTC, LONG, D(1), D(10000), price, D(1000))
    assert not liquidatable(BTC, LONG, D(1), D(10000), price + QUANTUM, D(1000))
    assert not liquidatable(BTC, LONG, D(1), D(10000), price + BTC.tick, D(1000))


def test_isolated_short_example_from_the_spec():
    # (1,000 + 10,000) / (0.004 + 1) = 10,956.175298804…; a short rounds up, toward liquidation.
    price = liquidation_price(BTC, SHORT, D(1), D(10000), D(1000))
    assert price == D("10956.17529881")
    assert price.quantize(D("0.01")) == D("10956.18")
    assert liquidatable(BTC, SHORT, D(1), D(10000), price, D(1000))
    assert not liquidatable(BTC, SHORT, D(1), D(10000), price - QUANTUM, D(1000))
    assert not liquidatable(BTC, SHORT, D(1), D(10000), price - BTC.tick, D(1000))


def test_cross_long_with_another_cross_position():
    # Cross wallet 2,000. Other cross position: short 10 ETH at 2,000, mark 2,100:
    #   uPnL₁ = −10 × 100 = −1,000; TMM₁ = 21,000 × 0.5% = 105 (ETH tier 1).
    # Long 1 BTC at 10,000, tier 1 (0.4%, cum 0):
    #   LP = (2,000 − 105 − 1,000 + 0 − 10,000) / (0.004 − 1) = 9,105 / 0.996 = 9,141.566265060…
    other_unrealized = D(-10) * (D(2100) - D(2000))
    other_maintenance = ETH.maintenance_margin(D(10) * D(2100))
    assert (other_unrealized, other_maintenance) == (D(-1000), D(105))
    price = liquidation_price(BTC, LONG, D(1), D(10000), D(2000), other_maintenance, other_unrealized)
    assert price == D("9141.56626506")
    args = (D(2000), other_maintenance, other_unrealized)
    assert liquidatable(BTC, LONG, D(1), D(10000), price, *args)
    assert not liquidatable(BTC, LONG, D(1), D(10000), price + QUANTUM, *args)


def test_long_recomputes_with_the_lower_tier_of_the_liquidation_notional():
    # Long 26 BTC at 10,000: entry notional 260,000 is tier 3 (1%, cum 1,300); 20x margin 13,000.
    #   tier 3 guess: (13,000 + 1,300 − 260,000) / (0.26 − 26) = 9,545.45…, × 26 = 248,181.8 → tier 2.
    #   tier 2: (13,000 + 50 − 260,000) / (0.13 − 26) = 246,950 / 25.87 = 9,545.805952841…,
    #   × 26 = 248,190.95 ≤ 250,000: tier 2 is consistent.
    assert BTC.tier_index(D(260000)) == 2
    price = liquidation_price(BTC, LONG, D(26), D(10000), D(13000))
    assert price == D("9545.80595284")
    assert BTC.tier_index(price * 26) == 1
    assert liquidatable(BTC, LONG, D(26), D(10000), price, D(13000))
    assert not liquidatable(BTC, LONG, D(26), D(10000), price + QUANTUM, D(13000))


def test_short_recomputes_with_the_higher_tier_of_the_liquidation_notional():
    # Short 24 BTC at 10,000: entry notional 240,000 is tier 2 (0.5%, cum 50); 20x margin 12,000.
    #   tier 2 guess: (12,000 + 50 + 240,000) / (0.12 + 24) = 10,449.83…, × 24 = 250,796 → tier 3.
    #   tier 3: (12,000 + 1,300 + 240,000) / (0.24 + 24) = 253,300 / 24.24 = 10,449.669966996…
    assert BTC.tier_index(D(240000)) == 1
    price = liquidation_price(BTC, SHORT, D(24), D(10000), D(12000))
    assert price == D("10449.66996700")
    assert BTC.tier_index(price * 24) == 2
    assert liquidatable(BTC, SHORT, D(24), D(10000), price, D(12000))
    assert not liquidatable(BTC, SHORT, D(24), D(10000), price - QUANTUM, D(12000))


def test_no_liquidation_price_for_a_fully_collateralised_long():
    # 1x long with margin = notional: equity never reaches MM above zero.
    assert liquidation_price(BTC, LONG, D(1), D(10000), D(10000)) is None


def test_bankruptcy_price():
    # Long: 10,000 − 1,000 / 1 = 9,000; short: 10,000 + 1,000 = 11,000.
    assert bankruptcy_price(LONG, D(1), D(10000), D(1000)) == D(9000)
    assert bankruptcy_price(SHORT, D(1), D(10000), D(1000)) == D(11000)
    # Long 3 at 100, margin 100: 100 − 33.33…; rounded up so the loss never exceeds the margin.
    assert bankruptcy_price(LONG, D(3), D(100), D(100)) == D("66.66666667")
    assert bankruptcy_price(SHORT, D(3), D(100), D(100)) == D("133.33333333")
    assert bankruptcy_price(LONG, D(1), D(10000), D(10000)) is None


def test_max_removable():
    # margin 1,000, uPnL −100, mark notional 9,900 at 10x: 1,000 − 100 − 990 = −90 → 0.
    assert max_removable(D(1000), D(-100), D(9900), 10) == 0
    # margin 2,000, uPnL +500 (never counted), mark notional 10,500 at 10x: 2,000 − 1,050 = 950.
    assert max_removable(D(2000), D(500), D(10500), 10) == D(950)
    # 10 / 3 = 3.333…: removable 6.666… is rounded down.
    assert max_removable(D(10), D(0), D(10), 3) == D("6.66666666")


@st.composite
def isolated_positions(draw):
    instrument = draw(st.sampled_from(list(DEFAULT_INSTRUMENTS.values())))
    side = draw(st.sampled_from([LONG, SHORT]))
    # Prices around each symbol's real level, quantities up to beyond the last tier.
    reference = {"BTCUSDT": 60000, "ETHUSDT": 3000, "SOLUSDT": 150, "XRPUSDT": D("0.5"), "DOGEUSDT": D("0.1")}
    entry = draw(st.integers(1, 10 * int(reference[instrument.symbol] / instrument.tick))) * instrument.tick
    most = int(instrument.tiers[-1].max_notional * 2 / (entry * instrument.step))
    qty = draw(st.integers(1, max(1, most))) * instrument.step
    notional = qty * entry
    leverage = draw(st.integers(1, instrument.max_leverage_for(notional)))
    margin = usdt_up(notional / leverage) + draw(st.integers(0, 10**8)) * QUANTUM * notional
    return instrument, side, qty, entry, margin


@settings(max_examples=400, deadline=None)
@given(isolated_positions())
def test_liquidation_condition_holds_at_the_price_and_not_one_step_inside(position):
    instrument, side, qty, entry, margin = position
    price = liquidation_price(instrument, side, qty, entry, margin)
    if price is None:  # only a long so well collateralised that no positive mark liquidates it
        assert side == LONG and not liquidatable(instrument, side, qty, entry, QUANTUM, margin)
        return
    assert price > 0 and price == price.quantize(QUANTUM)
    assert liquidatable(instrument, side, qty, entry, price, margin)
    assert not liquidatable(instrument, side, qty, entry, price + side * QUANTUM, margin)
