"""The workstation: market strip, Futures | Copy | Elite side by side, activity and the mirror panel.

Everything the engine does runs on its own thread (app.service); the screen polls a ready-made view
four times a second in a worker that never overlaps itself, so thousands of copier fills arrive as a
handful of coalesced repaints and keys are always answered at once."""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from textual import work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Header

from engine.clock import format_time
from engine.errors import Rejected

from . import paths
from .remote_error import RemoteError
from .desk_link import DeskLink
from .keymap import load_keymap
from .screens.margin_dialog import MarginDialog
from .screens.order_ticket import OrderTicket
from .screens.position_dialogs import CloseDialog, TpSlDialog
from .screens.transfer_dialog import TransferDialog
from .screens.upgrade_dialog import UpgradeDialog
from .widgets.account_panel import AccountPanel
from .widgets.activity_feed import ActivityFeed
from .widgets.format import money
from .widgets.market_strip import MarketStrip
from .widgets.mirror_panel import MirrorPanel

KINDS = ("futures", "copy", "elite")
REFRESH_S = 0.25
LEADS_REFRESH_S = 5.0
# Actions on the main screen's focused account and position: off while another screen is on top.
MAIN_SCREEN_ACTIONS = {"order", "margin", "close_position", "reverse", "tp_sl", "focus_account"}
# Notifications that also pop up as a toast: (title, severity).
TOASTS = {"copy_failures": ("Failed copies", "warning"), "unfollow_countdown": ("Auto-unfollow countdown", "warning"),
          "unfollow": ("Unfollowed", "warning"), "liquidation": ("Liquidation", "error"),
          "adl": ("Auto-deleveraging", "error"), "settlement": ("Settlement", "information")}


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
        Binding("l", "leaderboard", "Leaders", id="screen.leaderboard"),
        Binding("e", "my_profile", "My profile", id="screen.my_profile", show=False),
        Binding("g", "copy_manager", "Copies", id="screen.copy_manager"),
        Binding("h", "history", "History", id="screen.history"),
        Binding("n", "notifications", "Inbox", id="screen.notifications"),
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
        self.leads: list[tuple[str, str]] = []  # (user, nickname) of every elite trader, for the palette

    def compose(self) -> ComposeResult:
        yield Header()  # the exchange's own time is in the subtitle: a demo or replayed desk keeps its own clock
        yield MarketStrip(id="market")
        with Horizontal(id="accounts"):
            for kind in KINDS:
                yield AccountPanel(kind)
        with Horizontal(id="bottom"):
            yield ActivityFeed()
            yield MirrorPanel(id="mirror")
        yield Footer()

    def on_mount(self) -> None:
        keymap, problem = load_keymap(paths.data_dir() / "keymap.json")
        if problem:
            self.notify(f"keymap.json ignored: {problem}", severity="warning")
        elif keymap:
            self.set_keymap(keymap)
        self.query_one("#positions-futures").focus()
        self.link.start(self)
        self.poll()
        self.set_interval(REFRESH_S, self.poll)
        self.load_leads()
        self.set_interval(LEADS_REFRESH_S, self.load_leads)

    # --- live view ------------------------------------------------------------------------------

    @work(exclusive=True, group="view")
    async def poll(self) -> None:
        try:
            view = await self.link.view()
        except RemoteError as error:  # a remote desk that went away: say so and keep the last picture
            self.sub_title = f"{self.base_subtitle} · {error.message}"
            return
        if not self.is_running:  # the app closed its screens while the view was on its way
            return
        self.view = view
        connection = getattr(self.link, "connection", None)
        self.sub_title = (f"{self.base_subtitle} · {format_time(view['now_ms'])[11:19]} UTC · Funding "
                          f"{money(view['funding'])} USDT (t to transfer)" + (f" · {connection}" if connection else ""))
        with self.batch_update():
            self.query_one(MarketStrip).show(view["markets"])
            for kind in KINDS:
                self.query_one(f"#panel-{kind}", AccountPanel).show(view["accounts"][kind])
            self.query_one(MirrorPanel).show(view["mirror"])
            activity = self.link.take_activity()
            self.query_one(ActivityFeed).add(activity)
        for item in activity:
            if item["category"] == "notice" and item["kind"] in TOASTS:
                title, severity = TOASTS[item["kind"]]
                self.notify(item["text"], title=title, severity=severity, timeout=8)
        if self.first_frame is None:
            self.call_after_refresh(self._mark_first_frame)

    @work(exclusive=True, group="leads")
    async def load_leads(self) -> None:
        try:
            leads = await self.link.screen_view("leads")
        except Rejected:  # the header already says the desk is unreachable: keep the last list
            return
        self.leads = [(name, nickname) for name, nickname in leads]

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

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return action not in MAIN_SCREEN_ACTIONS or self.screen is self.screen_stack[0]

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

    # The full screens are imported when first opened, not at start-up: with plotext (the profile's curves)
    # and markdown-it (help) they are about 90 ms of the time to the first frame.

    def action_help(self) -> None:
        from .screens.help_screen import HelpScreen
        self.push_screen(HelpScreen())

    def open_screen(self, make: Callable[[], Screen], *, stack: bool = False) -> None:
        """Push a screen of the copy-trading set, unless the same kind is already on top (`stack`: push it
        anyway, as a profile opened from another profile's copier list)."""
        screen = make()
        if stack or type(self.screen) is not type(screen):
            self.push_screen(screen)

    def action_leaderboard(self) -> None:
        from .screens.leaderboard_screen import LeaderboardScreen
        self.open_screen(LeaderboardScreen)

    def action_profile(self, lead: str) -> None:
        from .screens.profile_screen import ProfileScreen
        self.open_screen(lambda: ProfileScreen(lead), stack=True)

    def action_my_profile(self) -> None:
        if not (self.view or {}).get("is_lead"):
            self.notify("You are not an elite trader: the leaderboard (l) has the others' profiles",
                        severity="warning")
            return
        self.action_profile(self.link.user)

    def action_copy_manager(self) -> None:
        from .screens.copy_manager import CopyManagerScreen
        self.open_screen(CopyManagerScreen)

    def action_history(self) -> None:
        from .screens.history_screen import HistoryScreen
        self.open_screen(HistoryScreen)

    def action_notifications(self) -> None:
        from .screens.notifications_screen import NotificationsScreen
        self.open_screen(NotificationsScreen)

    def action_upgrade(self) -> None:
        self.open_screen(UpgradeDialog)

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
        yield SystemCommand("Leaderboard", "Elite traders ranked by PnL %, PnL, win rate, drawdown, AUM, copiers",
                            self.action_leaderboard)
        yield SystemCommand("My trader profile", "Your own profile as an elite trader", self.action_my_profile)
        for lead, nickname in self.leads:
            yield SystemCommand(f"Trader profile: {nickname} (@{lead})", "Metrics, curves, positions and copiers",
                                lambda lead=lead: self.action_profile(lead))
        yield SystemCommand("Copy manager", "The leads you copy: settings, PnL, failures, per-order view, settlements",
                            self.action_copy_manager)
        yield SystemCommand("History", "Orders, fills, funding, liquidations, ledger and statement export",
                            self.action_history)
        yield SystemCommand("Notifications", "Your inbox, newest first", self.action_notifications)
        yield SystemCommand("Upgrade account", "Move a legacy single account to Futures | Copy | Elite",
                            self.action_upgrade)
        yield SystemCommand("Help", "Keys, accounts and copy trading explained", self.action_help)
