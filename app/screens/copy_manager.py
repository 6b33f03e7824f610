"""The copy manager: the leads you copy with their settings, PnL, shared profit, failures and countdowns;
the per-order view beside the consolidated positions (and why they differ); margin syncs; settlements;
edit, unfollow, and the upgrade of a legacy account."""
from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Footer, Header, Static

from engine.copytrading.copy_orders import EXPLANATION

from ..widgets.format import countdown, money, percent, price, qty, side, signed
from ..widgets.record_table import RecordTable
from .copy_settings import CopySettingsDialog, copy_by
from .leaderboard_screen import PROTECTED
from .live_screen import LiveScreen
from .profile_screen import ProfileScreen
from .unfollow_dialog import UnfollowDialog
from .upgrade_dialog import UpgradeDialog

LEAD_COLUMNS = ("Lead", "Status", "Copy by", "Leverage", "Margin mode", "Max margin order/total", "Symbols",
                "TP / SL", "Slippage", "PnL", "Shared profit", "Failures", "Unfollow in")
ORDER_COLUMNS = ("Lead order", "Lead", "Contract", "Side", "Size", "Open", "Entry", "Fees", "Net PnL", "Status")
POSITION_COLUMNS = ("Contract", "Lead", "Side", "Size", "Avg entry", "Mark", "Margin", "uPnL", "ROE")
SYNC_COLUMNS = ("Time", "Lead", "Contract", "Result", "Margin change", "Why")
SETTLEMENT_COLUMNS = ("Time", "Copier", "Lead", "Mode", "Net result", "Compensation", "Profit shared", "Reason")


def optional(value, formatter=money) -> str:
    return "—" if value is None else formatter(value)


def share(value) -> str:
    return "—" if value is None else f"{money(value * 100)}%"


def lead_cells(lead: dict) -> tuple:
    s = lead["settings"]
    active = lead["status"] == "active"
    return (Text.assemble(lead["nickname"], PROTECTED if lead["protected"] else ""),
            Text(lead["status"], style="green" if active else "dim"), copy_by(s),
            f"{s['leverage']}x" if s["leverage"] else "follow", s["margin_mode"] or "follow",
            f"{optional(s['max_margin_per_order'])} / {optional(s['max_total_margin'])}",
            ", ".join(s["symbols"]) if s["symbols"] else "all", f"{share(s['tp_ratio'])} / {share(s['sl_ratio'])}",
            share(s["slippage"]) if s["slippage"] is not None else "default", signed(lead["cum_realized_pnl"]),
            money(lead["shared_profit"]),
            Text(str(lead["failures"]), style="red" if lead["failures"] >= 15 else ""),
            Text(countdown(lead["countdown_ms"]), style="bold red") if lead["countdown_ms"] is not None else "—")


class CopyManagerScreen(LiveScreen):
    DEFAULT_CSS = """
    CopyManagerScreen #structure { height: auto; padding: 0 1; }
    CopyManagerScreen .box { border: round $primary 60%; border-title-color: $text; }
    CopyManagerScreen #leads-box { height: 10; }
    CopyManagerScreen #copy-views, CopyManagerScreen #copy-logs { height: 1fr; }
    CopyManagerScreen #explanation { height: auto; padding: 0 1; color: $text-muted; }
    """
    BINDINGS = [
        Binding("e", "edit", "Edit settings", id="copy_manager.edit"),
        Binding("u", "unfollow", "Unfollow", id="copy_manager.unfollow"),
        Binding("U", "upgrade", "Upgrade account", id="copy_manager.upgrade", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.structure: Text | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="structure")
        with Vertical(classes="box", id="leads-box") as box:
            box.border_title = "My leads · Enter: profile · e: edit · u: unfollow"
            yield RecordTable(LEAD_COLUMNS, id="my-leads")
        with Horizontal(id="copy-views"):
            with Vertical(classes="box") as box:
                box.border_title = "Per-order view (copy orders)"
                yield RecordTable(ORDER_COLUMNS, id="copy-orders")
            with Vertical(classes="box") as box:
                box.border_title = "Positions (consolidated)"
                yield RecordTable(POSITION_COLUMNS, id="copy-positions")
        yield Static(EXPLANATION, id="explanation")
        with Horizontal(id="copy-logs"):
            with Vertical(classes="box") as box:
                box.border_title = "Margin sync log"
                yield RecordTable(SYNC_COLUMNS, id="margin-syncs")
            with Vertical(classes="box") as box:
                box.border_title = "Settlements"
                yield RecordTable(SETTLEMENT_COLUMNS, id="settlements")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "Copy manager"
        self.query_one("#my-leads").focus()
        super().on_mount()

    def request(self):
        return "copy_manager", {}

    def show(self, view: dict) -> None:
        if view["legacy"] and view["upgrade_status"] != "done":
            state = "pending: it completes when your last copy or lead position closes" \
                if view["upgrade_status"] == "pending" else "press U to upgrade"
            structure = Text(f"Legacy single account (personal, copy and lead trading mixed) · upgrade {state}",
                             style="yellow")
        else:
            structure = Text("Account structure: Futures | Copy | Elite, each isolated", style="dim")
        if structure != self.structure:  # an update re-lays out the screen: only when it changed
            self.structure = structure
            self.query_one("#structure", Static).update(structure)
        self.query_one("#my-leads", RecordTable).show([(lead["lead"], lead, lead_cells(lead))
                                                        for lead in view["leads"]])
        self.query_one("#copy-orders", RecordTable).show([
            (str(o["seq"]), o, (o["lead_order"], o["lead"], o["symbol"],
                                side(o["side"]), qty(o["qty"]),
                                qty(o["open_qty"]), money(o["entry_price"]), money(o["fees"]),
                                signed(o["net_pnl"]) if o["status"] == "closed" else Text("—", style="dim"),
                                o["status"])) for o in view["copy_orders"]])
        self.query_one("#copy-positions", RecordTable).show([
            (p["key"], p, (p["symbol"], p["lead"], side(p["side"]),
                           qty(p["qty"]), price(p["entry"], p["tick"]), price(p["mark"], p["tick"]),
                           money(p["margin"]), signed(p["upnl"]), percent(p["roe"], 1))) for p in view["positions"]])
        self.query_one("#margin-syncs", RecordTable).show([
            (str(s["seq"]), s, (s["at"][5:19].replace("T", " "), s["lead"], s["symbol"],
                                Text(s["status"], style="green" if s["status"] == "filled" else "red"),
                                signed(s["delta"]), s["code"] or "")) for s in view["margin_syncs"]])
        self.query_one("#settlements", RecordTable).show([
            (str(s["seq"]), s, (s["at"][:10], s["copier"], s["lead"], s["mode"], signed(s["net_result"]),
                                money(s["compensation"]), money(s["profit_shared"]), s["reason"]))
            for s in view["settlements"]])

    def selected_lead(self) -> dict | None:
        lead = self.query_one("#my-leads", RecordTable).selected()
        if lead is None:
            self.app.notify("You copy no one yet: open the leaderboard (l) and follow a trader", severity="warning")
        return lead

    def action_edit(self) -> None:
        lead = self.selected_lead()
        if lead is None:
            return
        if lead["status"] != "active":
            self.app.notify(f"You no longer follow {lead['nickname']}: follow again from the profile",
                            severity="warning")
            return
        self.app.push_screen(CopySettingsDialog(lead["lead"], lead["nickname"], lead["lead_symbols"], lead["settings"]),
                             lambda changed: self.reload() if changed else None)

    def action_unfollow(self) -> None:
        lead = self.selected_lead()
        if lead is None:
            return
        if lead["status"] != "active":
            self.app.notify(f"You no longer follow {lead['nickname']}", severity="warning")
            return
        self.app.push_screen(UnfollowDialog(lead["lead"], lead["nickname"]),
                             lambda changed: self.reload() if changed else None)

    def action_upgrade(self) -> None:
        self.app.push_screen(UpgradeDialog(), lambda changed: self.reload() if changed else None)

    @on(DataTable.RowSelected, "#my-leads")
    def _open_profile(self, event: DataTable.RowSelected) -> None:
        self.app.push_screen(ProfileScreen(event.row_key.value))
