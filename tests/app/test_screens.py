"""Pilot tests of the copy-trading screens: trader profile, leaderboard, copy settings, copy manager, history
and statements, notifications — on the station's scripted world plus ten days of lead history."""
from __future__ import annotations

import csv
import json
import threading
from decimal import Decimal

import pytest
from textual.widgets import Input, Static

from app.desk_link import DeskLink
from app.screens.copy_manager import CopyManagerScreen
from app.screens.copy_settings import CopySettingsDialog
from app.screens.history_screen import HistoryScreen
from app.screens.leaderboard_screen import LeaderboardScreen
from app.screens.notifications_screen import NotificationsScreen
from app.screens.profile_screen import ProfileScreen
from app.screens.upgrade_dialog import UpgradeDialog
from app.service import DeskService
from app.widgets.lead_chart import LeadChart
from app.workstation import Workstation
from tests_support import screen_text

from station import until

HISTORY = [
    # trader leads BTCUSDT: a winning trade on day 0, a losing one ten days later, so 7D and all differ
    {"do": "order", "user": "trader", "account": "elite", "symbol": "BTCUSDT", "side": "buy", "qty": "0.1"},
    {"do": "price", "symbol": "BTCUSDT", "mark": "51000"},
    {"do": "close", "user": "trader", "account": "elite", "symbol": "BTCUSDT"},
    {"do": "advance", "by": "10d"},
    {"do": "price", "symbol": "BTCUSDT", "mark": "50000"},
    {"do": "order", "user": "trader", "account": "elite", "symbol": "BTCUSDT", "side": "buy", "qty": "0.1"},
    {"do": "price", "symbol": "BTCUSDT", "mark": "49800"},
    {"do": "close", "user": "trader", "account": "elite", "symbol": "BTCUSDT"},
    # lena: a second lead, for trader to follow
    {"do": "user", "name": "lena"}, {"do": "deposit", "user": "lena", "amount": "5000"},
    {"do": "become_elite", "user": "lena", "symbols": ["BTCUSDT", "ETHUSDT"], "nickname": "Lena",
     "bio": "Breakouts on majors"},
    {"do": "transfer", "user": "lena", "from": "funding", "to": "elite", "amount": "5000"},
]
# Lead PnL, net of closing fees: day 0 +100 − 2.55 = 97.45; day 10 −20 − 2.49 = −22.49.
ALL_TIME_PNL, LAST_7D_PNL = Decimal("74.96"), Decimal("-22.49")


def lena_buys(qty: str) -> dict:
    return {"do": "order", "user": "lena", "account": "elite", "symbol": "BTCUSDT", "side": "buy", "qty": qty}


@pytest.fixture
async def desk(service):
    for line in HISTORY:
        assert service.execute(line).accepted, line
    app = Workstation(DeskLink(service, "trader"))
    async with app.run_test(size=(220, 60), notifications=True) as pilot:
        await until(pilot, lambda: app.view is not None and app.leads)
        yield app, pilot, service


async def palette(pilot, command: str) -> None:
    await pilot.press("ctrl+p")
    await pilot.pause(0.2)
    await pilot.press(*command)
    await pilot.pause(0.3)
    await pilot.press("enter")


async def open_lena(app, pilot) -> ProfileScreen:
    await palette(pilot, "Trader profile: Lena")
    await until(pilot, lambda: isinstance(app.screen, ProfileScreen) and app.screen.view is not None)
    assert app.screen.view["nickname"] == "Lena"
    return app.screen


async def follow_in_dialog(app, pilot, amount: str) -> CopySettingsDialog:
    await pilot.press("f")
    await until(pilot, lambda: isinstance(app.screen, CopySettingsDialog))
    dialog = app.screen
    await pilot.press(*amount)  # the fixed-margin amount has the focus
    return dialog


def dialog_text(dialog, selector: str) -> str:
    return str(dialog.query_one(selector, Static).render())


# --- reaching every screen ----------------------------------------------------------------------


async def test_every_screen_opens_from_the_keyboard(desk):
    app, pilot, _ = desk
    for key, screen in (("l", LeaderboardScreen), ("g", CopyManagerScreen), ("h", HistoryScreen),
                        ("n", NotificationsScreen), ("e", ProfileScreen)):
        await pilot.press(key)
        await until(pilot, lambda: isinstance(app.screen, screen) and app.screen.view is not None)
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is app.screen_stack[0])
    await pilot.press("l")
    await until(pilot, lambda: isinstance(app.screen, LeaderboardScreen) and app.screen.view is not None)
    await pilot.press("enter")  # the first trader's profile
    await until(pilot, lambda: isinstance(app.screen, ProfileScreen))
    await pilot.press("escape")
    await until(pilot, lambda: isinstance(app.screen, LeaderboardScreen))


@pytest.mark.parametrize("command, screen", [
    ("Leaderboard", LeaderboardScreen), ("Copy manager", CopyManagerScreen), ("History", HistoryScreen),
    ("Notifications", NotificationsScreen), ("My trader profile", ProfileScreen),
    ("Trader profile: Lena", ProfileScreen), ("Upgrade account", UpgradeDialog),
])
async def test_every_screen_opens_from_the_command_palette(desk, command, screen):
    app, pilot, _ = desk
    await palette(pilot, command)
    await until(pilot, lambda: isinstance(app.screen, screen))


# --- profile and leaderboard -------------------------------------------------------------------


async def test_profile_periods_switch_the_metrics_and_curves(desk):
    app, pilot, _ = desk
    await pilot.press("e")
    await until(pilot, lambda: isinstance(app.screen, ProfileScreen) and app.screen.view is not None)
    profile = app.screen
    assert profile.view["metrics"]["lead_pnl"] == ALL_TIME_PNL
    await until(pilot, lambda: "+74.96 USDT" in screen_text(app))
    await pilot.press("1")  # 7D: only the second trade
    await until(pilot, lambda: profile.view["period"] == "7d")
    assert profile.view["metrics"]["lead_pnl"] == LAST_7D_PNL
    await until(pilot, lambda: "-22.49 USDT" in screen_text(app))
    assert len(profile.view["curve"]) == 9  # the daily points from 01-08 to 01-15, and now
    await pilot.click("#period-30d")  # tabs are clickable too: 30D reaches back to both trades
    await until(pilot, lambda: profile.view["period"] == "30d")
    assert profile.view["metrics"]["lead_pnl"] == ALL_TIME_PNL
    assert len(profile.view["curve"]) == 11  # ten daily points and now
    # the curves redraw when their data changes, and not on every poll while it does not
    charts = list(profile.query(LeadChart))
    await until(pilot, lambda: all(chart._pending is None and chart._shown is not None for chart in charts))
    drawn = [chart.draws for chart in charts]
    await pilot.pause(1.6)  # three polls with nothing changing
    assert [chart.draws for chart in charts] == drawn
    text = screen_text(app)
    assert "Cumulative lead PnL" in text and "Drawdown from the NAV peak" in text


async def test_a_screen_closed_before_its_view_arrives_leaves_the_workstation_running(desk):
    app, pilot, service = desk
    busy = threading.Event()
    service.call(lambda _desk: busy.wait(5))  # the engine thread is busy: the profile's view waits in line
    await pilot.press("e")
    await until(pilot, lambda: isinstance(app.screen, ProfileScreen))
    profile = app.screen
    await pilot.press("escape")
    await until(pilot, lambda: app.screen is app.screen_stack[0])
    busy.set()
    await until(pilot, lambda: profile._worker.is_finished)
    await pilot.pause(0.2)
    assert app.is_running and profile.view is None  # the late view was dropped, not drawn on a closed screen
    await pilot.press("e")  # and the profile still opens
    await until(pilot, lambda: isinstance(app.screen, ProfileScreen) and app.screen.view is not None)


async def test_leaderboard_sorts_filters_and_opens_a_profile(desk):
    app, pilot, service = desk
    for line in ({"do": "config", "protected_min_equity": "1000"},
                 {"do": "become_elite", "user": "lena", "symbols": ["BTCUSDT", "ETHUSDT"], "mode": "protected",
                  "collateral": "1000"}):
        assert service.execute(line).accepted, line
    await pilot.press("l")
    await until(pilot, lambda: isinstance(app.screen, LeaderboardScreen) and app.screen.view is not None)
    board = app.screen.query_one("#board")
    order = lambda: [board.records[key]["lead"] for key in board._order]  # noqa: E731
    assert order() == ["trader", "lena"]  # PnL % +0.75% before 0%
    await pilot.press("c")  # copiers, most first: trader has 3
    assert order() == ["trader", "lena"]
    await pilot.press("c")  # the same key again reverses
    assert order() == ["lena", "trader"]
    await pilot.press("d")  # drawdown, smallest first: lena has none
    assert order() == ["lena", "trader"]
    column = [c.key.value for c in board.ordered_columns].index("PnL")
    x = sum(c.get_render_width(board) for c in board.ordered_columns[:column]) + 2
    await pilot.click(board, offset=(x, 0))  # a header click sorts by that column, largest first
    assert app.screen.sort_field == "lead_pnl"
    assert order() == ["trader", "lena"]
    await pilot.press("f")  # protected portfolios only
    assert order() == ["lena"]
    assert "Lena · protected" in screen_text(app)
    await pilot.press("f")
    trader = next(row for row in app.screen.view if row["lead"] == "trader")
    assert trader["trend"][-1] == ALL_TIME_PNL  # the spark line ends at today's cumulative PnL
    assert "█" in screen_text(app) and "▁" in screen_text(app)
    await pilot.press("enter")  # the cursor stayed on lena through the filter and back
    await until(pilot, lambda: isinstance(app.screen, ProfileScreen) and app.screen.view is not None)
    assert app.screen.lead == "lena"
    assert "PROTECTED" in screen_text(app)


# --- copy settings, copy manager ---------------------------------------------------------------


async def test_follow_through_the_settings_dialog_then_the_copy_account_mirrors_the_lead(desk):
    app, pilot, service = desk
    assert service.execute({"do": "transfer", "user": "trader", "from": "funding", "to": "copy",
                            "amount": "2000"}).accepted
    assert service.execute(lena_buys("0.01")).accepted  # a lead order before trader follows: what the preview sizes
    await open_lena(app, pilot)
    await pilot.press("f")
    await until(pilot, lambda: isinstance(app.screen, CopySettingsDialog))
    dialog = app.screen
    await pilot.press("enter")  # nothing typed yet: checked here, with a clear sentence
    await until(pilot, lambda: "enter the USDT margin per copied order" in dialog_text(dialog, ".error"))
    await pilot.press(*"100")
    # 100 USDT × lena's 10x ÷ 49,800 = 0.0200… → 0.02 BTC, margin 0.02 × 49,800 ÷ 10 = 99.60
    await until(pilot, lambda: "0.02 contracts" in dialog_text(dialog, "#preview"))
    assert "margin 99.60 USDT" in dialog_text(dialog, "#preview")
    assert "Lead's last order L" in dialog_text(dialog, "#preview")
    assert "buy 0.01 BTCUSDT at 49,800.00" in dialog_text(dialog, "#preview")
    await pilot.press("enter")
    await until(pilot, lambda: not isinstance(app.screen, CopySettingsDialog))
    relation = service.call(lambda desk: desk.exchange.relations_by_pair[("trader", "lena")].view()).result()
    assert (relation["mode"], relation["amount"], relation["status"]) == ("fixed", "100", "active")
    await until(pilot, lambda: app.screen.view["following"] is not None)
    assert str(app.screen.query_one("#follow").label) == "Copy settings"

    assert service.execute(lena_buys("0.02")).accepted  # the lead's next trade
    await pilot.press("escape")
    await until(pilot, lambda: app.view["accounts"]["copy"]["positions"])
    position = app.view["accounts"]["copy"]["positions"][0]
    assert (position["symbol"], position["lead"], position["side"], position["qty"]) == (
        "BTCUSDT", "lena", "long", Decimal("0.02"))
    await until(pilot, lambda: "BTC 10xI ·lena" in screen_text(app))


async def test_the_engine_rejection_is_shown_in_the_settings_dialog(desk):
    app, pilot, _ = desk
    await open_lena(app, pilot)
    dialog = await follow_in_dialog(app, pilot, "50")
    dialog.query_one("#slippage", Input).value = "0.00000001"  # passes the form, but has 10 decimals as a ratio
    await pilot.press("enter")  # still in the amount field
    await until(pilot, lambda: "BAD_FIELD" in dialog_text(dialog, ".error"))
    assert "decimal places" in dialog_text(dialog, ".error")
    assert isinstance(app.screen, CopySettingsDialog)  # still open to fix it
    dialog.query_one("#slippage", Input).value = "abc"
    await until(pilot, lambda: "the slippage % is not a number" in dialog_text(dialog, "#preview"))


async def test_copy_manager_edits_and_unfollows(desk):
    app, pilot, service = desk
    assert service.execute({"do": "transfer", "user": "trader", "from": "funding", "to": "copy",
                            "amount": "2000"}).accepted
    assert service.execute({"do": "follow", "user": "trader", "lead": "lena", "mode": "ratio", "ratio": "2"}).accepted
    assert service.execute(lena_buys("0.01")).accepted
    for line in ({"do": "margin", "user": "lena", "account": "elite", "symbol": "BTCUSDT", "delta": "49.8"},
                 {"do": "advance", "by": "3s"}):
        assert service.execute(line).accepted
    await pilot.press("g")
    await until(pilot, lambda: isinstance(app.screen, CopyManagerScreen) and app.screen.view is not None
                and app.screen.view["margin_syncs"])
    manager = app.screen
    view = manager.view
    assert [lead["lead"] for lead in view["leads"]] == ["lena"]
    assert view["copy_orders"][0]["qty"] == Decimal("0.02") and view["positions"][0]["qty"] == Decimal("0.02")
    # the lead added 50% of its margin (49.8 on 99.6): the copy's 199.2 gets 99.6
    assert view["margin_syncs"][0]["delta"] == Decimal("99.6")
    text = screen_text(app)
    assert "ratio 2×" in text and "Per-order view" in text and "first-in, first-out" in text
    await pilot.press("e")
    await until(pilot, lambda: isinstance(app.screen, CopySettingsDialog))
    dialog = app.screen
    assert dialog.query_one("#ratio", Input).value == "2"
    dialog.query_one("#ratio", Input).value = "0.5"
    dialog.query_one("#max_total_margin", Input).value = "500"
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, CopyManagerScreen))
    await until(pilot, lambda: manager.view["leads"][0]["settings"]["ratio"] == Decimal("0.5"))
    assert manager.view["leads"][0]["settings"]["max_total_margin"] == Decimal("500")
    await pilot.press("u")
    await until(pilot, lambda: app.screen.__class__.__name__ == "UnfollowDialog")
    await pilot.click("#close_positions")
    await pilot.click("#confirm")
    await until(pilot, lambda: isinstance(app.screen, CopyManagerScreen)
                and manager.view["leads"][0]["status"] == "unfollowed" and not manager.view["positions"])
    assert manager.view["copy_orders"][0]["status"] == "closed"


async def test_fifteen_failed_copies_bring_a_reminder_to_the_inbox_and_a_toast(desk):
    app, pilot, service = desk
    await open_lena(app, pilot)  # trader's copy account is empty: every copy of lena will fail
    await follow_in_dialog(app, pilot, "100")
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, ProfileScreen) and app.screen.view["following"])
    for _ in range(15):
        assert service.execute(lena_buys("0.001")).accepted
    reminder = "15 copies of lena in a row have failed"
    await until(pilot, lambda: reminder in screen_text(app))  # the toast, over whatever screen is up
    assert "Failed copies" in screen_text(app)
    await pilot.press("n")
    await until(pilot, lambda: isinstance(app.screen, NotificationsScreen) and app.screen.view)
    newest = app.screen.view[0]
    assert newest["kind"] == "copy_failures" and reminder in newest["text"]
    await pilot.press("escape", "g")
    await until(pilot, lambda: isinstance(app.screen, CopyManagerScreen) and app.screen.view is not None)
    assert app.screen.view["leads"][0]["failures"] == 15


# --- history and statements --------------------------------------------------------------------


async def test_history_tabs_and_a_statement_that_matches_the_ledger(desk, tmp_path):
    app, pilot, service = desk
    for line in ({"do": "order", "user": "trader", "account": "futures", "symbol": "BTCUSDT", "side": "buy",
                  "qty": "0.1"},                                     # at 49,800: fee 2.49
                 {"do": "order", "user": "trader", "account": "futures", "symbol": "ETHUSDT", "side": "buy",
                  "qty": "1", "type": "limit", "price": "2000"},     # rests
                 {"do": "advance", "by": "9h"},                      # funding at 08:00 on the long
                 {"do": "price", "symbol": "BTCUSDT", "mark": "50300"},
                 {"do": "close", "user": "trader", "account": "futures", "symbol": "BTCUSDT"}):
        assert service.execute(line).accepted, line
    await pilot.press("h")
    await until(pilot, lambda: isinstance(app.screen, HistoryScreen) and app.screen.view is not None)
    history = app.screen
    assert history.view["tab"] == "orders" and history.view["rows"][0]["status"] == "open"
    for key, tab in (("2", "fills"), ("3", "funding"), ("4", "liquidations"), ("5", "ledger")):
        await pilot.press(key)
        await until(pilot, lambda: history.view["tab"] == tab)
    assert history.view["rows"][0]["type"] == "trading_fee"  # newest first: the closing fee
    await pilot.press("2")
    await until(pilot, lambda: history.view["tab"] == "fills")
    assert [f["realized_pnl"] for f in history.view["rows"][:1]] == [Decimal("50")]

    await pilot.press("6")
    await until(pilot, lambda: history.query_one("#from", Input).value)
    assert history.query_one("#to", Input).value == "2026-01-15"
    history.query_one("#folder", Input).value = str(tmp_path)
    history.query_one("#from", Input).value = "2026-01-16"
    await pilot.press("x")
    await until(pilot, lambda: "BAD_FIELD" in str(history.query_one("#statement-result").render()))
    history.query_one("#from", Input).value = "2026-01-01"
    await pilot.press("x")
    await until(pilot, lambda: "reconciled" in str(history.query_one("#statement-result").render()))

    document = json.loads((tmp_path / "statement-trader-futures-2026-01-01-2026-01-15.json").read_text())
    totals = {name: value if isinstance(value, (bool, int, dict)) else Decimal(value)
              for name, value in document["totals"].items()}
    wallet = service.call(lambda desk: desk.exchange.ledger.balance("trader:futures")).result()
    # 10,000 in on day 0; −2.49 fee, −0.498 funding (0.1 × 49,800 × 0.01%), +50 PnL, −2.515 closing fee
    assert wallet == Decimal("10044.497")
    assert totals["opening_balance"] == 0 and totals["closing_balance"] == wallet
    assert totals["total_in"] == Decimal("10050") and totals["total_out"] == Decimal("5.503")
    assert totals["total_in"] - totals["total_out"] == totals["closing_balance"] - totals["opening_balance"]
    assert totals["reconciled"] is True
    assert totals["trading_fees"] == Decimal("5.005") and totals["realized_pnl"] == Decimal("50")
    assert totals["funding"] == Decimal("-0.498") and totals["fills"] == 2 and totals["liquidations"] == 0
    assert {k: Decimal(v) for k, v in totals["by_type"].items()} == {
        "transfer": Decimal("10000"), "trading_fee": Decimal("-5.005"), "realized_pnl": Decimal("50"),
        "funding": Decimal("-0.498")}

    with (tmp_path / "statement-trader-futures-2026-01-01-2026-01-15.csv").open() as source:
        rows = list(csv.DictReader(source))
    entries = [r for r in rows if r["section"] == "ledger"]
    assert sum(Decimal(r["amount"]) for r in entries) == wallet  # the entries add up to the balance change
    assert Decimal(entries[-1]["balance"]) == wallet
    assert sum(Decimal(r["fee"]) for r in rows if r["section"] == "fill") == Decimal("5.005")
    assert [r["amount"] for r in rows if r["section"] == "funding"] == ["-0.498"]
    assert {r["type"]: r["amount"] for r in rows if r["section"] == "total"}["closing_balance"] == "10044.497"


# --- a legacy account ---------------------------------------------------------------------------


async def test_a_legacy_account_upgrades_from_the_copy_manager(tmp_path):
    service = DeskService(tmp_path / "legacy.db").start()
    try:
        for line in ({"do": "price", "symbol": "BTCUSDT", "mark": "50000"},
                     {"do": "user", "name": "old", "legacy": True}, {"do": "deposit", "user": "old", "amount": "1000"}):
            assert service.execute(line).accepted, line
        app = Workstation(DeskLink(service, "old"))
        async with app.run_test(size=(220, 60)) as pilot:
            await until(pilot, lambda: app.view is not None)
            await pilot.press("g")
            await until(pilot, lambda: isinstance(app.screen, CopyManagerScreen) and app.screen.view is not None)
            assert "Legacy single account" in screen_text(app)
            await pilot.press("U")
            await until(pilot, lambda: isinstance(app.screen, UpgradeDialog)
                        and not app.screen.query_one("#confirm").disabled)
            await pilot.click("#confirm")
            await until(pilot, lambda: isinstance(app.screen, CopyManagerScreen)
                        and app.screen.view["upgrade_status"] == "done")
            assert "Futures | Copy | Elite" in screen_text(app)
            await until(pilot, lambda: app.view["accounts"]["copy"] is not None)
    finally:
        service.stop()
