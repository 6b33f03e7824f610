"""The activity feed: your fills, notifications and liquidations, newest last."""
from __future__ import annotations

from rich.text import Text
from textual.widgets import RichLog

STYLES = {"fill": "cyan", "notice": "white", "liquidation": "bold red", "error": "red"}


class ActivityFeed(RichLog):
    DEFAULT_CSS = """
    ActivityFeed { border: round $primary 30%; height: 1fr; }
    """

    def __init__(self) -> None:
        super().__init__(id="activity", max_lines=500, wrap=True, markup=False)

    def on_mount(self) -> None:
        self.border_title = "Activity"

    def add(self, items: list[dict]) -> None:
        for item in items:
            self.write(Text.assemble((item["at"][11:19] + " ", "dim"),
                                     (item["text"], STYLES.get(item["category"], ""))))
