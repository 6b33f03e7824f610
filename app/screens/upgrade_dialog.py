"""The legacy upgrade (SPEC §9): a user on the old single futures account moves to Futures | Copy | Elite.
It completes at once with no copy or lead position open, else it waits, pending, for the last to close."""
from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Label, Static

from engine.errors import Rejected

from .dialog import Dialog


class UpgradeDialog(Dialog):
    def compose(self) -> ComposeResult:
        with Vertical(classes="frame"):
            yield Label(Text("Account structure upgrade", style="bold"))
            yield Static(id="status")
            yield Static(classes="error")
            with Horizontal(classes="buttons"):
                yield Button("Upgrade", variant="primary", id="confirm", disabled=True)
                yield Button("Close", id="cancel")

    def on_mount(self) -> None:
        self.load_status()

    @work(exclusive=True, group="upgrade-status")
    async def load_status(self) -> None:
        try:
            structure = await self.app.link.screen_view("account_structure")
        except Rejected as error:  # a desk gone away
            self.query_one("#status", Static).update(Text(f"Could not read your account structure: {error.message}",
                                                          style="red"))
            return
        legacy, status = structure["legacy"], structure["upgrade_status"]
        if not legacy or status == "done":
            text = "You have the three-account structure: Futures, Copy and Elite are isolated. Nothing to upgrade."
        elif status == "pending":
            text = "Upgrade pending: it completes by itself when your last copy or lead position closes."
        else:
            text = ("Your account is a legacy single futures account: personal, copy and lead trading share one "
                    "wallet. Upgrading opens separate Copy (and Elite) accounts; positions and history stay. With "
                    "a copy or lead position open it waits until the last one closes.")
        self.query_one("#status", Static).update(text)
        self.query_one("#confirm", Button).disabled = not legacy or status is not None


    @on(Button.Pressed, "#confirm")
    async def confirm(self) -> None:
        await self.send({"do": "upgrade", "user": self.app.link.user})

    def success_text(self, line: dict, result) -> str:
        return "Upgraded: Futures, Copy and Elite are now separate" if result["upgrade"] == "done" else \
            "Upgrade pending: it completes when your last copy or lead position closes"
