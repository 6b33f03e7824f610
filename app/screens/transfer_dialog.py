"""Transfers between your own wallets: funding, futures, copy and elite."""
from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Select, Static

from engine.money import fmt

from .dialog import Dialog, decimal_field

WALLETS = [("Funding", "funding"), ("Futures", "futures"), ("Copy", "copy"), ("Elite", "elite")]


class TransferDialog(Dialog):
    def __init__(self, source: str = "funding", target: str = "futures") -> None:
        super().__init__()
        self.source, self.target = source, target

    def compose(self) -> ComposeResult:
        with Vertical(classes="frame"):
            yield Label(Text("Transfer between your wallets", style="bold"))
            with Horizontal(classes="row"):
                yield Static("From → to", classes="label")
                yield Select(WALLETS, value=self.source, allow_blank=False, id="source")
                yield Select(WALLETS, value=self.target, allow_blank=False, id="target")
            with Horizontal(classes="row"):
                yield Static("Amount", classes="label")
                yield Input(placeholder="USDT", id="amount")
            yield from self.buttons("Transfer")

    def on_mount(self) -> None:
        self.query_one("#amount", Input).focus()


    @on(Button.Pressed, "#confirm")
    @on(Input.Submitted)
    async def confirm(self) -> None:
        await self.submit_line(self.line)

    def line(self) -> dict:
        amount = decimal_field(self.query_one("#amount", Input).value, "an amount")
        return {"do": "transfer", "user": self.app.link.user, "from": self.query_one("#source").value,
                "to": self.query_one("#target").value, "amount": fmt(amount)}

    def success_text(self, line: dict, result) -> str:
        return f"Moved {line['amount']} USDT from {line['from'].capitalize()} to {line['to'].capitalize()}"
