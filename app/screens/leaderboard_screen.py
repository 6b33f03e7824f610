"""The leaderboard: every elite trader with PnL %, PnL, win rate, drawdown, AUM, copiers and a spark line of
cumulative PnL — sorted by a key or a header click, filtered to protected portfolios, Enter for a profile."""
from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Static

from ..widgets.format import money, percent, signed
from ..widgets.metrics_grid import drawdown
from ..widgets.period_tabs import LABELS, PeriodTabs
from ..widgets.record_table import RecordTable
from ..widgets.spark import spark
from .live_screen import PeriodScreen
from .profile_screen import ProfileScreen

# sort field: (column, largest first by default)
SORTS = {"pnl_pct": ("PnL %", True), "lead_pnl": ("PnL", True), "win_rate": ("Win rate", True),
         "max_drawdown": ("Max drawdown", False), "aum": ("AUM", True), "copiers": ("Copiers", True)}
PROTECTED = (" · protected", "green")
COLUMNS = ("#", "Trader", "PnL %", "PnL", "Win rate", "Max drawdown", "AUM", "Copiers", "Cumulative PnL")


def ordered(rows: list[dict], field: str, descending: bool) -> list[dict]:
    """Sorted by `field`; traders without a value (nothing invested yet) go last either way."""
    known = sorted((r for r in rows if r[field] is not None), key=lambda r: r[field], reverse=descending)
    return known + [r for r in rows if r[field] is None]


class LeaderboardScreen(PeriodScreen):
    REFRESH_S = 2.0
    DEFAULT_CSS = """
    LeaderboardScreen #board-caption { height: 1; padding: 0 1; color: $text-muted; }
    """
    BINDINGS = [
        Binding("p", "sort('pnl_pct')", "PnL%", id="leaderboard.sort_pnl_pct"),
        Binding("n", "sort('lead_pnl')", "PnL", id="leaderboard.sort_pnl"),
        Binding("w", "sort('win_rate')", "Win", id="leaderboard.sort_win_rate"),
        Binding("d", "sort('max_drawdown')", "DD", id="leaderboard.sort_drawdown"),
        Binding("a", "sort('aum')", "AUM", id="leaderboard.sort_aum"),
        Binding("c", "sort('copiers')", "Copiers", id="leaderboard.sort_copiers"),
        Binding("f", "protected_only", "Protected only", id="leaderboard.protected"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.sort_field, self.descending = "pnl_pct", True
        self.protected_only = False
        self.caption = ""

    def compose(self) -> ComposeResult:
        yield Header()
        yield PeriodTabs(self.period, id="periods")
        yield Static(id="board-caption")
        yield RecordTable(COLUMNS, id="board")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "Leaderboard"
        self.query_one("#board").focus()
        super().on_mount()

    def request(self):
        return "leaderboard", {"period": self.period}

    def show(self, rows: list[dict]) -> None:
        shown = [r for r in rows if r["protected"] or not self.protected_only]
        shown = ordered(shown, self.sort_field, self.descending)
        column, _ = SORTS[self.sort_field]
        caption = (f"{LABELS[self.period]} · sorted by {column} {'↓' if self.descending else '↑'} · "
                   f"{'protected portfolios only' if self.protected_only else 'all portfolios'} · {len(shown)} "
                   "traders · Enter opens a profile")
        if caption != self.caption:
            self.caption = caption
            self.query_one("#board-caption", Static).update(caption, layout=False)
        self.query_one("#board", RecordTable).show([
            (r["lead"], r, (str(rank), Text.assemble(r["nickname"], PROTECTED if r["protected"] else ""),
                            percent(r["pnl_pct"]), signed(r["lead_pnl"]), percent(r["win_rate"], 1),
                            drawdown(r["max_drawdown"]), money(r["aum"]), f"{r['copiers']}/{r['capacity']}",
                            Text(spark(r["trend"]), style="green" if r["trend"][-1] >= 0 else "red")))
            for rank, r in enumerate(shown, 1)])

    def action_sort(self, field: str) -> None:
        if field == self.sort_field:
            self.descending = not self.descending
        else:
            self.sort_field, self.descending = field, SORTS[field][1]
        if self.view is not None:
            self.show(self.view)

    def action_protected_only(self) -> None:
        self.protected_only = not self.protected_only
        if self.view is not None:
            self.show(self.view)

    @on(DataTable.HeaderSelected, "#board")
    def _header_clicked(self, event: DataTable.HeaderSelected) -> None:
        field = next((name for name, (column, _) in SORTS.items() if column == event.column_key.value), None)
        if field is not None:
            self.action_sort(field)

    @on(DataTable.RowSelected, "#board")
    def _open_profile(self, event: DataTable.RowSelected) -> None:
        self.app.push_screen(ProfileScreen(event.row_key.value, self.period))
