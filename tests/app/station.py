"""A workstation on a scripted world: a real desk on disk, prices set by hand, no wall-clock feed."""
from __future__ import annotations

import asyncio

WORLD = [
    {"do": "config", "slippage_bps": "0", "impact_bps": "0", "taker_fee": "0.0005"},
    {"do": "price", "symbol": "BTCUSDT", "mark": "50000"},
    {"do": "price", "symbol": "ETHUSDT", "mark": "2500"},
    {"do": "user", "name": "trader"}, {"do": "deposit", "user": "trader", "amount": "30000"},
    {"do": "transfer", "user": "trader", "from": "funding", "to": "futures", "amount": "10000"},
    {"do": "become_elite", "user": "trader", "symbols": ["BTCUSDT"]},
    {"do": "transfer", "user": "trader", "from": "funding", "to": "elite", "amount": "10000"},
    {"do": "user", "name": "ann"}, {"do": "deposit", "user": "ann", "amount": "2000"},
    {"do": "transfer", "user": "ann", "from": "funding", "to": "copy", "amount": "2000"},
    {"do": "follow", "user": "ann", "lead": "trader", "mode": "ratio", "ratio": "0.5"},
    {"do": "user", "name": "ben"}, {"do": "deposit", "user": "ben", "amount": "1000"},
    {"do": "transfer", "user": "ben", "from": "funding", "to": "copy", "amount": "1000"},
    {"do": "follow", "user": "ben", "lead": "trader", "mode": "fixed", "amount": "100"},
    {"do": "user", "name": "cy"}, {"do": "deposit", "user": "cy", "amount": "3"},
    {"do": "transfer", "user": "cy", "from": "funding", "to": "copy", "amount": "3"},
    {"do": "follow", "user": "cy", "lead": "trader", "mode": "fixed", "amount": "100"},
]


async def until(pilot, predicate, timeout: float = 20.0) -> None:
    """Let the app work until `predicate()` holds (views refresh every 0.25 s)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("the screen never showed what was expected")
        await pilot.pause(0.05)
