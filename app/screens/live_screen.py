"""What the workstation's full screens share: a named view (`app/screen_views.py`), built on the engine
thread or served over `--connect`, shown on arrival and refreshed every REFRESH_S by a poll that never
stacks requests (a tick is skipped while the previous load is on its way; `reload()` — a period switch,
a new tab — cancels it and asks again), and Escape to go back to the screen underneath. A view that
cannot be had (a desk gone away, a refused question) is said once, and the last picture stays."""
from __future__ import annotations

from functools import partial
from typing import Any

from textual import on
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Tabs
from textual.worker import Worker

from engine.errors import Rejected

from ..widgets.period_tabs import PeriodTabs


class LiveScreen(Screen):
    REFRESH_S = 1.0
    BINDINGS = [Binding("escape", "back", "Back", id="screen.back")]

    def __init__(self) -> None:
        super().__init__()
        self.view: Any = None
        self._worker: Worker | None = None
        self._trouble: str | None = None  # what the last failed load said, so a poll does not repeat it

    def on_mount(self) -> None:
        self.reload()
        self.set_interval(self.REFRESH_S, self._tick)

    def _tick(self) -> None:
        if self._worker is None or self._worker.is_finished:
            self.reload()

    def reload(self) -> None:
        self._worker = self.run_worker(partial(self._load, self.request()), exclusive=True,
                                       group=f"{type(self).__name__}-view")

    async def _load(self, request: tuple[str, dict[str, str]]) -> None:
        name, ask = request
        try:
            view = await self.app.link.screen_view(name, **ask)
        except Rejected as error:  # a refused question, or a desk gone away
            if str(error) != self._trouble:
                self._trouble = str(error)
                self.app.notify(error.message, title=f"{self.sub_title or name}: not updated", severity="error")
            return
        self._trouble = None
        # Dismissed, or the app closing, while the view was on its way: a screen being pruned has lost (or is
        # losing) its widgets before its workers are cancelled. (Textual's own checks read `_pruning` too.)
        if not self.is_attached or self._pruning or self._closing:
            return
        self.view = view
        with self.app.batch_update():
            self.show(view)

    def request(self) -> tuple[str, dict[str, str]]:
        """The view to ask for and its parameters (text), from this screen's current choices."""
        raise NotImplementedError

    def show(self, view: Any) -> None:
        raise NotImplementedError

    def action_back(self) -> None:
        self.app.pop_screen()


class PeriodScreen(LiveScreen):
    """A live screen with a 7D / 30D / 90D / all switch: keys 1–4 or the PeriodTabs with id `periods`."""
    BINDINGS = [
        Binding("1", "period('7d')", "7D", id="period.7d"),
        Binding("2", "period('30d')", "30D", id="period.30d"),
        Binding("3", "period('90d')", "90D", id="period.90d"),
        Binding("4", "period('all')", "All", id="period.all"),
    ]

    def __init__(self, period: str = "all") -> None:
        super().__init__()
        self.period = period

    def action_period(self, period: str) -> None:
        self.query_one(PeriodTabs).select(period)

    @on(Tabs.TabActivated, "#periods")
    def _period_chosen(self) -> None:
        period = self.query_one(PeriodTabs).period
        if period != self.period:
            self.period = period
            self.reload()
