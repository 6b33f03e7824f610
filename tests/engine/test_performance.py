"""The profile arithmetic of SPEC §8 on hand-computed series."""
from decimal import Decimal as D

from engine.performance import investment, max_drawdown, nav_series, sharpe, trade_stats


def test_investment_follows_net_transfers_as_in_the_spec():
    # start 5,000; in 1,000 → 6,000; out 2,000 → 6,000 (C 2,000); in 500 → 6,000 (C 1,500); in 2,000 → 6,500 (C 0)
    steps = [D(1000), D(-2000), D(500), D(2000)]
    assert [investment(D(5000), steps[:n]) for n in range(5)] == [D(5000), D(6000), D(6000), D(6000), D(6500)]


def test_nav_is_not_moved_by_transfers():
    # day1 10,000; day2 10,100 (+100 trading); day3 15,100 after a 5,000 deposit; day4 12,100 after −3,000 out
    equities = [D(10000), D(10100), D(15100), D(12100)]
    flows = [D(0), D(0), D(5000), D(-3000)]
    navs = nav_series(equities, flows)
    assert navs == [D(1), D("1.01"), D("1.01"), D("1.01")]
    # the naive "(end − start) / start" would have reported 51% and then 21%
    assert (equities[2] - equities[0]) / equities[0] == D("0.51")


def test_max_drawdown_is_the_largest_fall_from_a_peak():
    # from the 1.2 peak to 0.8: 0.4/1.2; to 0.9 only: 0.25
    assert max_drawdown([D(1), D("1.2"), D("0.9"), D("1.0"), D("0.8")]) == D("0.4") / D("1.2")
    assert max_drawdown([D(1), D("1.2"), D("0.9"), D("1.1")]) == D("0.25")
    assert max_drawdown([D(1), D("1.1"), D("1.2")]) == 0


def test_sharpe_is_mean_over_sample_stdev_times_root_365():
    # returns +10%, −5%, +4%: mean 0.03, sample variance ((0.07)² + (−0.08)² + (0.01)²)/2 = 0.0057
    navs = [D(1), D("1.1"), D("1.045"), D("1.0868")]
    expected = D("0.03") / D("0.0057").sqrt() * D(365).sqrt()
    assert abs(sharpe(navs) - expected) < D("1e-20")
    assert round(sharpe(navs), 4) == D("7.5915")
    assert sharpe([D(1), D("1.1")]) is None  # one return: no sample deviation


def test_trade_stats_win_rate_ratio_and_holding():
    # wins 30 and 10 (avg 20), losses 5 and 15 (avg 10): ratio 2; win rate 2/4; holding (60+120+180+240)/4 s
    stats = trade_stats([D(30), D(-5), D(10), D(-15)], [60_000, 120_000, 180_000, 240_000])
    assert stats == {"win_rate": D("0.5"), "profit_loss_ratio": D(2), "gainers": 2, "losers": 2,
                     "avg_holding_seconds": 150}
    assert trade_stats([], [])["win_rate"] is None
