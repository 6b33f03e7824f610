"""One of a trader profile's curves, drawn with plotext: cumulative PnL and PnL%, equity and NAV, drawdown,
or copiers and AUM over the profile's daily points (the last one live).

Every draw is a full plotext build on the UI loop, so a chart redraws only when its numbers changed and
at most twice a second: a change inside that window is held and drawn when it ends (the latest wins)."""
from __future__ import annotations

import time
from datetime import datetime, timezone

from textual.timer import Timer
from textual_plotext import PlotextPlot

MIN_INTERVAL_S = 0.5
MAX_TICKS = 6

# kind: title, then (field, label, y side, scale, colour) per line
CHARTS = {
    "pnl": ("Cumulative lead PnL (USDT) · PnL % right", (("cum_pnl", "PnL", "left", 1, "cyan"),
                                                          ("pnl_pct", "PnL %", "right", 100, "orange"))),
    "equity": ("Equity (USDT) · NAV right", (("equity", "Equity", "left", 1, "cyan"),
                                              ("nav", "NAV", "right", 1, "magenta"))),
    "drawdown": ("Drawdown from the NAV peak (%)", (("drawdown", "Drawdown", "left", 100, "red"),)),
    "copiers": ("Copiers · AUM (USDT) right", (("copiers", "Copiers", "left", 1, "green"),
                                               ("aum", "AUM", "right", 1, "yellow"))),
}


def day_label(at_ms: int) -> str:
    return datetime.fromtimestamp(at_ms / 1000, tz=timezone.utc).strftime("%m-%d")


class LeadChart(PlotextPlot):
    DEFAULT_CSS = """
    LeadChart { height: 1fr; width: 1fr; min-height: 8; }
    """

    def __init__(self, kind: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.kind = kind
        self.draws = 0
        self._shown: tuple | None = None
        self._pending: tuple | None = None
        self._last_draw = 0.0
        self._timer: Timer | None = None

    def show(self, points: list[dict]) -> None:
        """New data: drawn now, or when the current interval ends; ignored when nothing changed."""
        _, lines = CHARTS[self.kind]
        labels = tuple(day_label(p["at_ms"]) for p in points[:-1]) + ("now",)
        # Floats only here, for plotting; a missing PnL% (nothing invested yet) plots as zero.
        data = (labels, tuple(tuple(float((p[field] or 0) * scale) for p in points)
                              for field, _, _, scale, _ in lines))
        if data == (self._pending or self._shown):
            return
        self._pending = data
        wait = self._last_draw + MIN_INTERVAL_S - time.monotonic()
        if wait <= 0:
            self._draw()
        elif self._timer is None:
            self._timer = self.set_timer(wait, self._draw)

    def _draw(self) -> None:
        self._timer = None
        data, self._pending = self._pending, None
        if data is None:
            return
        title, lines = CHARTS[self.kind]
        labels, series = data
        plt = self.plt
        plt.clear_figure()
        plt.title(title)
        xs = list(range(len(labels)))
        for (_, label, side, _, colour), values in zip(lines, series):
            plt.plot(xs, list(values), label=label, yside=side, color=colour, marker="braille")
        every = max(1, -(-len(xs) // MAX_TICKS))
        ticks = xs[::every] if xs[-1] in xs[::every] else xs[::every] + [xs[-1]]
        plt.xticks(ticks, [labels[i] for i in ticks])
        self.refresh()
        self._shown = data
        self._last_draw = time.monotonic()
        self.draws += 1
