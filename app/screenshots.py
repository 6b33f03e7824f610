"""`copydesk screenshots`: drive the workstation headlessly on a fixed world and save every screen.

The world is the demo's, seeded without the wall clock (engine time starts at the scenario epoch
and prices come from the seeded feed), so the images change only when the screens do."""
from __future__ import annotations

import asyncio
import random
import tempfile
from decimal import Decimal
from pathlib import Path

from textual.widgets import Input

from engine.clock import DAY
from engine.money import fmt

from .demo import BOTS, YOU, world_lines
from .desk_link import DeskLink
from .feeds import DEFAULT_START_PRICES, DEFAULT_TICKS, SimulatedFeed
from .service import DeskService
from .workstation import Workstation

SIZE = (210, 56)


def build_world(service: DeskService, copiers: int = 120) -> None:
    feed = SimulatedFeed(dict(DEFAULT_START_PRICES), dict(DEFAULT_TICKS), seed=11)
    prices = [tick.to_command() for tick in feed.advance(1000)]
    batches = world_lines(seed=11, copiers=copiers)
    service.call(lambda desk: desk.execute_many(prices + batches[0])).result()
    for batch in batches[1:]:
        service.call(lambda desk, batch=batch: desk.execute_many(batch)).result()
    past_month(service, feed)
    trades = [
        {"do": "order", "user": YOU, "account": "futures", "symbol": "ETHUSDT", "side": "buy", "qty": "1.5",
         "leverage": 10},
        {"do": "order", "user": YOU, "account": "futures", "symbol": "SOLUSDT", "side": "sell", "qty": "20",
         "leverage": 5, "margin_mode": "cross"},
        {"do": "order", "user": "trend_tina", "account": "elite", "symbol": "BTCUSDT", "side": "buy", "qty": "0.1"},
    ]
    for line in trades:
        service.execute(line)
    for tick in feed.advance(60_000):
        service.execute(tick.to_command())


def past_month(service: DeskService, feed: SimulatedFeed, days: int = 30) -> None:
    """A month of daily trading by every lead, one day per transaction, so profiles have curves and the
    copy manager has copy orders, margin syncs and weekly settlements to show."""
    rng = random.Random(11)
    steps = service.call(lambda desk: {s: i.step for s, i in desk.exchange.instruments.items()}).result()
    leads = [(bot.name, bot.symbols[0], bot.notional, bot.leverage) for bot in BOTS] + [
        (YOU, "BTCUSDT", Decimal(6000), 10)]
    for day in range(days):
        ticks = feed.advance(DAY)
        last = {tick.symbol: tick.last for tick in ticks}
        lines = [{"do": "advance", "by": "1d"}] + [tick.to_command() for tick in ticks]
        for name, symbol, notional, leverage in leads:
            where = {"user": name, "account": "elite", "symbol": symbol}
            if day % 3 == 0:
                size = notional * Decimal(rng.uniform(0.6, 1.4)) / last[symbol]
                lines.append({"do": "order", **where, "side": rng.choice(["buy", "sell"]), "leverage": leverage,
                              "qty": fmt((size / steps[symbol]).to_integral_value() * steps[symbol])})
            elif day % 3 == 1:
                lines += [{"do": "margin", **where, "delta": "100"}, {"do": "advance", "by": "3s"}]
            else:
                lines.append({"do": "close", **where})
        service.call(lambda desk, lines=lines: desk.execute_many(lines)).result()


# Traded while the screen is up, so the mirror panel and the activity feed show them arriving.
LIVE_TRADES = [
    {"do": "order", "user": YOU, "account": "elite", "symbol": "BTCUSDT", "side": "buy", "qty": "0.05"},
    {"do": "margin", "user": YOU, "account": "elite", "symbol": "BTCUSDT", "delta": "120"},
    {"do": "advance", "by": "3s"},
    {"do": "order", "user": YOU, "account": "elite", "symbol": "ETHUSDT", "side": "sell", "qty": "2"},
]


async def capture(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    saved: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="copydesk-shots-") as scratch:
        service = DeskService(Path(scratch) / "shots.db", lock=False).start()
        try:
            build_world(service)
            app = Workstation(DeskLink(service, YOU), subtitle="demo · seed 11 · simulated market")
            async with app.run_test(size=SIZE) as pilot:
                async def shot(name: str, *keys: str) -> None:
                    if keys:
                        await pilot.press(*keys)
                    for field in app.screen.query(Input):
                        field.cursor_blink = False  # a blinking cursor would be caught on or off by chance
                    await pilot.pause(0.6)
                    saved.append(Path(app.save_screenshot(f"{name}.svg", str(out))))

                await pilot.pause(0.5)
                for line in LIVE_TRADES:
                    service.execute(line)
                await pilot.pause(0.8)
                await shot("main")
                await shot("order-ticket", "1", "o", *"0.25")
                await pilot.press("backspace", "backspace", "backspace", "backspace", "9", "9")
                await shot("order-ticket-rejected", "enter")
                await pilot.press("escape")
                await shot("margin-dialog", "3", "m", *"100")
                await pilot.press("escape")
                await shot("close-position", "1", "c")
                await pilot.press("escape")
                await shot("tp-sl", "p")
                await pilot.press("escape")
                await shot("transfer", "t")
                await pilot.press("escape")
                await shot("help", "f1")
                await pilot.press("escape")
                await shot("command-palette", "ctrl+p")
                await pilot.press("escape")
                await shot("leaderboard", "l")
                await pilot.press("escape")
                await shot("profile", "ctrl+p", *"Trader profile: Trend Tina", "enter")
                await shot("copy-settings", "f")
                await pilot.press("escape", "escape")
                await shot("copy-manager", "g")
                await pilot.press("escape")
                await shot("history", "h", "2")
                await shot("statement", "6")
                await pilot.press("escape")
                await shot("notifications", "n")
        finally:
            service.stop()
    return saved


def take_screenshots(out: Path) -> int:
    for path in asyncio.run(capture(out)):
        print(path)
    return 0
