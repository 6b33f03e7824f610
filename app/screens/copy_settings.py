"""Copy settings: follow a lead, or change how you copy one (SPEC §7.2) — fixed margin or ratio, leverage
and margin mode, margin limits, symbols, TP/SL and slippage. What you type is checked here first, with a
clear sentence; the engine's rejection (code and sentence) is shown in place; and a preview shows what the
lead's last lead order would have copied as for you, computed by the engine."""
from __future__ import annotations

from decimal import Decimal

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Label, Select, SelectionList, Static

from engine.errors import Rejected
from engine.money import fmt

from ..widgets.format import money, qty
from .dialog import Dialog, decimal_field

MAX_LEVERAGE = 125
HUNDRED = Decimal(100)
# Optional limits: (input id, settings name, what it is, scale from what is typed to the engine's value, maximum)
OPTIONAL = (
    ("max_margin_per_order", "max_margin_per_order", "the max margin per order", Decimal(1), None),
    ("max_total_margin", "max_total_margin", "the max total margin", Decimal(1), None),
    ("tp", "tp_ratio", "the take-profit %", HUNDRED, Decimal(10_000)),
    ("sl", "sl_ratio", "the stop-loss %", HUNDRED, HUNDRED),
    ("slippage", "slippage", "the slippage %", HUNDRED, Decimal(50)),
)


class CopySettingsDialog(Dialog):
    DEFAULT_CSS = """
    CopySettingsDialog SelectionList { height: auto; max-height: 7; width: 1fr; }
    """

    def __init__(self, lead: str, nickname: str, lead_symbols: tuple[str, ...], current: dict | None) -> None:
        super().__init__()
        self.lead, self.nickname, self.lead_symbols = lead, nickname, tuple(lead_symbols)
        self.current = current

    def compose(self) -> ComposeResult:
        c = self.current or {}
        shown = lambda name, scale=Decimal(1): "" if c.get(name) is None else fmt(c[name] * scale)  # noqa: E731
        chosen = c.get("symbols") or self.lead_symbols
        with VerticalScroll(classes="frame"):
            verb = "Copy settings" if self.current else "Follow"
            yield Label(Text(f"{verb} · {self.nickname} (@{self.lead})", style="bold"))
            with Horizontal(classes="row"):
                yield Static("Copy by", classes="label")
                yield Select([("Fixed margin", "fixed"), ("Ratio", "ratio")],
                             value=c.get("mode", "fixed"), allow_blank=False, id="mode")
                yield Input(shown("amount"), placeholder="USDT margin per order", id="amount")
                yield Input(shown("ratio"), placeholder="× the lead's size, 0.01–100", id="ratio")
            with Horizontal(classes="row"):
                yield Static("Leverage", classes="label")
                yield Select([("Follow the lead", "follow"), ("Fixed", "fixed")],
                             value="fixed" if c.get("leverage") else "follow", allow_blank=False, id="leverage_mode")
                yield Input(str(c.get("leverage") or ""), placeholder=f"1–{MAX_LEVERAGE}", id="leverage")
            with Horizontal(classes="row"):
                yield Static("Margin mode", classes="label")
                yield Select([("Follow the lead", "follow"), ("Isolated", "isolated"), ("Cross", "cross")],
                             value=c.get("margin_mode") or "follow", allow_blank=False, id="margin_mode")
            with Horizontal(classes="row"):
                yield Static("Max margin", classes="label")
                yield Input(shown("max_margin_per_order"), placeholder="per order, USDT (optional)",
                            id="max_margin_per_order")
                yield Input(shown("max_total_margin"), placeholder="total for this lead, USDT (optional)",
                            id="max_total_margin")
            with Horizontal(classes="row"):
                yield Static("Symbols", classes="label")
                yield SelectionList[str](*[(s, s, s in chosen) for s in self.lead_symbols], id="symbols")
            with Horizontal(classes="row"):
                yield Static("TP / SL", classes="label")
                yield Input(shown("tp_ratio", HUNDRED), placeholder="take profit, % of margin", id="tp")
                yield Input(shown("sl_ratio", HUNDRED), placeholder="stop loss, % of margin", id="sl")
            with Horizontal(classes="row"):
                yield Static("Slippage", classes="label")
                yield Input(shown("slippage", HUNDRED), placeholder="max % from the lead's fill (0.5 BTC/ETH, 1.5 "
                            "others)", id="slippage")
            yield Static(classes="preview", id="preview")
            yield Static(classes="error")
            with Horizontal(classes="buttons"):
                yield Button("Save" if self.current else "Follow", variant="primary", id="confirm")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self._enable_inputs()
        self.query_one("#amount" if self.query_one("#mode", Select).value == "fixed" else "#ratio", Input).focus()
        self.refresh_preview()

    def _enable_inputs(self) -> None:
        self.query_one("#amount", Input).disabled = self.query_one("#mode", Select).value != "fixed"
        self.query_one("#ratio", Input).disabled = self.query_one("#mode", Select).value != "ratio"
        self.query_one("#leverage", Input).disabled = self.query_one("#leverage_mode", Select).value != "fixed"

    # --- reading what was typed -----------------------------------------------------------------

    def settings(self) -> dict:
        """The settings as the engine takes them (Decimal fractions), or a Rejected with a clear sentence."""
        value = lambda selector: self.query_one(selector).value  # noqa: E731
        mode = value("#mode")
        settings: dict = {"mode": mode, "amount": None, "ratio": None}
        if mode == "fixed":
            amount = decimal_field(value("#amount"), "the USDT margin per copied order")
            if amount <= 0:
                raise Rejected("INVALID_AMOUNT", "the margin per copied order must be greater than zero")
            settings["amount"] = amount
        else:
            ratio = decimal_field(value("#ratio"), "the ratio to the lead's order size")
            if not Decimal("0.01") <= ratio <= 100:
                raise Rejected("BAD_FIELD", f"the ratio must be between 0.01 and 100, got {fmt(ratio)}")
            settings["ratio"] = ratio
        settings["leverage"] = None
        if value("#leverage_mode") == "fixed":
            text = value("#leverage").strip()
            if not text.isdigit() or not 1 <= int(text) <= MAX_LEVERAGE:
                raise Rejected("LEVERAGE_NOT_ALLOWED", f"a fixed leverage is a whole number from 1 to {MAX_LEVERAGE}")
            settings["leverage"] = int(text)
        settings["margin_mode"] = None if value("#margin_mode") == "follow" else value("#margin_mode")
        for field_id, name, label, scale, maximum in OPTIONAL:
            typed = decimal_field(value(f"#{field_id}"), label, required=False)
            if typed is None:
                if self.current and self.current.get(name) is not None:
                    raise Rejected("BAD_FIELD", f"{label} stays set once chosen: enter a new value (to drop it, "
                                   "unfollow and follow again)")
                settings[name] = None
                continue
            if typed <= 0 or (maximum is not None and typed > maximum):
                limit = f" and at most {fmt(maximum)}" if maximum is not None else ""
                raise Rejected("BAD_FIELD", f"{label} must be greater than zero{limit}, got {fmt(typed)}")
            settings[name] = typed / scale
        symbols = tuple(s for s in self.lead_symbols if s in self.query_one("#symbols", SelectionList).selected)
        if not symbols:
            raise Rejected("SYMBOL_NOT_SELECTED", "select at least one symbol to copy")
        settings["symbols"] = None if symbols == self.lead_symbols else symbols
        return settings

    def line(self, settings: dict) -> dict:
        line = {"do": "update_follow" if self.current else "follow", "user": self.app.link.user, "lead": self.lead,
                "mode": settings["mode"], "leverage": settings["leverage"] or "follow",
                "margin_mode": settings["margin_mode"] or "follow"}
        if settings["mode"] == "fixed":
            line["amount"] = fmt(settings["amount"])
        else:
            line["ratio"] = fmt(settings["ratio"])
        for _, name, _, _, _ in OPTIONAL:
            if settings[name] is not None:
                line[name] = fmt(settings[name])
        if settings["symbols"] is not None:
            line["symbols"] = list(settings["symbols"])
        elif self.current and self.current.get("symbols"):
            line["symbols"] = list(self.lead_symbols)  # back from a subset to every symbol
        return line

    # --- preview and confirm --------------------------------------------------------------------

    @on(Input.Changed)
    @on(Select.Changed)
    @on(SelectionList.SelectedChanged)
    def _changed(self) -> None:
        self._enable_inputs()
        self.refresh_preview()

    @work(exclusive=True, group="copy-preview")
    async def refresh_preview(self) -> None:
        preview = self.query_one("#preview", Static)
        try:
            result = await self.app.link.follow_preview(self.line(self.settings()))
        except Rejected as error:  # typed wrong, refused by the engine, or a desk gone away
            preview.update(Text(error.message, style="dim"))
            return
        preview.update(describe(result))


    @on(Button.Pressed, "#confirm")
    @on(Input.Submitted)
    async def confirm(self) -> None:
        await self.submit_line(lambda: self.line(self.settings()))

    def success_text(self, line: dict, result) -> str:
        return f"Copy settings for {self.nickname} saved" if self.current else f"You now copy {self.nickname}"


def copy_by(settings: dict) -> str:
    """How a follow sizes its copies, in a few words."""
    if settings["mode"] == "fixed":
        return f"fixed {money(settings['amount'])} USDT"
    return f"ratio {qty(settings['ratio'])}×"


def describe(preview: dict) -> Text:
    if preview["lead_order"] is None:
        return Text("No lead order yet to preview: the lead has not opened a position on a lead symbol.", style="dim")
    text = Text.assemble(("Lead's last order ", "dim"), (preview["lead_order"], "bold"),
                         f": {preview['side']} {qty(preview['lead_qty'])} {preview['symbol']} at "
                         f"{money(preview['lead_price'])}\n")
    if preview["code"] is not None:
        text.append(f"Your copy would fail: {preview['code']} — {preview['message']}", style="red")
    else:
        text.append_text(Text.assemble(
            ("Your copy: ", "dim"), (f"{qty(preview['qty'])} contracts", "bold green"),
            ("  margin ", "dim"), f"{money(preview['margin'])} USDT", ("  fee ", "dim"), money(preview["fee"]),
            ("  at ", "dim"), f"{preview['leverage']}x {preview['margin_mode']}"))
    return text
