"""Unfollow a lead: copying stops; your copy positions stay open unless you ask to close them at market."""
from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, Label, Static

from .dialog import Dialog


class UnfollowDialog(Dialog):
    def __init__(self, lead: str, nickname: str) -> None:
        super().__init__()
        self.lead, self.nickname = lead, nickname

    def compose(self) -> ComposeResult:
        with Vertical(classes="frame"):
            yield Label(Text(f"Unfollow {self.nickname} (@{self.lead})", style="bold"))
            yield Static(Text("New lead orders will no longer be copied. Profit share due on closed copy orders is "
                              "settled now.", style="dim"))
            yield Checkbox("Also close my copy positions of this lead at market", id="close_positions")
            yield Static(classes="error")
            with Horizontal(classes="buttons"):
                yield Button("Unfollow", variant="error", id="confirm")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#confirm", Button).focus()


    @on(Button.Pressed, "#confirm")
    async def confirm(self) -> None:
        line = {"do": "unfollow", "user": self.app.link.user, "lead": self.lead}
        if self.query_one("#close_positions", Checkbox).value:
            line["close_positions"] = True
        await self.send(line)

    def success_text(self, line: dict, result) -> str:
        closed = " and closed your copy positions" if line.get("close_positions") else ""
        return f"You unfollowed {self.nickname}{closed}"
