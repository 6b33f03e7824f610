"""The workstation: market strip, Futures | Copy | Elite side by side, activity and the mirror panel.

Everything the engine does runs on its own thread (app.service); the screen polls a ready-made view
four times a second in a worker that never overlaps itself, so thousands of copier fills arrive as a
handful of coalesced repaints and keys are always answered at once."""
from __future__ import annotations

import json
import time
from collections.abc import Iterable

from textual import work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Header

from . import paths
from .client import RemoteError
from .desk_link import DeskLink
from .screens.help_screen import HelpScreen
from .screens.margin_dialog import MarginDialog
from .screens.order_ticket import OrderTicket
from .screens.position_dialogs import CloseDialog, TpSlDialog
from .screens.transfer_dialog import TransferDialog
from .widgets.account_panel import AccountPanel
from .widgets.activity_feed import ActivityFeed
from .widgets.market_strip import MarketStrip
from .widgets.mirror_panel import MirrorPanel

KINDS = ("futures", "copy", "elite")
REFRESH_S = 0.25


class Workstation(App):
    CSS_PATH = "workstation.tcss"
    TITLE = "Copydesk"
    BINDINGS = [
        Binding("o", "order('buy')", "Buy", id="order.buy"),
        Binding("s", "order('sell')", "Sell", id="order.sell"),
        Binding("m", "margin", "Margin", id="position.margin"),
        Binding("c", "close_position", "Close", id="position.close"),
        Binding("r", "reverse", "Reverse", id="position.reverse"),
        Binding("p", "tp_sl", "TP/SL", id="position.tp_sl"),
        Binding("t", "transfer", "Transfer", id="wallet.transfer"),
        Binding("1", "focus_account('futures')", "Futures", id="focus.futures", show=False),
        Binding("2", "focus_account('copy')", "Copy", id="focus.copy", show=False),
        Binding("3", "focus_account('elite')", "Elite", id="focus.elite", show=False),
        Binding("d", "toggle_theme", "Theme", id="app.theme"),
        Binding("f1", "help", "Help", id="app.help"),
        Binding("q", "quit", "Quit", id="app.quit"),
    ]

    def __init__(self, link: DeskLink, *, subtitle: str = "") -> None:
        super().__init__()
        self.link = link
        self.base_subtitle = subtitle or f"{link.user} · embedded engine · simulated market"
        self.sub_title = self.base_subtitle
        self.view: dict | None = None
        self.account_kind = "futures"
        self.first_frame: float | None = None  # perf_counter at the first painted view (startup bench)

    def compose(self) -> ComposeResult:
        yield Header(show_clock=True)
        yield MarketStrip(id="market")
        with Horizontal(id="accounts"):
            for kind in KINDS:
                yield AccountPanel(kind)
        with Horizontal(id="bottom"):
            yield ActivityFeed()
            yield MirrorPanel(id="mirror")
        yield Footer()

    def on_mount(self) -> None:
        keymap = paths.data_dir() / "keymap.json"
        if keymap.exists():
            try:
                self.set_keymap(json.loads(keymap.read_text()))
            except (OSError, ValueError, TypeError) as error:
                self.notify(f"keymap.json ignored: {error}", severity="warning")
        self.query_one("#positions-futures").focus()
        self.link.start(self)
        self.poll()
        self.set_interval(REFRESH_S, self.poll)

    # --- live view ------------------------------------------------------------------------------

    @work(exclusive=True, group="view")
    async def poll(self) -> None:
        try:
            view = await self.link.view()
        except RemoteError as error:  # a remote desk that went away: say so and keep the last picture
            self.sub_title = f"{self.base_subtitle} · {error.message}"
            return
        self.view = view
        connection = getattr(self.link, "connection", None)
        self.sub_title = self.base_subtitle + (f" · {connection}" if connection else "")
        with self.batch_update():
            self.query_one(MarketStrip).show(view["markets"])
            for kind in KINDS:
                self.query_one(f"#panel-{kind}", AccountPanel).show(view["accounts"][kind])
            self.query_one(MirrorPanel).show(view["mirror"])
            self.query_one(ActivityFeed).add(self.link.take_activity())
        if self.first_frame is None:
            self.call_after_refresh(self._mark_first_frame)

    def _mark_first_frame(self) -> None:
        if self.first_frame is None:
            self.first_frame = time.perf_counter()

    def on_descendant_focus(self, event) -> None:
        for ancestor in event.widget.ancestors_with_self:
            if isinstance(ancestor, AccountPanel):
                self.account_kind = ancestor.kind

    def panel(self, kind: str | None = None) -> AccountPanel:
        return self.query_one(f"#panel-{kind or self.account_kind}", AccountPanel)

    def selected_position(self) -> dict | None:
        position = self.panel().selected()
        if position is None:
            self.notify(f"No position selected in {self.account_kind.capitalize()}: open one with o or s first",
                        severity="warning")
        return position

    # --- actions --------------------------------------------------------------------------------

    def action_focus_account(self, kind: str) -> None:
        self.account_kind = kind
        self.query_one(f"#positions-{kind}").focus()

    def action_order(self, side: str) -> None:
        symbols = [m["symbol"] for m in (self.view or {}).get("markets", [])]
        if not symbols:
            self.notify("No market prices yet: wait for the feed", severity="warning")
            return
        if self.account_kind == "copy":
            self.notify("The copy account holds copies of lead orders: close or adjust them, or trade in "
                        "Futures (1) or Elite (3)", severity="warning")
            return
        selected = self.panel().selected()
        self.push_screen(OrderTicket(self.account_kind, symbols, selected["symbol"] if selected else None, side))

    def action_margin(self) -> None:
        position = self.selected_position()
        if position is None:
            return
        if position["margin_mode"] != "isolated":
            self.notify("Cross positions share the wallet: only isolated margin can be adjusted", severity="warning")
            return
        self.push_screen(MarginDialog(self.account_kind, position))

    def action_close_position(self) -> None:
        position = self.selected_position()
        if position is not None:
            self.push_screen(CloseDialog(self.account_kind, position))

    def action_tp_sl(self) -> None:
        position = self.selected_position()
        if position is not None:
            self.push_screen(TpSlDialog(self.account_kind, position))

    def action_transfer(self) -> None:
        self.push_screen(TransferDialog())

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.theme == "textual-dark" else "textual-dark"

    async def action_reverse(self) -> None:
        position = self.selected_position()
        if position is None:
            return
        outcome = await self.link.execute({"do": "reverse", "user": self.link.user, "account": self.account_kind,
                                           "symbol": position["symbol"]})
        if outcome.accepted:
            self.notify(f"Reversed {position['symbol']}: {outcome.result['qty']} at {outcome.result['price']}")
        else:
            self.notify(outcome.message, title=outcome.code, severity="error")

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Buy", "Order ticket: buy in the focused account", lambda: self.action_order("buy"))
        yield SystemCommand("Sell", "Order ticket: sell in the focused account", lambda: self.action_order("sell"))
        yield SystemCommand("Adjust margin", "Isolated margin dialog for the selected position", self.action_margin)
        yield SystemCommand("Close position", "Close all or part of the selected position", self.action_close_position)
        yield SystemCommand("Reverse position", "Close and open the opposite side", self.action_reverse)
        yield SystemCommand("TP / SL", "Take-profit and stop-loss of the selected position", self.action_tp_sl)
        yield SystemCommand("Transfer", "Move USDT between your wallets", self.action_transfer)
        for kind in KINDS:
            yield SystemCommand(f"Focus {kind.capitalize()}", f"Move to the {kind} account",
                                lambda kind=kind: self.action_focus_account(kind))
        yield SystemCommand("Help", "Keys, accounts and copy trading explained", self.action_help)
