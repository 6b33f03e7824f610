"""A trader's metrics for the chosen period (SPEC §8), label over value, in a compact grid."""
from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from .format import money, percent, signed


def holding(seconds: int) -> str:
    if seconds >= 86_400:
        return f"{seconds // 86_400}d {seconds % 86_400 // 3600}h"
    return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"


def ratio(value) -> str:
    return "—" if value is None else money(value)


def drawdown(fraction) -> Text:
    """A drawdown (a fall from the peak, as a positive fraction) shown as the loss it is: −3.23%."""
    return percent(None if fraction is None else -fraction)


class MetricsGrid(Static):
    DEFAULT_CSS = """
    MetricsGrid { height: 4; padding: 0 1; }
    """
    shown: dict | None = None

    def show(self, m: dict) -> None:
        if m == self.shown:
            return
        self.shown = m
        cells = [
            ("Lead PnL", signed(m["lead_pnl"], suffix=" USDT")), ("PnL %", percent(m["pnl_pct"])),
            ("Investment", money(m["investment"])), ("Win rate", percent(m["win_rate"])),
            ("Profit/loss ratio", ratio(m["profit_loss_ratio"])),
            ("Gainers / losers", f"{m['gainers']} / {m['losers']}"),
            ("Avg holding", holding(m["avg_holding_seconds"])), ("Max drawdown", drawdown(m["max_drawdown"])),
            ("Sharpe", ratio(m["sharpe"])), ("AUM", money(m["aum"])),
            ("Copiers", f"{m['copiers']} / {m['capacity']}"), ("Copiers' PnL", signed(m["copier_pnl"])),
            ("Profit share earned", money(m["profit_share_earned"])), ("Trades / day", ratio(m["trades_per_day"])),
            ("Days trading", str(m["days_trading"])),
        ]
        per_row = 8  # two rows of eight: the fixed height of 4 lines, so an update never re-lays out the screen
        grid = Table.grid(expand=True, padding=(0, 2))
        for _ in range(per_row):
            grid.add_column()
        for start in range(0, len(cells), per_row):
            chunk = cells[start:start + per_row]
            grid.add_row(*[Text(label, style="dim") for label, _ in chunk])
            grid.add_row(*[value if isinstance(value, Text) else Text(value, style="bold") for _, value in chunk])
        self.update(grid, layout=False)
