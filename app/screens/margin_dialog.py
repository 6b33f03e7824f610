"""The isolated margin dialog: add or remove, the maximum removable, the new liquidation price
previewed, and — for a lead position — how many copiers will be synchronized."""
from __future__ import annotations

from decimal import Decimal

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Select, Static

from engine.errors import Rejected
from engine.money import fmt

from ..widgets.format import money, price
from .dialog import PositionDialog, decimal_field


class MarginDialog(PositionDialog):

    def compose(self) -> ComposeResult:
        p = self.position
        with Vertical(classes="frame"):
            yield Label(Text(f"Adjust isolated margin · {p['symbol']} {p['side']} {p['qty']} · "
                             f"{self.account.capitalize()}", style="bold"))
            with Horizontal(classes="row"):
                yield Static("Action", classes="label")
                yield Select([("Add margin", "add"), ("Remove margin", "remove")], value="add", allow_blank=False,
                             id="direction")
                yield Input(placeholder="amount in USDT", id="amount")
            yield Static(classes="preview", id="preview")
            yield from self.buttons("Confirm", extra=[Button("Max", id="max")])

    def on_mount(self) -> None:
        self.query_one("#amount", Input).focus()
        self.refresh_preview()

    def delta(self) -> Decimal:
        amount = decimal_field(self.query_one("#amount", Input).value, "an amount", required=False) or Decimal(0)
        if amount < 0:
            raise Rejected("INVALID_AMOUNT", "enter a positive amount and pick add or remove")
        return amount if self.query_one("#direction", Select).value == "add" else -amount

    @on(Input.Changed)
    @on(Select.Changed)
    def _changed(self) -> None:
        self.refresh_preview()

    @work(exclusive=True, group="margin-preview")
    async def refresh_preview(self) -> None:
        preview = self.query_one("#preview", Static)
        try:
            delta = self.delta()
        except Rejected as rejection:
            preview.update(Text(rejection.message, style="dim"))
            return
        p = self.position
        try:
            view = await self.app.link.margin_view(self.account, p["symbol"], p["lead"], delta)
        except Rejected as error:  # a desk gone away: the dialog stays, and says so
            preview.update(Text(error.message, style="dim"))
            return
        if view["missing"]:
            preview.update(Text("This position is closed.", style="dim"))
            return
        self.max_removable = view["max_removable"]
        text = Text.assemble(
            ("Margin ", "dim"), money(view["margin"]), ("  →  ", "dim"), (money(view["margin"] + delta), "bold"),
            ("   Max removable ", "dim"), money(view["max_removable"]), ("   Available ", "dim"),
            money(view["available"]), "\n",
            ("Liquidation price ", "dim"), price(view["liquidation_price"], p["tick"]), ("  →  ", "dim"),
            (price(view["new_liquidation_price"], p["tick"]), "bold yellow"))
        if view["copiers_to_sync"]:
            text.append(f"\n{view['copiers_to_sync']} copiers with an isolated copy will be synchronized at the "
                        "same ratio.", style="cyan")
        preview.update(text)

    @on(Button.Pressed, "#max")
    def _max(self) -> None:
        if self.query_one("#direction", Select).value == "remove" and getattr(self, "max_removable", None) is not None:
            self.query_one("#amount", Input).value = fmt(self.max_removable)


    @on(Button.Pressed, "#confirm")
    @on(Input.Submitted)
    async def confirm(self) -> None:
        await self.submit_line(self.line)

    def line(self) -> dict:
        delta = self.delta()
        if delta == 0:
            raise Rejected("INVALID_AMOUNT", "enter an amount greater than zero")
        p = self.position
        line = {"do": "margin", "user": self.app.link.user, "account": self.account, "symbol": p["symbol"],
                "delta": fmt(delta)}
        if p["lead"]:
            line["lead"] = p["lead"]
        return line

    def success_text(self, line: dict, result) -> str:
        return f"Margin now {result['margin']} USDT; liquidation price {result['liquidation_price']}"
