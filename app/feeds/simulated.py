"""Seeded price simulation: a random walk with occasional jumps and a mean-reverting mark premium.

Pure and deterministic: the only randomness is the instance's `random.Random(seed)` and the only clock
is the simulated one moved by `advance`, so one seed and one sequence of calls give one price tape.
Floats carry the walk's math; every price handed onward is a Decimal on the symbol's tick.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from decimal import Decimal

from engine.money import round_to_step

from .tick import PriceTick

MS_PER_DAY = 24 * 3600 * 1000
MS_PER_YEAR = 365 * MS_PER_DAY  # crypto trades every day of the year

# Perpetuals usually trade slightly rich to spot: mark = index × (1 + premium), the premium pulled
# back towards +1 bp with a 5-minute relaxation time and a stationary spread of 3 bp.
PREMIUM_MEAN = 0.0001
PREMIUM_STD = 0.0003
PREMIUM_RELAXATION_MS = 5 * 60 * 1000
# Last trades scatter around mark by up to this many ticks either way.
LAST_NOISE_TICKS = 2


@dataclass(frozen=True, slots=True)
class SymbolProfile:
    """How a symbol moves. `volatility` is the total annualised volatility, jumps included."""

    volatility: float
    jumps_per_day: float
    jump_size: float  # standard deviation of one jump's log return


DEFAULT_PROFILES: dict[str, SymbolProfile] = {
    "BTCUSDT": SymbolProfile(volatility=0.60, jumps_per_day=2.0, jump_size=0.006),
    "ETHUSDT": SymbolProfile(volatility=0.75, jumps_per_day=2.0, jump_size=0.008),
    "SOLUSDT": SymbolProfile(volatility=1.00, jumps_per_day=3.0, jump_size=0.012),
    "XRPUSDT": SymbolProfile(volatility=0.90, jumps_per_day=3.0, jump_size=0.012),
    "DOGEUSDT": SymbolProfile(volatility=1.10, jumps_per_day=4.0, jump_size=0.015),
}
# A symbol outside the default set moves like a mid-cap altcoin.
GENERIC_PROFILE = SymbolProfile(volatility=0.90, jumps_per_day=3.0, jump_size=0.012)

DEFAULT_START_PRICES: dict[str, Decimal] = {
    "BTCUSDT": Decimal("97000"),
    "ETHUSDT": Decimal("3400"),
    "SOLUSDT": Decimal("190"),
    "XRPUSDT": Decimal("2.3"),
    "DOGEUSDT": Decimal("0.32"),
}
DEFAULT_TICKS: dict[str, Decimal] = {
    "BTCUSDT": Decimal("0.1"),
    "ETHUSDT": Decimal("0.01"),
    "SOLUSDT": Decimal("0.01"),
    "XRPUSDT": Decimal("0.0001"),
    "DOGEUSDT": Decimal("0.00001"),
}


@dataclass(slots=True)
class _Walk:
    tick: Decimal
    diffusion: float  # annualised volatility of the continuous part
    jump_rate: float  # expected jumps per simulated millisecond
    jump_size: float
    log_index: float
    premium: float = PREMIUM_MEAN
    jumps: int = 0


def _new_walk(symbol: str, start: Decimal, tick: Decimal, volatility: float | None) -> _Walk:
    if not start > 0 or not tick > 0:
        raise ValueError(f"{symbol}: start price and tick must be positive, got {start} and {tick}")
    profile = DEFAULT_PROFILES.get(symbol, GENERIC_PROFILE)
    total = profile.volatility if volatility is None else float(volatility)
    if not (math.isfinite(total) and total >= 0):
        raise ValueError(f"{symbol}: volatility must be a finite number ≥ 0, got {volatility}")
    # An override scales the jumps too, so they keep their share of the variance (and 0 means still).
    jump_size = profile.jump_size * total / profile.volatility
    jump_rate = profile.jumps_per_day / MS_PER_DAY
    jump_variance = jump_rate * MS_PER_YEAR * jump_size**2
    return _Walk(tick=tick, diffusion=math.sqrt(total**2 - jump_variance), jump_rate=jump_rate,
                 jump_size=jump_size, log_index=math.log(start))


def _on_tick(price: float, tick: Decimal) -> Decimal:
    # Never below one tick: the engine treats a price of zero as no price at all.
    return max(round_to_step(Decimal(price), tick), tick)


class SimulatedFeed:
    """One tick per symbol per `advance`; `speed` 10 runs simulated time ten times faster than wall time."""

    def __init__(self, start_prices: dict[str, Decimal], ticks: dict[str, Decimal], seed: int, *,
                 speed: float = 1.0, start_ms: int = 0, volatility: dict[str, float] | None = None):
        if not (math.isfinite(speed) and speed > 0):
            raise ValueError(f"speed must be a positive number, got {speed}")
        overrides = volatility or {}
        missing = [symbol for symbol in start_prices if symbol not in ticks]
        strays = [symbol for symbol in overrides if symbol not in start_prices]
        if missing or strays:
            raise ValueError(f"no tick size for {missing}" if missing else f"volatility for unknown symbols {strays}")
        self._rng = random.Random(seed)
        self._speed = speed
        self._start_ms = start_ms
        self._now_ms = start_ms
        self._wall_ms = 0
        self._walks = {symbol: _new_walk(symbol, price, ticks[symbol], overrides.get(symbol))
                       for symbol, price in start_prices.items()}

    @property
    def jump_counts(self) -> dict[str, int]:
        """Jumps so far per symbol (what a demo narrates, and what tests check against the profile)."""
        return {symbol: walk.jumps for symbol, walk in self._walks.items()}

    def advance(self, dt_ms: int) -> list[PriceTick]:
        if dt_ms < 0:
            raise ValueError(f"time never goes back: dt_ms must be ≥ 0, got {dt_ms}")
        self._wall_ms += dt_ms
        # Derived from total wall time, so rounding a fractional speed never accumulates drift.
        now_ms = self._start_ms + round(self._wall_ms * self._speed)
        step_ms, self._now_ms = now_ms - self._now_ms, now_ms
        return [self._step(symbol, walk, step_ms) for symbol, walk in self._walks.items()]

    def _step(self, symbol: str, walk: _Walk, step_ms: int) -> PriceTick:
        rng = self._rng
        years = step_ms / MS_PER_YEAR
        # Geometric walk; the −σ²/2 terms keep the expected price flat, for diffusion and jumps alike.
        walk.log_index += walk.diffusion * math.sqrt(years) * rng.gauss(0.0, 1.0) - walk.diffusion**2 * years / 2
        if walk.jump_size > 0:
            # Poisson arrivals via exponential gaps: exact for a step of any length.
            gap = rng.expovariate(walk.jump_rate)
            while gap <= step_ms:
                walk.log_index += rng.gauss(-walk.jump_size**2 / 2, walk.jump_size)
                walk.jumps += 1
                gap += rng.expovariate(walk.jump_rate)
        # Exact Ornstein–Uhlenbeck step for the premium.
        decay = math.exp(-step_ms / PREMIUM_RELAXATION_MS)
        walk.premium = (PREMIUM_MEAN + (walk.premium - PREMIUM_MEAN) * decay
                        + PREMIUM_STD * math.sqrt(1 - decay**2) * rng.gauss(0.0, 1.0))
        index = math.exp(walk.log_index)
        mark = _on_tick(index * (1 + walk.premium), walk.tick)
        last = max(mark + rng.randint(-LAST_NOISE_TICKS, LAST_NOISE_TICKS) * walk.tick, walk.tick)
        return PriceTick(at_ms=self._now_ms, symbol=symbol, mark=mark, last=last, index=_on_tick(index, walk.tick))
