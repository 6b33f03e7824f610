"""The workstation's full screens by name — leaderboard, profile, copy manager, history, statement, inbox —
with their parameters as text: what `GET /v1/views/NAME?…` serves and what the embedded desk builds on its
engine thread. Both go through `build`, so a screen sees the same data, the same checks on what it asks and
the same rejections whichever desk it is on. The viewer is always the link's user (the token's, on a server):
a screen asks for its own history, never someone else's."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from engine.errors import Rejected, shown
from storage import history
from storage.desk import Desk

from .views import decode
from .views_copy import copy_manager_view
from .views_history import TABS, WALLETS, history_rows, statement_data
from .views_profile import DECIMAL_METRICS, PERIODS, leaderboard_view, profile_view

Ask = Mapping[str, str]
HISTORY_TABS = (*TABS, "statement")  # the statement tab shows a form, not rows: it needs only the time
# Statement bounds are instants in milliseconds; anything outside 2000–2200 is a typo, not a period.
EARLIEST_MS, LATEST_MS = 946_684_800_000, 7_258_118_400_000


def _choice(ask: Ask, name: str, allowed: tuple[str, ...], default: str | None = None) -> str:
    """`ask[name]`, one of `allowed`; `default` when it is not asked (with no default, it must be)."""
    value = ask.get(name, default)
    if value not in allowed:
        raise Rejected("BAD_FIELD", f"{name} must be one of {', '.join(allowed)}, got {shown(value)}")
    return value


def _required(ask: Ask, name: str) -> str:
    value = ask.get(name)
    if not value:
        raise Rejected("BAD_FIELD", f"this view needs {name}")
    return value


def _instant(ask: Ask, name: str) -> int:
    text = _required(ask, name)
    if not (text.isascii() and text.isdigit() and len(text) <= 13 and EARLIEST_MS <= int(text) <= LATEST_MS):
        raise Rejected("BAD_FIELD", f"{name} is a time in milliseconds since 1970 (years 2000–2200), "
                                    f"got {shown(text)}")
    return int(text)


def _leads(desk: Desk, viewer: str, ask: Ask) -> list[list[str]]:
    return [[name, lead.nickname] for name, lead in sorted(desk.exchange.leads.items())]


def _leaderboard(desk: Desk, viewer: str, ask: Ask) -> list[dict]:
    return leaderboard_view(desk.exchange, _choice(ask, "period", PERIODS, "all"))


def _profile(desk: Desk, viewer: str, ask: Ask) -> dict | None:
    return profile_view(desk, _required(ask, "lead"), _choice(ask, "period", PERIODS, "all"), viewer)


def _copy_manager(desk: Desk, viewer: str, ask: Ask) -> dict:
    return copy_manager_view(desk, viewer)


def _history(desk: Desk, viewer: str, ask: Ask) -> dict:
    tab = _choice(ask, "tab", HISTORY_TABS)
    account = _choice(ask, "account", WALLETS) if "account" in ask else None  # none: every account
    rows = [] if tab == "statement" else history_rows(desk, viewer, tab, account)
    return {"tab": tab, "now_ms": desk.exchange.now_ms, "rows": rows}


def _statement(desk: Desk, viewer: str, ask: Ask) -> dict:
    account = _choice(ask, "account", WALLETS)
    since, until = _instant(ask, "since_ms"), _instant(ask, "until_ms")
    if until <= since:
        raise Rejected("BAD_FIELD", "the statement's last day must not be before its first")
    return statement_data(desk, viewer, account, since, until)


def _inbox(desk: Desk, viewer: str, ask: Ask) -> list[dict]:
    return history.notifications(desk.store.conn, viewer)


def _account_structure(desk: Desk, viewer: str, ask: Ask) -> dict:
    person = desk.exchange.users.get(viewer)
    return {"legacy": bool(person and person.legacy), "upgrade_status": person.upgrade_status if person else None}


class ScreenView(NamedTuple):
    build: Callable[[Desk, str, Ask], Any]
    reads: tuple[str, ...] = ()             # the parameters it takes
    decimals: frozenset[str] = frozenset()  # its keys that hold decimals (sent as strings, read back by `decode`)
    maps: frozenset[str] = frozenset()      # its keys that hold a dict of decimals

    def decode(self, wired: Any) -> Any:
        return decode(wired, self.decimals, self.maps)


# Decimal keys of the records several views show.
SETTINGS = {"amount", "ratio", "max_margin_per_order", "max_total_margin", "tp_ratio", "sl_ratio", "slippage"}
POSITION = {"qty", "entry", "mark", "liquidation_price", "margin", "upnl", "roe", "tp", "sl", "tick"}
FILL = {"qty", "price", "fee", "realized_pnl", "closed_qty"}
FUNDING = {"qty", "mark", "rate", "amount"}
LIQUIDATION = {"qty", "price", "fee", "insurance"}
METRICS = {"pnl_pct", "lead_pnl", "win_rate", "max_drawdown", "aum"}

VIEWS: dict[str, ScreenView] = {
    "leads": ScreenView(_leads),
    "leaderboard": ScreenView(_leaderboard, ("period",), frozenset(METRICS | {"trend"})),
    "profile": ScreenView(_profile, ("lead", "period"), frozenset(
        set(DECIMAL_METRICS) | SETTINGS | POSITION | FILL | {"profit_share", "pnl", "equity", "cum_pnl", "nav",
                                                              "drawdown"})),
    "copy_manager": ScreenView(_copy_manager, (), frozenset(
        SETTINGS | POSITION | {"cum_realized_pnl", "shared_profit", "open_qty", "entry_price", "fees", "realized_pnl",
                               "net_pnl", "price", "delta", "net_result", "compensation", "profit_shared",
                               "rebate_released"})),
    "history": ScreenView(_history, ("tab", "account"), frozenset(FILL | FUNDING | LIQUIDATION | {"trigger"})),
    "statement": ScreenView(_statement, ("account", "since_ms", "until_ms"), frozenset(
        FILL | FUNDING | LIQUIDATION | {"balance", "opening_balance", "total_in", "total_out", "net_change",
                                        "closing_balance", "trading_fees", "funding", "liquidation_fees"}),
        frozenset({"by_type"})),
    "inbox": ScreenView(_inbox),
    "account_structure": ScreenView(_account_structure),
}
# The copy settings dialog's preview (`follow_preview`, over POST /v1/preview).
FOLLOW_PREVIEW_DECIMALS = frozenset({"lead_qty", "lead_price", "qty", "margin", "fee"})


def check(name: str, ask: Ask) -> Callable[[Desk, str, Ask], Any]:
    """The builder of view `name`, once `ask` names only parameters it reads. Raises UNKNOWN_VIEW or BAD_FIELD."""
    view = VIEWS.get(name)
    if view is None:
        raise Rejected("UNKNOWN_VIEW", f"no view named {shown(name)}; the views are {', '.join(VIEWS)}")
    unknown = sorted(set(ask) - set(view.reads))
    if unknown:
        takes = f"it takes {', '.join(view.reads)}" if view.reads else "it takes none"
        raise Rejected("BAD_FIELD", f"the {name} view has no parameter {shown(', '.join(unknown))}; {takes}")
    return view.build


def build(desk: Desk, viewer: str, name: str, ask: Ask) -> Any:
    """Run on the engine thread: the view `name` for `viewer`."""
    return check(name, ask)(desk, viewer, ask)
