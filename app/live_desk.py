"""The desk running live: the embedded engine on the simulated market, in wall-clock time.

Until the workstation opens by default, `copydesk` runs this: it streams simulated prices into the
engine once a second (funding, liquidations and triggers run as they fall due) and prints a market
strip. Engine time is the wall clock, passed in with every price line.
"""
from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path
from typing import TextIO

from engine.clock import format_time
from engine.money import display, fmt
from storage.desk import Desk

from .feeds import DEFAULT_START_PRICES, SimulatedFeed
from .upgrade_notice import tell_upgrade


def wall_ms() -> int:
    return int(time.time() * 1000)


def market_strip(desk: Desk) -> str:
    exchange = desk.exchange
    parts = []
    for symbol in sorted(exchange.markets):
        market = exchange.markets[symbol]
        change = (market.last / market.open_24h - 1) * 100 if market.open_24h else Decimal(0)
        arrow = "▲" if change >= 0 else "▼"
        parts.append(f"{symbol.removesuffix('USDT')} {display(market.last, 2 if market.last > 10 else 5)} "
                     f"{arrow}{abs(change):.2f}%")
    return (f"{format_time(exchange.now_ms)}  " + "  ".join(parts)
            + f"  | users {len(exchange.users)}  ledger sum {fmt(exchange.ledger_sum())}")


def run_live(db: Path, *, seconds: float | None, seed: int, speed: float, out: TextIO) -> int:
    db.parent.mkdir(parents=True, exist_ok=True)
    with Desk.open(db, start_ms=wall_ms(), notice=tell_upgrade) as desk:
        exchange = desk.exchange
        starts = {s: exchange.markets[s].last if s in exchange.markets else price
                  for s, price in DEFAULT_START_PRICES.items() if s in exchange.instruments}
        ticks = {s: exchange.instruments[s].tick for s in starts}
        feed = SimulatedFeed(starts, ticks, seed, speed=speed, start_ms=exchange.now_ms)
        out.write(f"Copydesk is running on {db} with the simulated market (seed {seed}, speed {speed:g}x). "
                  "Ctrl-C stops.\n")
        began = time.monotonic()
        try:
            while seconds is None or time.monotonic() - began < seconds:
                at = format_time(max(wall_ms(), desk.exchange.now_ms))
                for tick in feed.advance(1000):
                    outcome = desk.execute({**tick.to_command(), "at": at})
                    if not outcome.accepted:
                        out.write(f"price {tick.symbol} refused: {outcome.message}\n")
                out.write(market_strip(desk) + "\n")
                out.flush()
                time.sleep(1)
        except KeyboardInterrupt:
            pass
        out.write(f"Stopped. Everything is saved in {db}.\n")
    return 0
