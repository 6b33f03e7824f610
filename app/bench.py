"""`copydesk bench [--quick] [--json]`: how fast this desk is, measured here and now.

Every figure is the median of several runs on fresh temporary databases, in this process except where a
process of its own is the honest measure: peak memory (and the ticks, timed on that same world) and a cold
start of the workstation.

- fanout   a lead market order opening a position for N copiers (half copy a fixed margin, half a ratio),
           through `Desk.execute`, committed; the lead's closing order is timed too (`close_median_ms`).
           Its baseline is the time plain `sqlite3.executemany` takes to write the very rows that fan-out
           wrote, in one transaction, into an empty copy of the schema opened with the desk's own settings.
           The timed rounds follow untimed ones (`warmup_ms`) that take the new database's WAL to the size a
           desk in use works in: its first 40 MB lengthen the file with every commit (and fsync its size),
           and its first checkpoint runs inside a commit (storage.checkpoints); a desk is past both within
           its first few lead orders.
- tick     a mark-price update over 100,000 open isolated copy positions that liquidates nothing (the engine's
           price handling, `Exchange.execute`; the committed desk path as well), and one that liquidates 1%.
- replay   commands per second of `copydesk replay`'s loop (`run_lines`) on a generated 50,000-line scenario.
- startup  a new process opening the lead's workstation on a 10,000-copier database, to its first painted
           frame; also on the fan-out bench's database, whose outcomes no snapshot ever reported.
- memory   peak RSS of a process holding 10,000 copiers and 100,000 positions.
- ui       how long a key takes to open a dialog while the engine thread mirrors a lead order to 2,000 copiers.

Commands carry an `at` one second after the previous one, as the workstation's carry wall-clock time, so
engine time moves (and every copier's account records its activity) as it does in use.
"""
from __future__ import annotations

import asyncio
import io
import json
import multiprocessing
import queue
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path
from typing import Any, TextIO

from engine.clock import format_time
from engine.money import fmt
from storage.desk import Desk
from storage.store import Store

from .collector import tune_collector
from .replay import ScenarioLine, run_lines

LEAD = "lead"
SYMBOL = "BTCUSDT"
START_PRICE = Decimal(60000)


@dataclass(frozen=True)
class Sizes:
    fanout: int
    fanout_small: int
    tick_copiers: int          # each follows TICK_LEADS leads: copiers × leads positions
    replay_lines: int
    startup_copiers: int
    ui_copiers: int
    runs: int
    fanout_warmups: int
    replay_runs: int
    idle_ticks: int


TICK_LEADS = 10
KEYPRESS_PATIENCE_S = 60  # a loaded CI machine is slow, but never this slow
FULL = Sizes(fanout=10_000, fanout_small=1_000, tick_copiers=10_000, replay_lines=50_000, startup_copiers=10_000,
             ui_copiers=2_000, runs=5, fanout_warmups=3, replay_runs=3, idle_ticks=2_000)
QUICK = Sizes(fanout=300, fanout_small=100, tick_copiers=200, replay_lines=2_000, startup_copiers=300,
              ui_copiers=200, runs=3, fanout_warmups=1, replay_runs=1, idle_ticks=200)

# (figure, key, unit, target, the target is a ceiling (True) or a floor (False)); targets hold for FULL sizes.
TARGETS = (
    ("fanout", "median_ms", "ms", 250, True),
    ("fanout", "ratio", "×", 4, True),
    ("fanout_1k", "median_ms", "ms", 30, True),
    ("tick", "idle_median_us", "µs", 1000, True),
    ("tick", "liquidating_1pct_ms", "ms", 300, True),
    ("replay", "per_second", "/s", 10_000, False),
    ("startup", "first_frame_ms", "ms", 1000, True),
    ("memory", "rss_mb", "MB", 400, True),
    ("ui", "keypress_ms", "ms", 100, True),
)


class BenchError(Exception):
    """The bench's own world could not be built: a bug, not a slow desk."""


# --- building worlds --------------------------------------------------------------------------------

class Clock:
    """Engine time for the bench's command lines: one second per line, from a minute before the wall clock
    (a workstation opened on a bench database moves it on to the present, with little falling due)."""

    def __init__(self) -> None:
        self.ms = (int(time.time()) - 60) * 1000

    def at(self) -> str:
        self.ms += 1000
        return format_time(self.ms)


def run_batches(desk: Desk, lines: list[dict], size: int = 5_000) -> None:
    """Seed a world in transactions of `size` lines; every line must be accepted."""
    for start in range(0, len(lines), size):
        for line, outcome in zip(lines[start:start + size], desk.execute_many(lines[start:start + size])):
            if not outcome.accepted:
                raise BenchError(f"seeding line {line} was rejected: {outcome.code} {outcome.message}")


def execute(desk: Desk, line: dict) -> Any:
    outcome = desk.execute(line)
    if not outcome.accepted:
        raise BenchError(f"{line} was rejected: {outcome.code} {outcome.message}")
    return outcome


def lead_lines(name: str, capacity: int, symbols: list[str] | None = None) -> list[dict]:
    funds = "50000000"
    return [{"do": "user", "name": name}, {"do": "deposit", "user": name, "amount": funds},
            {"do": "become_elite", "user": name, "symbols": symbols or [SYMBOL], "capacity": max(1, capacity)},
            {"do": "transfer", "user": name, "from": "funding", "to": "elite", "amount": funds}]


def copier_lines(name: str, funds: str, follows: list[dict]) -> list[dict]:
    return [{"do": "user", "name": name}, {"do": "deposit", "user": name, "amount": funds},
            {"do": "transfer", "user": name, "from": "funding", "to": "copy", "amount": funds},
            *({"do": "follow", "user": name, **follow} for follow in follows)]


def copier_world(path: Path, copiers: int, clock: Clock) -> Desk:
    """A lead with `copiers` copiers, half copying a fixed margin and half a ratio of the lead's size."""
    desk = Desk.open(path, start_ms=clock.ms)
    lines = [{"do": "price", "symbol": SYMBOL, "mark": fmt(START_PRICE)}, *lead_lines(LEAD, copiers)]
    for i in range(copiers):
        follow = {"lead": LEAD, **({"mode": "fixed", "amount": "20"} if i % 2 else {"mode": "ratio", "ratio": "0.01"})}
        lines += copier_lines(f"c{i:05d}", "1000", [follow])
    run_batches(desk, lines)
    return desk


def lead_order(side: str, clock: Clock, lead: str = LEAD, qty: str = "1") -> dict:
    return {"do": "order", "user": lead, "account": "elite", "symbol": SYMBOL, "side": side, "qty": qty,
            "leverage": 10, "margin_mode": "isolated", "at": clock.at()}


def lead_close(clock: Clock, lead: str = LEAD) -> dict:
    return {"do": "close", "user": lead, "account": "elite", "symbol": SYMBOL, "at": clock.at()}


def scratch_path(folder: Path, name: str) -> Path:
    return folder / f"{name}.db"


# --- fan-out ------------------------------------------------------------------------------------------

class WriteSetRecorder:
    """Wraps `Store.commit` to keep what each commit wrote: the entities and records by table (references
    only, so the timed command pays next to nothing), turned into rows after the timing. Every save is
    taken as a whole row: the fan-out it serves (an open) saves nothing in part."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.original = store.commit
        self.last: dict | None = None
        store.commit = self.commit  # type: ignore[method-assign]

    def commit(self, changes, meta, journal) -> None:
        self.last = {"save": [(cls, list(entities.values())) for cls, entities in changes.saved.items()],
                     "delete": [(cls, list(keys)) for cls, keys in changes.deleted.items()],
                     "append": [(cls, list(records)) for cls, records in changes.appended.items()],
                     "meta": dict(meta), "journal": journal}
        self.original(changes, meta, journal)

    def rows(self) -> list[tuple[str, str, list[tuple]]]:
        """The last commit's write set as (table, statement, rows), ready for plain executemany."""
        last = self.last
        plan = []
        for kind, verb in (("save", "INSERT OR REPLACE"), ("append", "INSERT")):
            for cls, items in last[kind]:
                columns = cls.COLUMNS
                plan.append((cls.TABLE, f"{verb} INTO {cls.TABLE} ({', '.join(columns)}) "
                                        f"VALUES ({', '.join('?' * len(columns))})", [item.row() for item in items]))
        for cls, keys in last["delete"]:
            plan.append((cls.TABLE, f"DELETE FROM {cls.TABLE} WHERE {' AND '.join(f'{k} = ?' for k in cls.KEY)}",
                         [key if isinstance(key, tuple) else (key,) for key in keys]))
        plan.append(("meta", "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", list(last["meta"].items())))
        journal = last["journal"]
        plan.append(("journal", "INSERT INTO journal (idem_id, at_ms, command, status, code) VALUES (?, ?, ?, ?, ?)",
                     journal if isinstance(journal, list) else [journal]))
        return plan


def baseline_write(folder: Path, name: str, plan: list[tuple[str, str, list[tuple]]]) -> float:
    """Seconds plain sqlite3 takes to write `plan` in one transaction into an empty copy of the schema,
    opened with the desk's own connection settings (WAL, synchronous FULL unless COPYDESK_SYNCHRONOUS says NORMAL)."""
    store = Store(scratch_path(folder, name))
    try:
        conn = store.conn
        started = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        for _table, statement, rows in plan:
            conn.executemany(statement, rows)
        conn.execute("COMMIT")
        return time.perf_counter() - started
    finally:
        store.close()


def bench_fanout(folder: Path, copiers: int, runs: int, name: str, warmups: int) -> tuple[dict, Path]:
    clock = Clock()
    path = scratch_path(folder, name)
    desk = copier_world(path, copiers, clock)
    recorder = WriteSetRecorder(desk.store)
    warming, opens, closes, baselines = [], [], [], []
    rows = 0
    try:
        for run in range(warmups + runs):
            timed = run >= warmups
            line = lead_order("buy", clock)
            started = time.perf_counter()
            outcome = execute(desk, line)
            (opens if timed else warming).append(time.perf_counter() - started)
            filled = sum(1 for o in outcome.events if isinstance(o, tuple) and o[0] == "lead_order"
                         for r in o[4] if r.status == "filled")
            if filled != copiers:
                raise BenchError(f"{filled} of {copiers} copiers filled the lead order")
            if timed:
                plan = recorder.rows()
                rows = sum(len(table_rows) for _table, _statement, table_rows in plan)
                baselines.append(baseline_write(folder, f"{name}-baseline-{run}", plan))
            line = lead_close(clock)
            started = time.perf_counter()
            execute(desk, line)
            if timed:
                closes.append(time.perf_counter() - started)
    finally:
        desk.close()
    fanout, baseline, close = (statistics.median(times) * 1000 for times in (opens, baselines, closes))
    return ({"copiers": copiers, "median_ms": round(fanout, 1), "baseline_ms": round(baseline, 1),
             "ratio": round(fanout / baseline, 2), "rows": rows, "close_median_ms": round(close, 1), "runs": runs,
             "warmup_ms": [round(seconds * 1000, 1) for seconds in warming], "lead_orders": 2 * (warmups + runs)},
            path)


# --- price ticks and memory (in a process of their own) --------------------------------------------------

def tick_world(path: Path, copiers: int, clock: Clock) -> Desk:
    """`copiers` copiers each following TICK_LEADS leads with isolated copies at staggered leverage and size,
    so the copiers × leads positions have liquidation prices spread over a wide range. Half the leads buy,
    half sell: the quiet tick is checked against both sides of the risk book."""
    desk = Desk.open(path, start_ms=clock.ms)
    leads = [f"lead{j}" for j in range(TICK_LEADS)]
    lines = [{"do": "price", "symbol": SYMBOL, "mark": fmt(START_PRICE)}]
    for lead in leads:
        lines += lead_lines(lead, copiers)
    for i in range(copiers):
        follows = [{"lead": lead, "mode": "fixed", "amount": str(50 + (i * 13 + j * 7) % 100),
                    "leverage": 2 + (i * 7 + j * 3) % 48, "margin_mode": "isolated"}
                   for j, lead in enumerate(leads)]
        lines += copier_lines(f"c{i:05d}", "2500", follows)
    run_batches(desk, lines)
    for j, lead in enumerate(leads):
        # Each lead trades at its own price, so entries (and liquidation prices) differ by lead too.
        execute(desk, {"do": "price", "symbol": SYMBOL, "mark": fmt(START_PRICE + 37 * j), "at": clock.at()})
        execute(desk, lead_order("buy" if j % 2 == 0 else "sell", clock, lead))
    execute(desk, {"do": "price", "symbol": SYMBOL, "mark": fmt(START_PRICE), "at": clock.at()})
    return desk


def bench_ticks(folder: str, copiers: int, runs: int, idle_ticks: int) -> dict:
    """Runs in its own process: builds the world, reads peak RSS, then times quiet and liquidating ticks."""
    clock = Clock()
    desk = tick_world(Path(folder) / "ticks.db", copiers, clock)
    exchange = desk.exchange
    positions = sum(len(account.positions) for account in exchange.accounts.values() if account.kind == "copy")
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux
    engine_times: list[float] = []
    original = exchange.execute

    def timed(envelope):
        started = time.perf_counter()
        try:
            return original(envelope)
        finally:
            engine_times.append(time.perf_counter() - started)

    exchange.execute = timed  # the engine's share of each desk command
    longs = sorted((p.liquidation_price for a in exchange.accounts.values() if a.kind == "copy"
                    for p in a.positions.values() if p.side > 0 and p.liquidation_price is not None), reverse=True)
    # Quiet ticks: the start price and one tick above it, in turn, far from every liquidation price.
    desk_times = []
    for i in range(idle_ticks):
        line = {"do": "price", "symbol": SYMBOL, "mark": fmt(START_PRICE + Decimal("0.1") * (i % 2)), "at": clock.at()}
        started = time.perf_counter()
        execute(desk, line)
        desk_times.append(time.perf_counter() - started)
    idle_engine = statistics.median(engine_times)
    idle_desk = statistics.median(desk_times)
    # Liquidating ticks: each moves the mark down to the next 1% of all positions' liquidation prices.
    band = max(1, positions // 100)
    liquidating, liquidating_engine, liquidated = [], [], []
    for run in range(1, runs + 1):
        mark = longs[min(run * band, len(longs)) - 1].quantize(Decimal("0.1"), rounding=ROUND_FLOOR)
        before = len(exchange.unreported["liquidations"])
        engine_times.clear()
        started = time.perf_counter()
        execute(desk, {"do": "price", "symbol": SYMBOL, "mark": fmt(mark), "at": clock.at()})
        liquidating.append(time.perf_counter() - started)
        liquidating_engine.append(engine_times[0])
        liquidated.append(len(exchange.unreported["liquidations"]) - before)
    desk.close()
    return {"tick": {"positions": positions, "idle_median_us": round(idle_engine * 1e6, 1),
                     "idle_desk_median_us": round(idle_desk * 1e6, 1),
                     "liquidating_1pct_ms": round(statistics.median(liquidating) * 1000, 1),
                     "liquidating_engine_ms": round(statistics.median(liquidating_engine) * 1000, 1),
                     "liquidated": int(statistics.median(liquidated)), "runs": runs},
            "memory": {"copiers": copiers, "positions": positions, "rss_mb": round(rss_mb, 1)}}


def _tick_child(results, folder: str, copiers: int, runs: int, idle_ticks: int) -> None:
    tune_collector()  # as `copydesk` itself does
    try:
        results.put(bench_ticks(folder, copiers, runs, idle_ticks))
    except BaseException as error:  # reported in the parent
        results.put({"error": f"{type(error).__name__}: {error}"})


def in_child(target: Callable, *args) -> dict:
    """Run `target(queue, *args)` in a fresh interpreter (spawned: nothing inherited) and return its result."""
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    process = context.Process(target=target, args=(results, *args))
    process.start()
    while True:
        try:
            result = results.get(timeout=1)
            break
        except queue.Empty:
            if not process.is_alive():
                raise BenchError(f"a bench process ended without a result (exit code {process.exitcode})") from None
    process.join()
    if "error" in result:
        raise BenchError(result["error"])
    return result


# --- replay ---------------------------------------------------------------------------------------------

def scenario(count: int, seed: int = 7) -> list[ScenarioLine]:
    """A trading day of `count` lines, every one carrying its time: 150 traders deposit, transfer, trade
    market and limit orders in Futures and cancel some; prices move; 5 leads trade, each followed by some of
    40 copiers who now and then unfollow and follow another (so a lead order fans out to about 8 copiers)."""
    rng = random.Random(seed)
    clock = Clock()
    symbols = {"BTCUSDT": (Decimal(60000), Decimal("0.1"), "0.01"), "ETHUSDT": (Decimal(3000), Decimal("0.01"), "0.01"),
               "SOLUSDT": (Decimal(150), Decimal("0.01"), "1")}
    marks = {symbol: spec[0] for symbol, spec in symbols.items()}
    traders = [f"t{i:03d}" for i in range(150)]
    leads = [f"lead{i}" for i in range(5)]
    copiers = [f"k{i:03d}" for i in range(40)]
    lines: list[dict] = [{"do": "price", "symbol": s, "mark": fmt(m)} for s, m in marks.items()]
    for name in traders:
        lines += [{"do": "user", "name": name}, {"do": "deposit", "user": name, "amount": "200000"},
                  {"do": "transfer", "user": name, "from": "funding", "to": "futures", "amount": "50000"}]
    for lead in leads:
        lines += lead_lines(lead, 1000, list(symbols))
    follows: dict[str, str] = {}
    for i, name in enumerate(copiers):
        follows[name] = leads[i % len(leads)]
        lines += copier_lines(name, "5000", [{"lead": follows[name], "mode": "fixed", "amount": "20"}])
    limit_orders: list[tuple[str, str]] = []

    def order(user: str, account: str) -> dict:
        symbol = rng.choice(list(symbols))
        return {"do": "order", "user": user, "account": account, "symbol": symbol, "side": rng.choice(("buy", "sell")),
                "qty": symbols[symbol][2]}

    while len(lines) < count - 1:  # the replay adds one final snapshot
        roll = rng.random()
        user = rng.choice(traders)
        if roll < 0.35:
            symbol = rng.choice(list(symbols))
            tick = symbols[symbol][1]
            moved = marks[symbol] * Decimal(1 + rng.uniform(-0.001, 0.001))
            marks[symbol] = max(tick, (moved / tick).quantize(1) * tick)
            line = {"do": "price", "symbol": symbol, "mark": fmt(marks[symbol])}
        elif roll < 0.55:
            line = order(user, "futures")
        elif roll < 0.60:
            line = {"do": "close", "user": user, "account": "futures", "symbol": rng.choice(list(symbols))}
        elif roll < 0.63:
            line = order(rng.choice(leads), "elite")  # a lead order: fans out to its copiers
        elif roll < 0.65:
            line = {"do": "close", "user": rng.choice(leads), "account": "elite", "symbol": rng.choice(list(symbols))}
        elif roll < 0.77:
            source, target = rng.choice((("funding", "futures"), ("futures", "funding")))
            line = {"do": "transfer", "user": user, "from": source, "to": target, "amount": str(rng.randint(1, 50))}
        elif roll < 0.87:
            line = {"do": "deposit", "user": user, "amount": str(rng.randint(10, 500))}
        elif roll < 0.93:
            symbol = rng.choice(list(symbols))
            client = f"L{len(lines)}"
            side = rng.choice(("buy", "sell"))
            price = marks[symbol] * (Decimal("0.98") if side == "buy" else Decimal("1.02"))
            tick = symbols[symbol][1]
            line = {"do": "order", "user": user, "account": "futures", "symbol": symbol, "side": side, "type": "limit",
                    "qty": symbols[symbol][2], "price": fmt((price / tick).quantize(1) * tick), "client_id": client}
            limit_orders.append((user, client))
        elif roll < 0.96 and limit_orders:
            owner, client = limit_orders.pop(rng.randrange(len(limit_orders)))
            line = {"do": "cancel", "user": owner, "account": "futures", "client_id": client}
        else:
            copier = rng.choice(copiers)
            if copier in follows:
                line = {"do": "unfollow", "user": copier, "lead": follows.pop(copier)}
            else:
                follows[copier] = rng.choice(leads)
                line = {"do": "follow", "user": copier, "lead": follows[copier], "mode": "fixed", "amount": "20"}
        lines.append(line)
    return [ScenarioLine(number, {**command, "at": clock.at()}) for number, command in enumerate(lines, start=1)]


def bench_replay(folder: Path, count: int, runs: int) -> dict:
    lines = scenario(count)
    times = []
    for run in range(runs):
        with Desk.open(scratch_path(folder, f"replay-{run}")) as desk:
            started = time.perf_counter()
            run_lines(desk, lines, io.StringIO(), io.StringIO())
            times.append(time.perf_counter() - started)
    commands = len(lines) + 1  # and the final snapshot
    return {"commands": commands, "per_second": round(commands / statistics.median(times)), "runs": runs}


# --- the workstation --------------------------------------------------------------------------------------

SCREEN = (160, 48)


def _startup_child(results, db: str, user: str) -> None:
    """A cold start as `copydesk --db DB` makes it (Python, imports, engine load, screen), headless."""
    tune_collector()
    try:
        from .launch import build
        app, world, service = build(Path(db), user=user, demo=False, seed=7, copiers=0, speed=1.0)

        async def until_first_frame() -> None:
            async with app.run_test(size=SCREEN):
                while app.first_frame is None:
                    await asyncio.sleep(0.005)

        try:
            asyncio.run(until_first_frame())
        finally:
            world.stop()
            service.stop()
        # Wall-clock time of the first frame, to compare with the parent's start time.
        results.put({"first_frame": time.time() - (time.perf_counter() - app.first_frame)})
    except BaseException as error:
        results.put({"error": f"{type(error).__name__}: {error}"})


def first_frame(db: Path, runs: int) -> float:
    """Median milliseconds from starting a process to its first painted frame, the lead's workstation."""
    times = []
    for _ in range(runs):
        started = time.time()
        times.append(in_child(_startup_child, str(db), LEAD)["first_frame"] - started)
    return round(statistics.median(times) * 1000, 1)


def bench_startup(folder: Path, copiers: int, runs: int, history_db: Path) -> dict:
    """On a database of `copiers` copiers each holding a copy of the lead's open position; and on the
    fan-out bench's database, whose lead orders' outcomes no snapshot has reported (all loaded at start)."""
    clock = Clock()
    path = scratch_path(folder, "startup")
    desk = copier_world(path, copiers, clock)
    try:
        execute(desk, lead_order("buy", clock))
    finally:
        desk.close()
    return {"copiers": copiers, "first_frame_ms": first_frame(path, runs),
            "with_history_ms": first_frame(history_db, runs), "runs": runs}


def bench_keypress(folder: Path, copiers: int, runs: int) -> dict:
    """Press `t` (the transfer dialog) right after a lead order reaches the engine thread, and time until the
    dialog is the screen on top, while the 2,000-copier fan-out is still running."""
    from textual import events

    from .desk_link import DeskLink
    from .screens.transfer_dialog import TransferDialog
    from .service import DeskService
    from .workstation import Workstation

    clock = Clock()
    path = scratch_path(folder, "ui")
    copier_world(path, copiers, clock).close()
    service = DeskService(path).start()
    app = Workstation(DeskLink(service, LEAD))
    times, during = [], 0

    async def until(done: Callable[[], bool], what: str, step: float = 0.0005) -> None:
        """Wait for `done`; a bench that never finishes would be worse than one that says where it stopped."""
        deadline = time.perf_counter() + KEYPRESS_PATIENCE_S
        while not done():
            if time.perf_counter() > deadline:
                raise BenchError(f"{what} did not happen within {KEYPRESS_PATIENCE_S} s")
            await asyncio.sleep(step)

    async def presses() -> None:
        nonlocal during
        async with app.run_test(size=SCREEN) as pilot:
            await until(lambda: app.first_frame is not None, "the workstation's first frame", 0.01)
            for _ in range(runs):
                fanout = service.submit(lead_order("buy", clock))
                await until(lambda: fanout.running() or fanout.done(), "the engine thread taking the lead order")
                started = time.perf_counter()
                app.post_message(events.Key("t", "t"))
                await until(lambda: isinstance(app.screen, TransferDialog), "the transfer dialog opening on `t`")
                times.append(time.perf_counter() - started)
                during += not fanout.done()
                outcome = await asyncio.wrap_future(fanout)
                if not outcome.accepted:
                    raise BenchError(f"the lead order was rejected: {outcome.code} {outcome.message}")
                await app.pop_screen()  # back on the workstation before the next key
                await asyncio.wrap_future(service.submit(lead_close(clock)))
                await pilot.pause(0.05)

    try:
        asyncio.run(presses())
    finally:
        service.stop()
    return {"copiers": copiers, "keypress_ms": round(statistics.median(times) * 1000, 1), "during_fanout": during,
            "runs": runs}


# --- the whole bench --------------------------------------------------------------------------------------

def run_all(sizes: Sizes, progress: Callable[[str], None] = lambda _: None) -> dict:
    with tempfile.TemporaryDirectory(prefix="copydesk-bench-") as scratch:
        folder = Path(scratch)
        progress(f"fan-out to {sizes.fanout:,} copiers")
        fanout, big_db = bench_fanout(folder, sizes.fanout, sizes.runs, "fanout", sizes.fanout_warmups)
        progress(f"fan-out to {sizes.fanout_small:,} copiers")
        fanout_small, _ = bench_fanout(folder, sizes.fanout_small, sizes.runs, "fanout-small", sizes.fanout_warmups)
        progress(f"price ticks over {sizes.tick_copiers * TICK_LEADS:,} positions (and memory)")
        ticks = in_child(_tick_child, scratch, sizes.tick_copiers, sizes.runs, sizes.idle_ticks)
        progress(f"replay of {sizes.replay_lines:,} lines")
        replay = bench_replay(folder, sizes.replay_lines, sizes.replay_runs)
        progress(f"workstation start-up on {sizes.startup_copiers:,} copiers")
        startup = bench_startup(folder, sizes.startup_copiers, min(sizes.runs, 3), big_db)
        progress(f"a keypress during a fan-out to {sizes.ui_copiers:,} copiers")
        ui = bench_keypress(folder, sizes.ui_copiers, sizes.runs)
    return {"fanout": fanout, "fanout_1k": fanout_small, "tick": ticks["tick"], "replay": replay, "startup": startup,
            "memory": ticks["memory"], "ui": ui}


def table(results: dict, quick: bool) -> str:
    rows = [("figure", "measured", "target", "")]
    for figure, key, unit, target, ceiling in TARGETS:
        value = results[figure][key]
        what = {"fanout": f"fan-out, {results['fanout']['copiers']:,} copiers",
                "fanout_1k": f"fan-out, {results['fanout_1k']['copiers']:,} copiers",
                "tick": f"tick, {results['tick']['positions']:,} positions",
                "replay": f"replay, {results['replay']['commands']:,} commands",
                "startup": f"start-up, {results['startup']['copiers']:,} copiers",
                "memory": f"peak RSS, {results['memory']['copiers']:,} copiers, "
                          f"{results['memory']['positions']:,} positions",
                "ui": f"keypress during a {results['ui']['copiers']:,}-copier fan-out"}[figure]
        label = {"median_ms": "median", "ratio": "÷ plain executemany", "idle_median_us": "no liquidation",
                 "liquidating_1pct_ms": "liquidating 1%", "per_second": "", "first_frame_ms": "first frame",
                 "rss_mb": "", "keypress_ms": ""}[key]
        met = value <= target if ceiling else value >= target
        verdict = "" if quick else ("ok" if met else "MISSED")
        rows.append((f"{what} {label}".strip(), f"{value:,} {unit}", f"{'≤' if ceiling else '≥'} {target:,} {unit}",
                     verdict))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    text = "\n".join(f"{row[0]:<{widths[0]}}  {row[1]:>{widths[1]}}  {row[2]:>{widths[2]}}  {row[3]}".rstrip()
                     for row in rows)
    notes = [f"fan-out baseline {results['fanout']['baseline_ms']} ms for the same {results['fanout']['rows']:,} rows; "
             f"the closing fan-out takes {results['fanout']['close_median_ms']} ms; the untimed first lead orders on "
             f"the new database took {', '.join(map(str, results['fanout']['warmup_ms']))} ms",
             f"tick through the committed desk path: {results['tick']['idle_desk_median_us']} µs quiet; the 1% tick "
             f"liquidated {results['tick']['liquidated']:,} positions (the engine's share: "
             f"{results['tick']['liquidating_engine_ms']} ms)",
             f"start-up on the fan-out bench's database ({results['fanout']['lead_orders']} lead orders' outcomes, "
             f"never reported by a snapshot, all loaded at start): {results['startup']['with_history_ms']} ms",
             f"keypress handled while the fan-out was still running in {results['ui']['during_fanout']} of "
             f"{results['ui']['runs']} runs"]
    if quick:
        notes.append("--quick sizes: the targets are for the full sizes (run without --quick)")
    return text + "\n\n" + "\n".join(notes)


def run_bench(*, quick: bool, as_json: bool, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    sizes = QUICK if quick else FULL
    results = run_all(sizes, progress=lambda step: (err.write(f"bench: {step}…\n"), err.flush()))
    if as_json:
        out.write(json.dumps(results) + "\n")
    else:
        out.write(table(results, quick) + "\n")
    return 0
