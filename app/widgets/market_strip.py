"""The market strip: every symbol's last and mark price, 24 h change and next funding countdown."""
from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from .format import countdown, percent, price


class MarketStrip(Static):
    DEFAULT_CSS = """
    MarketStrip { height: 4; padding: 0 1; background: $boost; }
    """

    def show(self, markets: list[dict]) -> None:
        table = Table.grid(expand=True, padding=(0, 2))
        for _ in markets:
            table.add_column(justify="left")
        table.add_row(*[Text(m["symbol"].removesuffix("USDT") + "-PERP", style="bold") for m in markets])
        table.add_row(*[Text.assemble((price(m["last"], m["tick"]), "bold"), "  ", percent(m["change"]))
                        for m in markets])
        table.add_row(*[Text(f"mark {price(m['mark'], m['tick'])}  funding {countdown(m['funding_in_ms'])}",
                             style="dim") for m in markets])
        self.update(table)
