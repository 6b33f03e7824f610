"""A trader's profile: who they are, their metrics for 7D / 30D / 90D / all, plotext curves, their open
positions and recent lead orders, their copiers — and Follow, which opens the copy settings."""
from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.widgets import Button, Footer, Header

from ..widgets.format import money, price, qty, side, signed
from ..widgets.lead_card import LeadCard
from ..widgets.lead_chart import CHARTS, LeadChart
from ..widgets.metrics_grid import MetricsGrid
from ..widgets.period_tabs import PeriodTabs
from ..widgets.record_table import RecordTable
from .copy_settings import CopySettingsDialog, copy_by
from .live_screen import PeriodScreen

POSITION_COLUMNS = ("Contract", "Side", "Size", "Entry", "Mark", "Margin", "uPnL")
ORDER_COLUMNS = ("Time", "Contract", "Side", "Size", "Price", "PnL", "Fee")
COPIER_COLUMNS = ("Copier", "Copies by", "PnL", "Failures")


class ProfileScreen(PeriodScreen):
    REFRESH_S = 0.5
    DEFAULT_CSS = """
    ProfileScreen #profile-top { height: auto; }
    ProfileScreen #profile-top > Button { margin: 0 2; }
    ProfileScreen #charts { grid-size: 2 2; grid-gutter: 1 4; height: 2fr; min-height: 20; padding: 0 1; }
    ProfileScreen #profile-tables { height: 1fr; min-height: 8; }
    ProfileScreen #profile-tables > Vertical { border: round $primary 60%; border-title-color: $text; }
    """
    BINDINGS = [
        Binding("f", "follow", "Follow / settings", id="profile.follow"),
    ]

    def __init__(self, lead: str, period: str = "all") -> None:
        super().__init__(period)
        self.lead = lead

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="profile-top"):
            yield LeadCard(id="lead-card")
            yield Button("Follow", variant="primary", id="follow")
        yield PeriodTabs(self.period, id="periods")
        yield MetricsGrid(id="metrics")
        with Grid(id="charts"):
            for kind in CHARTS:
                yield LeadChart(kind, id=f"chart-{kind}")
        with Horizontal(id="profile-tables"):
            for title, columns, name in (("Lead positions", POSITION_COLUMNS, "lead-positions"),
                                         ("Recent lead orders", ORDER_COLUMNS, "lead-orders"),
                                         ("Copiers", COPIER_COLUMNS, "copiers")):
                with Vertical() as box:
                    box.border_title = title
                    yield RecordTable(columns, id=name)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"Trader profile · {self.lead}"
        super().on_mount()

    def request(self):
        return "profile", {"lead": self.lead, "period": self.period}

    def show(self, view: dict | None) -> None:
        if view is None:
            self.app.notify(f"{self.lead} is not an elite trader", severity="error")
            self.app.pop_screen()
            return
        self.query_one(LeadCard).show(view)
        self.query_one(MetricsGrid).show(view["metrics"])
        for chart in self.query(LeadChart):
            chart.show(view["curve"])
        follow = self.query_one("#follow", Button)
        label = "This is you" if view["is_me"] else "Copy settings" if view["following"] else "Follow"
        if str(follow.label) != label:  # a new label re-lays out the screen
            follow.label = label
            follow.disabled = view["is_me"]
        self.query_one("#lead-positions", RecordTable).show([
            (p["key"], p, (p["symbol"], side(p["side"]),
                           qty(p["qty"]), price(p["entry"], p["tick"]), price(p["mark"], p["tick"]),
                           money(p["margin"]), signed(p["upnl"]))) for p in view["positions"]])
        self.query_one("#lead-orders", RecordTable).show([
            (str(f["seq"]), f, (f["at"][5:16].replace("T", " "), f["symbol"],
                                side(f["side"]), qty(f["qty"]),
                                money(f["price"]), signed(f["realized_pnl"]) if f["closed_qty"] else Text("open"),
                                money(f["fee"]))) for f in view["lead_orders"]])
        self.query_one("#copiers", RecordTable).show([
            (c["copier"], c, (c["copier"], copy_by(c), signed(c["pnl"]), str(c["failures"])))
            for c in view["copiers"]])

    @on(Button.Pressed, "#follow")
    def action_follow(self) -> None:
        view = self.view
        if view is None or view["is_me"]:
            self.app.notify("You cannot copy yourself", severity="warning")
            return
        self.app.push_screen(CopySettingsDialog(view["lead"], view["nickname"], view["symbols"], view["following"]),
                             lambda changed: self.reload() if changed else None)
