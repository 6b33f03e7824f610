"""Performance arithmetic for trader profiles (SPEC §8), as pure functions of plain series.

Kept apart from the exchange so each rule can be checked by hand: investment by net transfers,
a NAV that transfers do not move, drawdown, Sharpe, win rate and profit/loss ratio.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

from .money import ZERO

SQRT_365 = Decimal(365).sqrt()


def investment(start_equity: Decimal, transfers: Iterable[Decimal]) -> Decimal:
    """Start at the period's opening equity; transfers out accumulate in C; a transfer in first
    refills C and only the excess raises the investment."""
    invested, owed_back = start_equity, ZERO
    for amount in transfers:
        if amount < 0:
            owed_back += -amount
        elif amount <= owed_back:
            owed_back -= amount
        else:
            invested += amount - owed_back
            owed_back = ZERO
    return invested


def nav_series(equities: Sequence[Decimal], net_transfers: Sequence[Decimal]) -> list[Decimal]:
    """NAV₀ = 1; NAVₜ = NAVₜ₋₁ × (equityₜ − net transferₜ) ÷ equityₜ₋₁ (flat while equity is zero)."""
    if not equities:
        return []
    navs = [Decimal(1)]
    for t in range(1, len(equities)):
        previous = equities[t - 1]
        growth = (equities[t] - net_transfers[t]) / previous if previous > 0 else Decimal(1)
        navs.append(navs[-1] * growth)
    return navs


def max_drawdown(navs: Sequence[Decimal]) -> Decimal:
    """The largest fall from a peak, as a fraction of that peak."""
    peak, worst = None, ZERO
    for nav in navs:
        peak = nav if peak is None or nav > peak else peak
        if peak > 0:
            worst = max(worst, (peak - nav) / peak)
    return worst


def daily_returns(navs: Sequence[Decimal]) -> list[Decimal]:
    return [navs[t] / navs[t - 1] - 1 for t in range(1, len(navs)) if navs[t - 1] > 0]


def sharpe(navs: Sequence[Decimal]) -> Decimal | None:
    """Mean daily return ÷ sample standard deviation × √365; None below two returns or with no spread."""
    returns = daily_returns(navs)
    if len(returns) < 2:
        return None
    mean = sum(returns, ZERO) / len(returns)
    variance = sum(((r - mean) ** 2 for r in returns), ZERO) / (len(returns) - 1)
    if variance == 0:
        return None
    return mean / variance.sqrt() * SQRT_365


def trade_stats(pnls: Sequence[Decimal], holdings_ms: Sequence[int]) -> dict:
    gains = [p for p in pnls if p > 0]
    losses = [-p for p in pnls if p < 0]
    ratio = None
    if gains and losses:
        ratio = (sum(gains, ZERO) / len(gains)) / (sum(losses, ZERO) / len(losses))
    return {
        "win_rate": Decimal(len(gains)) / len(pnls) if pnls else None,
        "profit_loss_ratio": ratio,
        "gainers": len(gains),
        "losers": len(losses),
        "avg_holding_seconds": sum(holdings_ms) // len(holdings_ms) // 1000 if holdings_ms else 0,
    }
