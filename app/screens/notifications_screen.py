"""Your notifications, newest first: failed-copy reminders, unfollow countdowns, liquidations, ADL,
settlements, upgrades, copiers joining — everything the engine told you, kept in the database."""
from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Footer, Header

from ..widgets.record_table import RecordTable
from .live_screen import LiveScreen

URGENT = {"liquidation", "adl", "unfollow", "unfollow_countdown", "copy_failures", "restriction"}


class NotificationsScreen(LiveScreen):
    DEFAULT_CSS = """
    NotificationsScreen RecordTable { height: 1fr; }
    """

    def compose(self) -> ComposeResult:
        yield Header()
        yield RecordTable(("Time", "Kind", "Message"), id="inbox")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "Notifications"
        self.query_one("#inbox").focus()
        super().on_mount()

    def request(self):
        return "inbox", {}

    def show(self, notes: list[dict]) -> None:
        self.query_one("#inbox", RecordTable).show([
            (str(n["seq"]), n, (n["at"][:19].replace("T", " "),
                                Text(n["kind"], style="bold red" if n["kind"] in URGENT else "cyan"), n["text"]))
            for n in notes])
