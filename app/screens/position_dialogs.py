"""Closing all or part of a position, and setting its take-profit and stop-loss."""
from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from engine.money import fmt

from .dialog import PositionDialog, decimal_field


class CloseDialog(PositionDialog):
    def compose(self) -> ComposeResult:
        p = self.position
        with Vertical(classes="frame"):
            yield Label(Text(f"Close {p['symbol']} {p['side']} · {self.account.capitalize()}", style="bold"))
            with Horizontal(classes="row"):
                yield Static("Quantity", classes="label")
                yield Input(value=fmt(p["qty"]), id="qty")
            yield Static(Text(f"Open size {fmt(p['qty'])}: leave it for a full close at market.", style="dim"))
            yield from self.buttons("Close at market", variant="error")


    @on(Button.Pressed, "#confirm")
    @on(Input.Submitted)
    async def confirm(self) -> None:
        await self.submit_line(self.line)

    def line(self) -> dict:
        p = self.position
        qty = decimal_field(self.query_one("#qty", Input).value, "a quantity")
        line = {"do": "close", "user": self.app.link.user, "account": self.account, "symbol": p["symbol"]}
        if qty != p["qty"]:
            line["qty"] = fmt(qty)
        if p["lead"]:
            line["lead"] = p["lead"]
        return line

    def success_text(self, line: dict, result) -> str:
        return f"Closed {result['qty']} {line['symbol']} at {result['price']} · PnL {result['realized_pnl']} USDT"


class TpSlDialog(PositionDialog):
    def compose(self) -> ComposeResult:
        p = self.position
        with Vertical(classes="frame"):
            yield Label(Text(f"TP / SL · {p['symbol']} {p['side']} · entry {fmt(p['entry'])}", style="bold"))
            with Horizontal(classes="row"):
                yield Static("Take-profit", classes="label")
                yield Input(value=fmt(p["tp"]) or "", placeholder="price, 0 clears", id="tp")
            with Horizontal(classes="row"):
                yield Static("Stop-loss", classes="label")
                yield Input(value=fmt(p["sl"]) or "", placeholder="price, 0 clears", id="sl")
            yield from self.buttons("Set")


    @on(Button.Pressed, "#confirm")
    @on(Input.Submitted)
    async def confirm(self) -> None:
        await self.submit_line(self.line)

    def line(self) -> dict:
        p = self.position
        line = {"do": "tp_sl", "user": self.app.link.user, "account": self.account, "symbol": p["symbol"]}
        for name in ("tp", "sl"):
            value = decimal_field(self.query_one(f"#{name}", Input).value, name, required=False)
            if value is not None:
                line[name] = fmt(value)
        if p["lead"]:
            line["lead"] = p["lead"]
        return line

    def success_text(self, line: dict, result) -> str:
        return f"TP {result['tp'] or '—'} · SL {result['sl'] or '—'}"
