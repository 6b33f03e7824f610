"""The mirror panel: as you trade as a lead, every copier's outcome streams in — counts, reasons,
samples — with the copiers' aggregate position."""
from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from .format import money, qty, signed


class MirrorPanel(Static):
    DEFAULT_CSS = """
    MirrorPanel { border: round $secondary 50%; padding: 0 1; height: 1fr; overflow-y: auto; }
    """

    def on_mount(self) -> None:
        self.border_title = "Mirror · copiers"

    def show(self, mirror: dict | None) -> None:
        if mirror is None:
            self.update(Text("You are not an elite trader yet: when you lead, your copiers' fills stream here.",
                             style="dim"))
            return
        self.border_subtitle = f"{mirror['copiers']}/{mirror['capacity']} copiers · {mirror['mode']}"
        parts = []
        aggregate = Table(title="Copiers' aggregate position", expand=True, title_style="bold", box=None)
        for name in ("Symbol", "Side", "Total size", "Copiers", "uPnL"):
            aggregate.add_column(name, justify="right" if name not in ("Symbol", "Side") else "left")
        for row in mirror["aggregate"]:
            aggregate.add_row(row["symbol"], row["side"], qty(row["qty"]), str(row["copiers"]), signed(row["upnl"]))
        parts.append(aggregate)
        for order in mirror["lead_orders"][:6]:
            head = Text.assemble((f"{order['lead_order']} ", "bold"), f"{order['kind']} {order['symbol']} ",
                                 (f"{order['side'] or ''} {qty(order['qty'])} @ {money(order['price'])}"
                                  if order["qty"] is not None else ""),
                                 ("   ✓ ", "green"), f"{order['filled']} filled", ("   ✗ ", "red"),
                                 f"{order['failed']} failed")
            if order["reasons"]:
                head.append("  " + ", ".join(f"{code} ×{n}" for code, n in order["reasons"]), style="dim red")
            parts.append(head)
            lines = []
            for sample in order["sample"][:4]:
                if sample["status"] == "filled":
                    what = (f"{sample['kind']} {qty(sample['qty'])} @ {money(sample['price'])}"
                            if sample["qty"] is not None else f"margin {money(sample['delta'])}")
                    lines.append(Text(f"   ✓ {sample['copier']}: {what}", style="green"))
                else:
                    lines.append(Text(f"   ✗ {sample['copier']}: {sample['code']}", style="red"))
            parts.extend(lines)
        if not mirror["lead_orders"]:
            parts.append(Text("No lead orders yet: trade a lead symbol in Elite and watch copiers follow.", style="dim"))
        self.update(Group(*parts))
