"""The order ticket, bound to the focused account: what you send, what it costs and where it would be
liquidated — previewed by the engine before you submit."""
from __future__ import annotations

from decimal import Decimal

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from engine.errors import Rejected
from engine.money import fmt

from ..widgets.format import money, price
from .dialog import Dialog, decimal_field

TYPES = [("Market", "market"), ("Limit", "limit"), ("Post-only", "post_only"), ("Stop market", "stop_market"),
         ("Stop limit", "stop_limit"), ("Trailing stop", "trailing_stop")]


class OrderTicket(Dialog):
    def __init__(self, account: str, symbols: list[str], symbol: str | None = None, side: str = "buy") -> None:
        super().__init__()
        self.account = account
        self.symbols = symbols
        self.symbol = symbol or symbols[0]
        self.side = side

    def compose(self) -> ComposeResult:
        with Vertical(classes="frame"):
            yield Label(Text(f"New order · {self.account.capitalize()} account", style="bold"))
            with Horizontal(classes="row"):
                yield Static("Symbol", classes="label")
                yield Select([(s, s) for s in self.symbols], value=self.symbol, allow_blank=False, id="symbol")
                yield Select([("Buy / Long", "buy"), ("Sell / Short", "sell")], value=self.side, allow_blank=False,
                             id="side")
            with Horizontal(classes="row"):
                yield Static("Type", classes="label")
                yield Select(TYPES, value="market", allow_blank=False, id="type")
                yield Select([("Qty (contracts)", "qty"), ("USDT notional", "amount")], value="qty",
                             allow_blank=False, id="size_in")
            with Horizontal(classes="row"):
                yield Static("Size", classes="label")
                yield Input(placeholder="e.g. 0.01", id="size")
                yield Input(placeholder="price (limit)", id="price")
                yield Input(placeholder="trigger (stop)", id="trigger")
            with Horizontal(classes="row"):
                yield Static("Leverage / mode", classes="label")
                yield Input(placeholder="10", id="leverage")
                yield Select([("Isolated", "isolated"), ("Cross", "cross")], value="isolated", allow_blank=False,
                             id="margin_mode")
            with Horizontal(classes="row"):
                yield Static("TP / SL", classes="label")
                yield Input(placeholder="take-profit price", id="tp")
                yield Input(placeholder="stop-loss price", id="sl")
            yield Checkbox("Reduce-only", id="reduce_only")
            yield Static(classes="preview", id="preview")
            yield from self.buttons("Submit", confirm_id="submit")

    def on_mount(self) -> None:
        self.query_one("#size", Input).focus()
        self.refresh_preview()

    def line(self) -> dict:
        value = lambda selector: self.query_one(selector).value  # noqa: E731
        size = decimal_field(value("#size"), "a size")
        line = {"do": "order", "user": self.app.link.user, "account": self.account, "symbol": value("#symbol"),
                "side": value("#side"), "type": value("#type"), value("#size_in"): fmt(size)}
        for name in ("price", "trigger", "tp", "sl"):
            parsed = decimal_field(value(f"#{name}"), name, required=False)
            if parsed is not None:
                line[name] = fmt(parsed)
        if line["type"] == "trailing_stop":
            line["callback"] = line.pop("trigger", "0.01")
        leverage = value("#leverage").strip()
        if leverage:
            if not leverage.isdigit():
                raise Rejected("LEVERAGE_NOT_ALLOWED", "leverage is a whole number such as 10")
            line["leverage"] = int(leverage)
        line["margin_mode"] = value("#margin_mode")
        if self.query_one("#reduce_only", Checkbox).value:
            line["reduce_only"] = True
        return line

    @on(Input.Changed)
    @on(Select.Changed)
    def _changed(self) -> None:
        self.refresh_preview()

    @work(exclusive=True, group="ticket-preview")
    async def refresh_preview(self) -> None:
        preview = self.query_one("#preview", Static)
        try:
            line = self.line()
            size = line.get("qty") or line.get("amount")
            quantity = Decimal(size)
            if "amount" in line:
                last = next(m["last"] for m in self.app.view["markets"] if m["symbol"] == line["symbol"])
                quantity = quantity / last
            result = await self.app.link.preview(
                account_kind=self.account, symbol=line["symbol"], side=1 if line["side"] == "buy" else -1,
                qty=quantity, price=Decimal(line["price"]) if "price" in line else None,
                leverage=line.get("leverage"), margin_mode=line["margin_mode"])
        except Rejected as rejection:
            preview.update(Text(rejection.message, style="dim"))
            return
        except Exception as error:  # a half-typed field: say what is missing, never crash the ticket
            preview.update(Text(str(error) or "enter a size", style="dim"))
            return
        preview.update(Text.assemble(
            ("Est. price ", "dim"), money(result["price"], 4), ("   Notional ", "dim"), money(result["notional"]),
            ("   Cost ", "dim"), (money(result["cost"]), "bold"), (" USDT (margin ", "dim"), money(result["margin"]),
            (" + fee ", "dim"), money(result["fee"], 4), (")\n", "dim"),
            ("Liquidation price after ", "dim"), (price(result["liquidation_price"]), "bold yellow"),
            ("   Available ", "dim"), money(result["available"]),
            ("   ", ""), (f"{result['leverage']}x {result['margin_mode']}", "dim")))


    @on(Button.Pressed, "#submit")
    @on(Input.Submitted)
    async def submit(self) -> None:
        await self.submit_line(self.line)

    def success_text(self, line: dict, result) -> str:
        if isinstance(result, dict) and result.get("status") == "filled":
            return f"{line['side'].title()} {result['qty']} {line['symbol']} filled at {result['price']}"
        return f"{line['type'].replace('_', ' ')} order {result.get('status', 'placed')}"
