"""The demo world: you, elite traders run by bots with distinct styles, and thousands of simulated
copiers — some under-funded so failures happen — on the simulated market, all from one seed.

Seeding goes in batches (one transaction each) interleaved with price ticks, so the screen is alive
at once and fills up as the world arrives; a seeded database is reused on the next start."""
from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from decimal import Decimal

from engine.clock import format_time
from engine.money import fmt

from .feeds import DEFAULT_START_PRICES, SimulatedFeed
from .service import DeskService

YOU = "you"
BATCH = 150  # copiers per seeding transaction


@dataclass(frozen=True)
class BotStyle:
    name: str
    symbols: tuple[str, ...]
    interval_s: float      # time between decisions
    notional: Decimal      # typical order size in USDT
    leverage: int
    hold_decisions: int    # decisions a position is held before closing
    mode: str = "standard"


BOTS = (
    BotStyle("trend_tina", ("BTCUSDT", "ETHUSDT"), 6.0, Decimal(8000), 10, 4),
    BotStyle("scalper_sam", ("SOLUSDT", "DOGEUSDT", "XRPUSDT"), 2.5, Decimal(3000), 20, 1),
    BotStyle("swing_sara", ("ETHUSDT", "SOLUSDT"), 12.0, Decimal(12000), 5, 6),
    BotStyle("shield_pat", ("BTCUSDT",), 9.0, Decimal(10000), 3, 3, mode="protected"),
)


def wall_at() -> str:
    return format_time(int(time.time() * 1000))


def world_lines(seed: int, copiers: int) -> list[list[dict]]:
    """The seeding commands, in batches. Deterministic for a seed."""
    rng = random.Random(seed)
    first = [{"do": "user", "name": YOU}, {"do": "deposit", "user": YOU, "amount": "60000"},
             {"do": "become_elite", "user": YOU, "symbols": ["BTCUSDT", "ETHUSDT", "SOLUSDT"],
              "nickname": "You", "bio": "Your own portfolio: trade in Elite and watch copiers follow."}]
    for wallet, amount in (("futures", "15000"), ("copy", "10000"), ("elite", "20000")):
        first.append({"do": "transfer", "user": YOU, "from": "funding", "to": wallet, "amount": amount})
    for bot in BOTS:
        funds = "60000" if bot.mode == "protected" else "40000"
        first += [{"do": "user", "name": bot.name}, {"do": "deposit", "user": bot.name, "amount": funds},
                  {"do": "become_elite", "user": bot.name, "symbols": list(bot.symbols),
                   "nickname": bot.name.replace("_", " ").title(), "capacity": max(200, copiers)},
                  {"do": "transfer", "user": bot.name, "from": "funding", "to": "elite", "amount": funds}]
        if bot.mode == "protected":
            first.append({"do": "become_elite", "user": bot.name, "symbols": list(bot.symbols), "mode": "protected",
                          "collateral": "20000", "protected_share": "0.7"})
    first += [{"do": "follow", "user": YOU, "lead": "trend_tina", "mode": "ratio", "ratio": "0.2"},
              {"do": "follow", "user": YOU, "lead": "swing_sara", "mode": "fixed", "amount": "150"}]
    batches = [first]
    leads = [YOU] + [b.name for b in BOTS if b.mode == "standard"]
    current: list[dict] = []
    for i in range(copiers):
        name = f"copier{i:05d}"
        # One in eight is under-funded: their copies fail with INSUFFICIENT_BALANCE.
        funds = Decimal(rng.randint(5, 40)) if rng.random() < 0.125 else Decimal(rng.randint(300, 5000))
        lead = YOU if rng.random() < 0.4 else rng.choice(leads)
        follow = {"do": "follow", "user": name, "lead": lead, "max_total_margin": fmt(funds)}
        if rng.random() < 0.5:
            follow |= {"mode": "ratio", "ratio": rng.choice(["0.01", "0.02", "0.05", "0.1"])}
        else:
            follow |= {"mode": "fixed", "amount": str(rng.choice([10, 20, 50, 100]))}
        current += [{"do": "user", "name": name}, {"do": "deposit", "user": name, "amount": fmt(funds)},
                    {"do": "transfer", "user": name, "from": "funding", "to": "copy", "amount": fmt(funds)}, follow]
        if len(current) >= BATCH * 4:
            batches.append(current)
            current = []
    if current:
        batches.append(current)
    return batches


class DemoWorld:
    """Feeds prices, seeds the world and runs the bots, each on its own thread, until stopped."""

    def __init__(self, service: DeskService, *, seed: int, copiers: int, speed: float, world: bool = True) -> None:
        self.service = service
        self.seed, self.copiers, self.speed = seed, copiers, speed
        self.world = world  # False: the market only (the plain workstation)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.seeded = threading.Event()
        self.last_prices: dict[str, Decimal] = {}

    def start(self) -> "DemoWorld":
        exchange = self.service.call(lambda desk: (desk.exchange.now_ms, {
            s: m.last for s, m in desk.exchange.markets.items()}, YOU in desk.exchange.users)).result()
        now_ms, lasts, already = exchange
        starts = {s: lasts.get(s, p) for s, p in DEFAULT_START_PRICES.items()}
        ticks = self.service.call(lambda desk: {s: desk.exchange.instruments[s].tick for s in starts}).result()
        self.feed = SimulatedFeed(starts, ticks, self.seed, speed=self.speed, start_ms=now_ms)
        self._tick()  # prices first: orders need them
        targets = (self._run_feed,) + ((self._run_bots,) + (() if already else (self._seed,)) if self.world else ())
        for target in targets:
            thread = threading.Thread(target=target, name=f"demo-{target.__name__}", daemon=True)
            thread.start()
            self._threads.append(thread)
        if already or not self.world:
            self.seeded.set()
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)

    def _tick(self) -> None:
        at = wall_at()
        for tick in self.feed.advance(250):
            self.last_prices[tick.symbol] = tick.last
            self.service.submit({**tick.to_command(), "at": at})

    def _run_feed(self) -> None:
        while not self._stop.wait(0.25):
            self._tick()

    def _seed(self) -> None:
        for batch in world_lines(self.seed, self.copiers):
            if self._stop.is_set():
                return
            self.service.call(lambda desk, batch=batch: desk.execute_many(batch)).result()
        self.seeded.set()

    def _run_bots(self) -> None:
        rng = random.Random(self.seed + 1)
        state = {bot.name: {"held": 0, "next": time.monotonic() + rng.uniform(1, bot.interval_s)} for bot in BOTS}
        while not self._stop.wait(0.2):
            if not self.seeded.is_set():
                continue
            now = time.monotonic()
            for bot in BOTS:
                memory = state[bot.name]
                if now < memory["next"]:
                    continue
                memory["next"] = now + bot.interval_s / self.speed * rng.uniform(0.6, 1.4)
                self._decide(bot, memory, rng)

    def _decide(self, bot: BotStyle, memory: dict, rng: random.Random) -> None:
        symbol = memory.setdefault("symbol", rng.choice(bot.symbols))
        base = {"user": bot.name, "account": "elite", "symbol": symbol}
        if memory["held"] == 0:
            last = self.last_prices[symbol]
            qty_step = self.service.call(lambda desk: desk.exchange.instruments[symbol].step).result()
            qty = (bot.notional * Decimal(rng.uniform(0.5, 1.5)) / last / qty_step).to_integral_value() * qty_step
            side = rng.choice(["buy", "sell"])
            outcome = self.service.execute({"do": "order", **base, "side": side, "qty": fmt(qty),
                                            "leverage": bot.leverage, "margin_mode": "isolated", "at": wall_at()})
            memory["held"] = 1 if outcome.accepted else 0
        elif memory["held"] < bot.hold_decisions and rng.random() < 0.35:
            # Leads adjust margin now and then: copiers' margin follows at the same ratio.
            delta = fmt(Decimal(rng.choice([50, 100, 200])) * (1 if rng.random() < 0.7 else -1))
            self.service.submit({"do": "margin", **base, "delta": delta, "at": wall_at()})
            memory["held"] += 1
        elif memory["held"] < bot.hold_decisions:
            memory["held"] += 1
        else:
            self.service.submit({"do": "close", **base, "at": wall_at()})
            memory["held"] = 0
            memory.pop("symbol")
