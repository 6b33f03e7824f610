"""Market-data feeds: the seeded simulation and the CSV replay."""
from __future__ import annotations

import math
from decimal import Decimal

import pytest

from app.feeds import (DEFAULT_START_PRICES, DEFAULT_TICKS, CsvReplayFeed, FeedError, PriceTick,
                       SimulatedFeed)
from app.feeds.simulated import DEFAULT_PROFILES, MS_PER_DAY, MS_PER_YEAR

MINUTE = 60_000
HOUR = 60 * MINUTE


def default_feed(seed: int = 7, **options) -> SimulatedFeed:
    return SimulatedFeed(DEFAULT_START_PRICES, DEFAULT_TICKS, seed, **options)


def run(feed: SimulatedFeed, steps: int, dt_ms: int) -> list[list[PriceTick]]:
    return [feed.advance(dt_ms) for _ in range(steps)]


# --- PriceTick -------------------------------------------------------------------------------------

def test_tick_becomes_a_scenario_price_line_with_plain_decimal_strings():
    tick = PriceTick(at_ms=0, symbol="DOGEUSDT", mark=Decimal("0.00001"), last=Decimal("97000.0"),
                     index=Decimal("1E+2"))
    assert tick.to_command() == {"do": "price", "symbol": "DOGEUSDT",
                                 "mark": "0.00001", "last": "97000", "index": "100"}


# --- SimulatedFeed ---------------------------------------------------------------------------------

def test_same_seed_gives_the_same_ticks_and_another_seed_differs():
    first = run(default_feed(seed=42), 1000, 1000)
    assert first == run(default_feed(seed=42), 1000, 1000)
    assert first != run(default_feed(seed=43), 1000, 1000)


def test_one_tick_per_symbol_in_start_price_order_stamped_with_simulated_time():
    feed = default_feed(start_ms=1_000_000)
    ticks = feed.advance(250)
    assert [tick.symbol for tick in ticks] == list(DEFAULT_START_PRICES)
    assert {tick.at_ms for tick in ticks} == {1_000_250}


def test_first_tick_at_zero_elapsed_time_starts_from_the_start_prices():
    for tick in default_feed().advance(0):
        assert tick.index == DEFAULT_START_PRICES[tick.symbol]


def test_prices_stay_positive_and_on_the_tick_grid_over_ten_thousand_steps():
    # A near-worthless, wildly volatile coin as well: it must floor at one tick, never reach zero.
    starts = {**DEFAULT_START_PRICES, "PEPEUSDT": Decimal("0.00002")}
    ticks = {**DEFAULT_TICKS, "PEPEUSDT": Decimal("0.00001")}
    feed = SimulatedFeed(starts, ticks, 3, speed=600, volatility={"PEPEUSDT": 5.0})
    for step in run(feed, 10_000, 1000):
        for tick in step:
            for price in (tick.mark, tick.last, tick.index):
                assert isinstance(price, Decimal) and price.is_finite()
                assert price > 0
                assert price % ticks[tick.symbol] == 0
    assert step[-1].index == Decimal("0.00001")  # it did sink to the floor


def test_mark_carries_a_small_mean_reverting_premium_and_last_stays_within_two_ticks():
    premiums = []
    for step in run(default_feed(seed=11), 5000, MINUTE):
        for tick in step:
            size = DEFAULT_TICKS[tick.symbol]
            assert abs(tick.last - tick.mark) <= 2 * size
            if tick.symbol == "BTCUSDT":
                premiums.append(float(tick.mark / tick.index - 1))
    assert max(abs(premium) for premium in premiums) < 0.0020  # never more than 20 bp
    assert 0.00005 < sum(premiums) / len(premiums) < 0.00015  # about +1 bp on average
    assert min(premiums) < 0 < max(premiums)  # it does swing both ways


def test_jumps_arrive_at_about_the_configured_rate():
    days = 200
    feed = default_feed(seed=5)
    run(feed, days * 24, HOUR)
    for symbol, count in feed.jump_counts.items():
        expected = DEFAULT_PROFILES[symbol].jumps_per_day * days
        assert 0.8 * expected < count < 1.2 * expected, symbol


def realised_volatility(indexes: list[Decimal], dt_ms: int) -> float:
    returns = [math.log(b / a) for a, b in zip(indexes, indexes[1:])]
    mean = sum(returns) / len(returns)
    variance = sum((r - mean) ** 2 for r in returns) / (len(returns) - 1)
    return math.sqrt(variance * MS_PER_YEAR / dt_ms)


def test_realised_volatility_roughly_matches_each_profile():
    dt_ms = 5 * MINUTE
    steps = run(default_feed(seed=9), 60 * MS_PER_DAY // dt_ms, dt_ms)
    for column, symbol in enumerate(DEFAULT_START_PRICES):
        realised = realised_volatility([step[column].index for step in steps], dt_ms)
        target = DEFAULT_PROFILES[symbol].volatility
        assert 0.85 * target < realised < 1.15 * target, (symbol, realised)


def test_volatility_override_sets_the_level_and_zero_holds_the_index_still():
    dt_ms = 5 * MINUTE
    feed = default_feed(seed=9, volatility={"BTCUSDT": 0.2, "ETHUSDT": 0})
    steps = run(feed, 30 * MS_PER_DAY // dt_ms, dt_ms)
    assert 0.17 < realised_volatility([step[0].index for step in steps], dt_ms) < 0.23
    assert {step[1].index for step in steps} == {Decimal("3400.00")}
    assert feed.jump_counts["ETHUSDT"] == 0


def test_speed_scales_simulated_time():
    fast = run(default_feed(seed=1, speed=10), 500, 100)
    assert fast == run(default_feed(seed=1), 500, 1000)
    assert fast[-1][0].at_ms == 500 * 1000


def test_fractional_speed_does_not_drift():
    feed = default_feed(speed=0.3)
    run(feed, 999, 1)
    assert feed.advance(1)[0].at_ms == 300


@pytest.mark.parametrize("options, message", [
    ({"speed": 0}, "speed"),
    ({"speed": float("inf")}, "speed"),
    ({"volatility": {"ADAUSDT": 0.5}}, "unknown symbols"),
    ({"volatility": {"BTCUSDT": -0.1}}, "volatility"),
])
def test_bad_options_are_refused(options, message):
    with pytest.raises(ValueError, match=message):
        default_feed(**options)


def test_every_symbol_needs_a_positive_tick_and_start_price():
    with pytest.raises(ValueError, match="no tick size"):
        SimulatedFeed(DEFAULT_START_PRICES, {"BTCUSDT": Decimal("0.1")}, 1)
    with pytest.raises(ValueError, match="positive"):
        SimulatedFeed({"BTCUSDT": Decimal("0")}, DEFAULT_TICKS, 1)


def test_simulated_time_never_goes_back():
    with pytest.raises(ValueError, match="never goes back"):
        default_feed().advance(-1)


# --- CsvReplayFeed ---------------------------------------------------------------------------------

RECORDING = """time,symbol,mark,last,index
2026-01-05T00:00:00Z,BTCUSDT,97000.5,97000.4,96990
2026-01-05T00:00:00Z,ETHUSDT,3400.25,,
2026-01-05T00:00:01Z,BTCUSDT,97001,97001.1,96991

1767571202000,BTCUSDT,97002,97002,96992
"""
T0 = 1_767_571_200_000  # 2026-01-05T00:00:00Z


def test_replay_plays_rows_in_order_as_the_clock_reaches_them():
    feed = CsvReplayFeed.from_text(RECORDING)
    first = feed.advance(0)
    assert [(tick.at_ms, tick.symbol) for tick in first] == [(T0, "BTCUSDT"), (T0, "ETHUSDT")]
    assert first[0] == PriceTick(T0, "BTCUSDT", Decimal("97000.5"), Decimal("97000.4"), Decimal("96990"))
    assert feed.advance(999) == []
    assert [tick.at_ms for tick in feed.advance(1)] == [T0 + 1000]
    assert not feed.done
    assert [tick.at_ms for tick in feed.advance(5000)] == [T0 + 2000]  # epoch ms row, after a blank line
    assert feed.done and feed.advance(1000) == []


def test_last_and_index_default_to_mark_when_empty_or_absent():
    eth = CsvReplayFeed.from_text(RECORDING).advance(0)[1]
    assert eth.last == eth.index == eth.mark == Decimal("3400.25")
    for header in ("time,symbol,mark", "time,symbol,mark,index"):
        row = "2026-01-05T00:00:00Z,SOLUSDT,190" + ("" if header.count(",") == 2 else ",189.9")
        tick = CsvReplayFeed.from_text(f"{header}\n{row}\n").advance(0)[0]
        assert tick.last == tick.mark == Decimal("190")
    assert tick.index == Decimal("189.9")


def test_offset_times_are_converted_to_utc():
    text = "time,symbol,mark\n2026-01-05T01:00:00+01:00,BTCUSDT,1\n"
    assert CsvReplayFeed.from_text(text).advance(0)[0].at_ms == T0


def test_header_only_file_is_done_at_once():
    feed = CsvReplayFeed.from_text("time,symbol,mark\n")
    assert feed.done and feed.advance(1000) == []


def test_from_path_reads_a_file_even_with_a_byte_order_mark(tmp_path):
    path = tmp_path / "prices.csv"
    path.write_text(RECORDING, encoding="utf-8-sig")
    assert CsvReplayFeed.from_path(path).advance(10_000) == CsvReplayFeed.from_text(RECORDING).advance(10_000)


GOOD = "2026-01-05T00:00:00Z,BTCUSDT,97000"


@pytest.mark.parametrize("text, line, message", [
    ("", 1, "header must be"),
    ("time,sym,mark\n" + GOOD, 1, "header must be"),
    ("time,symbol,mark,index,last\n" + GOOD, 1, "header must be"),
    ("time,symbol,mark\n" + GOOD + "\n2026-01-05T00:00:01Z,BTCUSDT\n", 3, "expected 3 fields"),
    ("time,symbol,mark\n" + GOOD + "\nyesterday,BTCUSDT,1\n", 3, "neither ISO-8601"),
    ("time,symbol,mark\n" + GOOD + "\n2026-01-05T00:00:01,BTCUSDT,1\n", 3, "no time zone"),
    ("time,symbol,mark\n" + GOOD + "\n2026-01-05T00:00:01Z,BTCUSDT,abc\n", 3, "mark is not a number"),
    ("time,symbol,mark\n" + GOOD + "\n2026-01-05T00:00:01Z,BTCUSDT,0\n", 3, "greater than zero"),
    ("time,symbol,mark\n" + GOOD + "\n2026-01-05T00:00:01Z,BTCUSDT,-5\n", 3, "must not be negative"),
    ("time,symbol,mark\n" + GOOD + "\n2026-01-05T00:00:01Z,BTCUSDT,NaN\n", 3, "must be finite"),
    ("time,symbol,mark\n" + GOOD + "\n2026-01-05T00:00:01Z,BTCUSDT,Infinity\n", 3, "must be finite"),
    ("time,symbol,mark,last\n" + GOOD + ",1\n2026-01-05T00:00:01Z,BTCUSDT,1,x\n", 3, "last is not a number"),
    ("time,symbol,mark,index\n" + GOOD + ",1\n2026-01-05T00:00:01Z,BTCUSDT,1,0\n", 3, "index must be greater"),
    ("time,symbol,mark\n" + GOOD + "\n2026-01-05T00:00:01Z,,1\n", 3, "symbol is empty"),
    ("time,symbol,mark\n" + GOOD + "\n2026-01-04T23:59:59Z,BTCUSDT,1\n", 3, "before the previous row"),
])
def test_bad_files_are_refused_naming_the_line(text, line, message):
    with pytest.raises(FeedError, match=rf"^line {line}: .*{message}"):
        CsvReplayFeed.from_text(text)


def test_feed_error_is_a_value_error():
    assert issubclass(FeedError, ValueError)


def test_replay_time_never_goes_back():
    with pytest.raises(ValueError, match="never goes back"):
        CsvReplayFeed.from_text(RECORDING).advance(-1)
