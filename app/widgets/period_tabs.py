"""The 7D / 30D / 90D / All switch of the profile and the leaderboard: clickable tabs whose ids are the
engine's period names, so keys and clicks take the same path (TabActivated)."""
from __future__ import annotations

from textual.widgets import Tab, Tabs

LABELS = {"7d": "7D", "30d": "30D", "90d": "90D", "all": "All"}


class PeriodTabs(Tabs):
    DEFAULT_CSS = """
    PeriodTabs { width: 44; }
    """

    def __init__(self, period: str, *, id: str | None = None) -> None:
        super().__init__(*(Tab(label, id=f"period-{name}") for name, label in LABELS.items()),
                         active=f"period-{period}", id=id)

    @property
    def period(self) -> str:
        return (self.active or "period-all").removeprefix("period-")

    def select(self, period: str) -> None:
        self.active = f"period-{period}"
