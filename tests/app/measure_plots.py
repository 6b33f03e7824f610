"""How much the profile's plotext curves cost, and whether the UI stays responsive while they redraw.

    python tests/app/measure_plots.py

On the screenshot world (a month of daily points, 120 copiers) it
1. times a full plotext build (what a chart's render does) of each of Trend Tina's four charts;
2. feeds a price tick per symbol every 50 ms for 10 s — so the live point, and the equity and AUM
   curves, change all the time — while a 5 ms heartbeat on the event loop records how late it wakes
   up, first on the main screen (the baseline), then on the profile; and counts chart redraws;
3. times period switches by key, from the key press to the new period's view reaching the widgets
   (Pilot.press itself also waits for the tab underline's animation, so it is not the measure).
Not a test: the figures depend on the machine. The README quotes them."""
from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[2])]

from app.desk_link import DeskLink  # noqa: E402
from app.feeds import DEFAULT_START_PRICES, DEFAULT_TICKS, SimulatedFeed  # noqa: E402
from app.screens.profile_screen import ProfileScreen  # noqa: E402
from app.screenshots import SIZE, build_world  # noqa: E402
from app.service import DeskService  # noqa: E402
from app.widgets.lead_chart import LeadChart  # noqa: E402
from app.workstation import Workstation  # noqa: E402

BUILDS = 50
TICKING_S = 10.0


async def until(pilot, predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the screen never showed what was expected")
        await pilot.pause(0.01)


async def lateness_while_ticking(service: DeskService, seed: int) -> list[float]:
    """Milliseconds a 5 ms sleep on the event loop overslept, while prices tick every 50 ms."""
    stop = threading.Event()
    feed = SimulatedFeed(dict(DEFAULT_START_PRICES), dict(DEFAULT_TICKS), seed=seed)

    def ticking() -> None:
        while not stop.wait(0.05):
            for tick in feed.advance(50):
                service.submit(tick.to_command())

    late: list[float] = []
    thread = threading.Thread(target=ticking, daemon=True)
    thread.start()
    ends = time.perf_counter() + TICKING_S
    while time.perf_counter() < ends:
        before = time.perf_counter()
        await asyncio.sleep(0.005)
        late.append((time.perf_counter() - before - 0.005) * 1000)
    stop.set()
    thread.join()
    return late


def summary(late: list[float]) -> str:
    return (f"median {statistics.median(late):.1f} ms, p99 {sorted(late)[int(len(late) * 0.99)]:.0f} ms, "
            f"max {max(late):.0f} ms")


async def measure(service: DeskService) -> None:
    app = Workstation(DeskLink(service, "you"))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.view is not None)
        print(f"main screen, ticking every 50 ms for {TICKING_S:.0f} s: event-loop lateness "
              f"{summary(await lateness_while_ticking(service, seed=5))}")

        app.push_screen(ProfileScreen("trend_tina"))
        await until(pilot, lambda: isinstance(app.screen, ProfileScreen) and app.screen.view is not None)
        profile = app.screen
        charts = list(profile.query(LeadChart))
        await until(pilot, lambda: all(chart.draws for chart in charts))
        for chart in charts:
            started = time.perf_counter()
            for _ in range(BUILDS):
                chart.render()
            print(f"plotext build of {chart.kind!r} ({chart.size.width}x{chart.size.height} cells, "
                  f"{len(profile.view['curve'])} points): {(time.perf_counter() - started) / BUILDS * 1000:.1f} ms")

        before = [chart.draws for chart in charts]
        late = await lateness_while_ticking(service, seed=6)
        rates = ", ".join(f"{chart.kind} {(chart.draws - drawn) / TICKING_S:.1f}"
                          for chart, drawn in zip(charts, before))
        print(f"profile screen, same ticking: event-loop lateness {summary(late)}; redraws per second: {rates}")

        shown_at: dict[str, float] = {}
        show = profile.show
        profile.show = lambda view: (shown_at.setdefault(view["period"], time.perf_counter()), show(view))
        latencies = []
        for key, period in (("1", "7d"), ("2", "30d"), ("3", "90d"), ("4", "all")) * 3:
            shown_at.clear()
            started = time.perf_counter()
            await pilot.press(key)
            await until(pilot, lambda: period in shown_at)
            latencies.append((shown_at[period] - started) * 1000)
        print(f"period switch, key press → the new period's view in the widgets: median "
              f"{statistics.median(latencies):.0f} ms, max {max(latencies):.0f} ms")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="copydesk-plots-") as scratch:
        service = DeskService(Path(scratch) / "plots.db", lock=False).start()
        try:
            build_world(service)
            asyncio.run(measure(service))
        finally:
            service.stop()


if __name__ == "__main__":
    main()
