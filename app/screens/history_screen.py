"""History of your accounts — orders, fills, funding, liquidations & ADL, the ledger — and account statements
exported as CSV and JSON for a period, with totals that reconcile with the ledger."""
from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Footer, Header, Input, Select, Static, TabbedContent, TabPane

from engine.errors import Rejected
from engine.money import fmt

from ..statement import default_days, period, write_statement
from ..views_history import TABS, WALLETS
from ..widgets.format import money, qty, side, signed
from ..widgets.record_table import RecordTable
from .live_screen import LiveScreen

TITLES = {"orders": "Orders", "fills": "Fills", "funding": "Funding", "liquidations": "Liquidations & ADL",
          "ledger": "Ledger", "statement": "Statement"}
COLUMNS = {
    "orders": ("Time", "Account", "Contract", "Side", "Type", "Size", "Price", "Trigger", "Reduce-only", "Status"),
    "fills": ("Time", "Account", "Contract", "Side", "Size", "Price", "Fee", "Realized PnL", "Kind", "Order"),
    "funding": ("Time", "Account", "Contract", "Size", "Mark", "Rate", "Amount"),
    "liquidations": ("Time", "Account", "Contract", "Side", "Size", "Price", "Fee", "Kind", "Insurance fund"),
    "ledger": ("Time", "Type", "From", "To", "Amount", "Ref"),
}
ACCOUNTS = [(kind.capitalize(), kind) for kind in WALLETS]


def when(record: dict) -> str:
    return record["at"][:19].replace("T", " ")


def wallet(ledger_account: str) -> str:
    return ledger_account.split(":", 1)[1] if ":" in ledger_account else ledger_account


def exact(value) -> str:
    """Every decimal place the ledger keeps, with thousands separators."""
    return f"{value:,f}"


CELLS = {
    "orders": lambda o: (when(o), wallet(o["account"]), o["symbol"], side(o["side"]), o["type"], qty(o["qty"]),
                         money(o["price"]) if o["price"] is not None else "—",
                         money(o["trigger"]) if o["trigger"] is not None else "—", "yes" if o["reduce_only"] else "",
                         o["status"]),
    "fills": lambda f: (when(f), wallet(f["account"]), f["symbol"], side(f["side"]), qty(f["qty"]), money(f["price"]),
                        money(f["fee"], 4), signed(f["realized_pnl"]), f["kind"], f["order"]),
    "funding": lambda p: (when(p), wallet(p["account"]), p["symbol"], qty(p["qty"]), money(p["mark"]),
                          f"{fmt(p['rate'] * 100)}%", signed(p["amount"], 4)),
    "liquidations": lambda c: (when(c), wallet(c["account"]), c["symbol"], side(c["side"]), qty(c["qty"]),
                               money(c["price"]), money(c["fee"]), c["kind"], signed(c["insurance"])),
    "ledger": lambda e: (when(e), e["type"], e["source"], e["target"], exact(e["amount"]), e["ref"]),
}


def engine_day(now_ms: int):
    return datetime.fromtimestamp(now_ms / 1000, tz=timezone.utc).date()


class HistoryScreen(LiveScreen):
    REFRESH_S = 2.0
    DEFAULT_CSS = """
    HistoryScreen #history-filter { height: auto; padding: 0 1; }
    HistoryScreen #history-filter > Static, HistoryScreen .statement-row > Static { width: 14; padding: 1 1 0 0;
        color: $text-muted; }
    HistoryScreen #history-filter > Select { width: 30; }
    HistoryScreen .statement-row { height: auto; }
    HistoryScreen .statement-row > Input, HistoryScreen .statement-row > Select { width: 1fr; }
    HistoryScreen #statement-result { height: auto; padding: 1 0; }
    """
    BINDINGS = [
        *(Binding(str(number), f"tab('{tab}')", TITLES[tab], id=f"history.tab_{tab}")
          for number, tab in enumerate((*TABS, "statement"), 1)),
        Binding("x", "export", "Export statement", id="history.export"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.defaults_set = False

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="history-filter"):
            yield Static("Account")
            yield Select([("All accounts", "all"), *ACCOUNTS], value="all", allow_blank=False, id="account")
        with TabbedContent(initial="orders", id="history-tabs"):
            for tab in TABS:
                with TabPane(TITLES[tab], id=tab):
                    yield RecordTable(COLUMNS[tab], id=f"table-{tab}")
            with TabPane(TITLES["statement"], id="statement"):
                with Vertical():
                    with Horizontal(classes="statement-row"):
                        yield Static("Account")
                        yield Select(ACCOUNTS, value="futures", allow_blank=False, id="statement-account")
                    with Horizontal(classes="statement-row"):
                        yield Static("From / to")
                        yield Input(placeholder="YYYY-MM-DD", id="from")
                        yield Input(placeholder="YYYY-MM-DD (included)", id="to")
                    with Horizontal(classes="statement-row"):
                        yield Static("Save into")
                        yield Input(".", placeholder="folder (. is the current directory)", id="folder")
                    yield Button("Export CSV + JSON", variant="primary", id="export")
                    yield Static(id="statement-result")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "History"
        super().on_mount()

    def request(self):
        account = self.query_one("#account", Select).value
        ask = {"tab": self.query_one(TabbedContent).active}
        if account != "all":
            ask["account"] = account
        return "history", ask

    def show(self, view: dict) -> None:
        if not self.defaults_set:
            self.defaults_set = True
            first, last = default_days(engine_day(view["now_ms"]))
            self.query_one("#from", Input).value = self.query_one("#from", Input).value or first
            self.query_one("#to", Input).value = self.query_one("#to", Input).value or last
        tab = view["tab"]
        if tab == "statement":
            return
        cells = CELLS[tab]
        self.query_one(f"#table-{tab}", RecordTable).show(
            [(f"{tab}-{row.get('seq', row.get('id'))}", row, cells(row)) for row in view["rows"]])

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    @on(TabbedContent.TabActivated)
    @on(Select.Changed, "#account")
    def _choice_changed(self) -> None:
        self.reload()

    @on(Button.Pressed, "#export")
    def action_export(self) -> None:
        self.query_one(TabbedContent).active = "statement"
        self.export()

    @work(exclusive=True, group="statement-export")
    async def export(self) -> None:
        result = self.query_one("#statement-result", Static)
        account = self.query_one("#statement-account", Select).value
        first, last = self.query_one("#from", Input).value.strip(), self.query_one("#to", Input).value.strip()
        folder = Path(self.query_one("#folder", Input).value.strip() or ".")
        try:
            since, until = period(first, last)
            data = await self.app.link.screen_view("statement", account=account, since_ms=str(since),
                                                   until_ms=str(until))
            csv_path, json_path = await asyncio.to_thread(write_statement, data, folder, first, last)
        except Rejected as rejection:
            result.update(Text(f"{rejection.code}: {rejection.message}", style="red"))
            self.app.notify(rejection.message, title=rejection.code, severity="error")
            return
        except OSError as error:
            result.update(Text(f"Could not write the statement: {error}", style="red"))
            self.app.notify(f"Could not write the statement: {error}", severity="error")
            return
        totals = data["totals"]
        check = ("✓ reconciled with the ledger", "green") if totals["reconciled"] else ("✗ does not reconcile", "red")
        result.update(Text.assemble(
            (f"{account.capitalize()} · {first} to {last}\n", "bold"),
            ("Opening ", "dim"), exact(totals["opening_balance"]), ("   In ", "dim"), exact(totals["total_in"]),
            ("   Out ", "dim"), exact(totals["total_out"]), ("   Closing ", "dim"),
            (exact(totals["closing_balance"]), "bold"), "   ", check, "\n",
            ("Fees ", "dim"), exact(totals["trading_fees"]), ("   Realized PnL ", "dim"),
            exact(totals["realized_pnl"]), ("   Funding ", "dim"), exact(totals["funding"]),
            ("   Liquidations ", "dim"), str(totals["liquidations"]), "\n",
            (f"{totals['entries']} ledger entries, {totals['fills']} fills → ", "dim"), f"{csv_path.resolve()}\n",
            ("and ", "dim"), str(json_path.resolve())))
        self.app.notify(f"Statement saved: {csv_path.name} and {json_path.name}", title="Statement")
