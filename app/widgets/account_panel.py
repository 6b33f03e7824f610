"""One trading account: its balances and risk, and a live positions table updated by row key."""
from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from .format import money, percent, price, qty, signed

TITLES = {"futures": "Futures", "copy": "Copy", "elite": "Elite"}
COLUMNS = ("Contract", "Side", "Size", "Entry", "Mark", "Liq.", "Margin", "uPnL", "ROE")


class AccountPanel(Vertical):
    DEFAULT_CSS = """
    AccountPanel { border: round $primary 40%; padding: 0; }
    AccountPanel:focus-within { border: round $accent; }
    AccountPanel > .summary { height: 4; padding: 0 1; }
    AccountPanel > DataTable { height: 1fr; }
    """

    def __init__(self, kind: str) -> None:
        super().__init__(id=f"panel-{kind}")
        self.kind = kind
        self.border_title = TITLES[kind]
        self.rows: dict[str, dict] = {}

    def compose(self) -> ComposeResult:
        yield Static(classes="summary", id=f"summary-{self.kind}")
        table = DataTable(id=f"positions-{self.kind}", cursor_type="row", zebra_stripes=True, cell_padding=0)
        table.add_columns(*(f" {name} " for name in COLUMNS))
        yield table

    @property
    def table(self) -> DataTable:
        return self.query_one(DataTable)

    def selected(self) -> dict | None:
        """The position under the cursor, or the only one."""
        table = self.table
        if not self.rows:
            return None
        if table.row_count and table.cursor_row is not None and table.cursor_row < table.row_count:
            key = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
            return self.rows.get(key)
        return next(iter(self.rows.values()))

    def show(self, summary: dict | None) -> None:
        if summary is None:
            missing = ("No elite account: become an elite trader to lead." if self.kind == "elite"
                       else f"No {self.kind} account yet.")
            self.query_one(".summary", Static).update(Text(missing, style="dim"))
            return
        flags = (" [reduce-only]" if summary["restricted"] else "") + (" [dormant]" if summary["dormant"] else "")
        self.border_subtitle = f"{len(summary['positions'])} positions · {summary['orders']} orders{flags}"
        grid = Table.grid(expand=True, padding=(0, 1))
        grid.add_column(style="dim")
        grid.add_column(justify="right")
        grid.add_column(style="dim")
        grid.add_column(justify="right")
        grid.add_row("Wallet", money(summary["wallet"]), "Equity", Text(money(summary["equity"]), style="bold"))
        grid.add_row("Available", money(summary["available"]), "Margin used", money(summary["margin_used"]))
        grid.add_row("Unrealized", signed(summary["upnl"]), "Margin ratio", percent(summary["margin_ratio"]))
        self.query_one(".summary", Static).update(grid)
        self._update_rows(summary["positions"])

    def _update_rows(self, positions: list[dict]) -> None:
        table = self.table
        fresh = {p["key"]: p for p in positions}
        for key in [k for k in self.rows if k not in fresh]:
            table.remove_row(key)
            del self.rows[key]
        for key, position in fresh.items():
            cells = self._cells(position)
            if key not in self.rows:
                table.add_row(*cells, key=key)
            else:
                old = self._cells(self.rows[key])
                for column, (before, after) in enumerate(zip(old, cells)):
                    if str(before) != str(after):
                        table.update_cell(key, table.ordered_columns[column].key, after)
            self.rows[key] = position

    @staticmethod
    def _cells(p: dict) -> tuple:
        """Compact cells (three panels share the width): base asset, leverage, I(solated)/C(ross)."""
        long = p["side"] == "long"
        base = p["symbol"].removesuffix("USDT")
        mode = "I" if p["margin_mode"] == "isolated" else "C"
        contract = f"{base} {p['leverage']}x{mode}" + (f" ·{p['lead']}" if p["lead"] else "")
        roe = percent(p["roe"], 1)
        cells = (contract, Text("L" if long else "S", style="green" if long else "red"), qty(p["qty"]),
                 price(p["entry"], p["tick"]), price(p["mark"], p["tick"]),
                 Text(price(p["liquidation_price"], p["tick"]), style="yellow"), money(p["margin"]),
                 signed(p["upnl"]), roe)
        return tuple(Text.assemble(" ", cell if isinstance(cell, Text) else Text(cell), " ") for cell in cells)
