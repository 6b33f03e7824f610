from decimal import Decimal

import pytest

from engine.errors import Rejected
from engine.instruments import DEFAULT_INSTRUMENTS, derive_tiers, parse_instrument

D = Decimal
BTC = DEFAULT_INSTRUMENTS["BTCUSDT"]

# (max_notional, max_leverage, MMR, cum) exactly as SPEC §2 publishes them.
BTC_TABLE = [
    ("50000", 125, "0.004", "0"),
    ("250000", 100, "0.005", "50"),
    ("1000000", 50, "0.01", "1300"),
    ("10000000", 20, "0.025", "16300"),
    ("20000000", 10, "0.05", "266300"),
    ("50000000", 5, "0.10", "1266300"),
    ("100000000", 4, "0.125", "2516300"),
    ("200000000", 3, "0.15", "5016300"),
    ("300000000", 2, "0.25", "25016300"),
    ("500000000", 1, "0.50", "100016300"),
]


def test_btc_tiers_match_the_spec_table():
    assert [(t.max_notional, t.max_leverage, t.mmr, t.cum) for t in BTC.tiers] == [
        (D(cap), lev, D(mmr), D(cum)) for cap, lev, mmr, cum in BTC_TABLE]


def test_btc_instrument_fields():
    assert (BTC.tick, BTC.step, BTC.min_qty, BTC.min_notional) == (D("0.1"), D("0.001"), D("0.001"), D(5))
    assert (BTC.max_leverage, BTC.funding_hours, BTC.liquidation_fee) == (125, 8, D("0.003"))
    assert (BTC.maker_fee, BTC.taker_fee) == (D("0.0002"), D("0.0005"))


@pytest.mark.parametrize("symbol, funding_hours, liquidation_fee, max_leverage", [
    ("ETHUSDT", 8, "0.005", 125), ("SOLUSDT", 4, "0.005", 75),
    ("XRPUSDT", 4, "0.005", 75), ("DOGEUSDT", 4, "0.005", 50),
])
def test_other_defaults(symbol, funding_hours, liquidation_fee, max_leverage):
    instrument = DEFAULT_INSTRUMENTS[symbol]
    assert instrument.funding_hours == funding_hours
    assert instrument.liquidation_fee == D(liquidation_fee)
    assert instrument.max_leverage == max_leverage
    assert instrument.min_notional == D(5) and instrument.min_qty == instrument.step


def test_maintenance_margin_example_from_the_spec():
    # 264,000 is in tier 3: 264,000 × 1% − 1,300 = 1,340.
    assert BTC.maintenance_margin(D(264000)) == D(1340)
    assert BTC.tier_index(D(264000)) == 2


@pytest.mark.parametrize("instrument", DEFAULT_INSTRUMENTS.values(), ids=DEFAULT_INSTRUMENTS.keys())
def test_maintenance_margin_is_continuous_at_every_tier_boundary(instrument):
    for lower, upper in zip(instrument.tiers, instrument.tiers[1:]):
        boundary = lower.max_notional
        assert boundary * lower.mmr - lower.cum == boundary * upper.mmr - upper.cum
        assert instrument.maintenance_margin(boundary) == boundary * upper.mmr - upper.cum


def test_tier_lookup_boundaries_and_beyond():
    assert BTC.tier_index(D(0)) == 0
    assert BTC.tier_index(D(50000)) == 0  # a cap is inclusive
    assert BTC.tier_index(D("50000.01")) == 1
    assert BTC.tier_for(D("1e12")) is BTC.tiers[-1]
    assert BTC.maintenance_margin(D(0)) == 0


def test_max_leverage_for_takes_the_stricter_of_instrument_and_tier():
    assert BTC.max_leverage_for(D(10000)) == 125
    assert BTC.max_leverage_for(D(300000)) == 50
    capped = parse_instrument({"symbol": "BTCUSDT", "max_leverage": 20}, BTC)
    assert capped.max_leverage_for(D(10000)) == 20
    assert capped.max_leverage_for(D(15_000_000)) == 10


@pytest.mark.parametrize("instrument", DEFAULT_INSTRUMENTS.values(), ids=DEFAULT_INSTRUMENTS.keys())
def test_to_fields_round_trips_through_the_parser(instrument):
    assert parse_instrument(instrument.to_fields(), None) == instrument


def test_override_keeps_unspecified_fields():
    changed = parse_instrument({"do": "instrument", "at": "2026-01-05T00:00:00Z", "symbol": "BTCUSDT",
                                "taker_fee": "0.0004", "funding_hours": 1}, BTC)
    assert changed.taker_fee == D("0.0004") and changed.funding_hours == 1
    assert changed.tiers == BTC.tiers and changed.tick == BTC.tick and changed.maker_fee == BTC.maker_fee


def test_override_of_tiers_derives_cum_and_caps_inherited_leverage():
    changed = parse_instrument({"symbol": "BTCUSDT", "tiers": [
        {"max_notional": "10000", "max_leverage": 20, "mmr": "0.01"},
        {"max_notional": "100000", "max_leverage": 10, "mmr": "0.025"}]}, BTC)
    assert [t.cum for t in changed.tiers] == [D(0), D(150)]  # 10,000 × (2.5% − 1%)
    assert changed.max_leverage == 20


def test_new_symbol_takes_sensible_defaults():
    pepe = parse_instrument({"symbol": "PEPEUSDT", "tick": "0.00000001", "step": "1000", "tiers": [
        {"max_notional": "5000", "max_leverage": 25, "mmr": "0.02"},
        {"max_notional": "50000", "max_leverage": 10, "mmr": "0.05"}]}, None)
    assert pepe.min_qty == D(1000) and pepe.min_notional == D(5)
    assert pepe.max_leverage == 25 and pepe.funding_hours == 8
    assert (pepe.maker_fee, pepe.taker_fee, pepe.liquidation_fee) == (D("0.0002"), D("0.0005"), D("0.005"))
    assert pepe.tiers[1].cum == D(150)  # 5,000 × (5% − 2%)


def test_zero_fees_are_allowed():
    free = parse_instrument({"symbol": "BTCUSDT", "maker_fee": "0", "taker_fee": "0", "liquidation_fee": "0"}, BTC)
    assert free.maker_fee == free.taker_fee == free.liquidation_fee == 0


TIER = {"max_notional": "50000", "max_leverage": 20, "mmr": "0.01"}


@pytest.mark.parametrize("fields, code, names", [
    ({"tick": "0.1"}, "BAD_FIELD", "symbol"),
    ({"symbol": "btcusdt"}, "BAD_FIELD", "symbol"),
    ({"symbol": "B"}, "BAD_FIELD", "symbol"),
    ({"symbol": "BTC-USDT"}, "BAD_FIELD", "symbol"),
    ({"symbol": "BTCUSDT", "tik": "0.1"}, "BAD_FIELD", "tik"),
    ({"symbol": "BTCUSDT", "tick": "0"}, "INVALID_PRICE", "tick"),
    ({"symbol": "BTCUSDT", "tick": "-0.1"}, "INVALID_PRICE", "tick"),
    ({"symbol": "BTCUSDT", "tick": 0.1}, "INVALID_PRICE", "tick"),
    ({"symbol": "BTCUSDT", "tick": "0.000000001"}, "INVALID_PRICE", "tick"),
    ({"symbol": "BTCUSDT", "step": "abc"}, "INVALID_QTY", "step"),
    ({"symbol": "BTCUSDT", "step": "0.01"}, "INVALID_QTY", "min_qty"),  # inherited 0.001 is off the new step
    ({"symbol": "BTCUSDT", "min_qty": "0.0015"}, "INVALID_QTY", "min_qty"),
    ({"symbol": "BTCUSDT", "min_qty": "0"}, "INVALID_QTY", "min_qty"),
    ({"symbol": "BTCUSDT", "min_notional": "-5"}, "BAD_FIELD", "min_notional"),
    ({"symbol": "BTCUSDT", "max_leverage": "20"}, "BAD_FIELD", "max_leverage"),
    ({"symbol": "BTCUSDT", "max_leverage": True}, "BAD_FIELD", "max_leverage"),
    ({"symbol": "BTCUSDT", "max_leverage": 0}, "BAD_FIELD", "max_leverage"),
    ({"symbol": "BTCUSDT", "max_leverage": 200}, "BAD_FIELD", "max_leverage"),
    ({"symbol": "BTCUSDT", "funding_hours": 3}, "BAD_FIELD", "funding_hours"),
    ({"symbol": "BTCUSDT", "funding_hours": "8"}, "BAD_FIELD", "funding_hours"),
    ({"symbol": "BTCUSDT", "maker_fee": "-0.0001"}, "BAD_FIELD", "maker_fee"),
    ({"symbol": "BTCUSDT", "taker_fee": "1"}, "BAD_FIELD", "taker_fee"),
    ({"symbol": "BTCUSDT", "liquidation_fee": "0.123456789"}, "BAD_FIELD", "liquidation_fee"),
    ({"symbol": "BTCUSDT", "tiers": []}, "BAD_FIELD", "tiers"),
    ({"symbol": "BTCUSDT", "tiers": TIER}, "BAD_FIELD", "tiers"),
    ({"symbol": "BTCUSDT", "tiers": [{"max_notional": "50000", "mmr": "0.01"}]}, "BAD_FIELD", "tier 1"),
    ({"symbol": "BTCUSDT", "tiers": [{**TIER, "mmr": "0"}]}, "BAD_FIELD", "tier 1 mmr"),
    ({"symbol": "BTCUSDT", "tiers": [{**TIER, "mmr": "1"}]}, "BAD_FIELD", "tier 1 mmr"),
    ({"symbol": "BTCUSDT", "tiers": [{**TIER, "max_notional": "0"}]}, "BAD_FIELD", "tier 1 max_notional"),
    ({"symbol": "BTCUSDT", "tiers": [{**TIER, "max_leverage": 0}]}, "BAD_FIELD", "tier 1 max_leverage"),
    ({"symbol": "BTCUSDT", "tiers": [{**TIER, "max_leverage": 100}]}, "BAD_FIELD", "tier 1 mmr"),  # 1% ≥ 1/100
    ({"symbol": "BTCUSDT", "tiers": [TIER, {**TIER, "max_notional": "40000"}]}, "BAD_FIELD", "tier 2 max_notional"),
    ({"symbol": "BTCUSDT", "tiers": [TIER, {**TIER, "max_notional": "90000", "mmr": "0.005"}]},
     "BAD_FIELD", "tier 2 mmr"),
    ({"symbol": "BTCUSDT", "tiers": [TIER, {**TIER, "max_notional": "90000", "max_leverage": 25}]},
     "BAD_FIELD", "tier 2 max_leverage"),
])
def test_bad_fields_are_rejected_naming_the_field(fields, code, names):
    with pytest.raises(Rejected) as rejected:
        parse_instrument(fields, BTC)
    assert rejected.value.code == code
    assert names in rejected.value.message


@pytest.mark.parametrize("missing", ["tick", "step", "tiers"])
def test_new_symbol_requires_tick_step_and_tiers(missing):
    fields = {"symbol": "NEWUSDT", "tick": "0.01", "step": "0.1", "tiers": [TIER]}
    del fields[missing]
    with pytest.raises(Rejected) as rejected:
        parse_instrument(fields, None)
    assert rejected.value.code == "BAD_FIELD" and missing in rejected.value.message


def test_derive_tiers_needs_at_least_one_tier():
    with pytest.raises(Rejected) as rejected:
        derive_tiers([])
    assert rejected.value.code == "BAD_FIELD"
