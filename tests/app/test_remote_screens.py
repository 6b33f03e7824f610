"""The copy-trading screens over --connect: leaderboard, profile, copy settings with its preview, copy manager,
history with a statement, inbox and the upgrade dialog, driven in a workstation whose desk is a real
`copydesk serve` subprocess on loopback — and the HTTP views they read, refused with a code when asked wrong."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest

from app.client import RemoteDesk
from app.remote_error import RemoteError
from app.remote_link import RemoteLink
from app.screens.copy_manager import CopyManagerScreen
from app.screens.copy_settings import CopySettingsDialog
from app.screens.history_screen import HistoryScreen
from app.screens.leaderboard_screen import LeaderboardScreen
from app.screens.notifications_screen import NotificationsScreen
from app.screens.profile_screen import ProfileScreen
from app.screens.upgrade_dialog import UpgradeDialog
from app.workstation import Workstation
from serving import Served, token
from station import WORLD, until
from test_screens import dialog_text, palette

TRADES = [
    # trader leads BTCUSDT: bought at 50,000 and closed at 51,000 — lead PnL 100 less the 2.55 closing fee
    {"do": "order", "user": "trader", "account": "elite", "symbol": "BTCUSDT", "side": "buy", "qty": "0.1"},
    {"do": "price", "symbol": "BTCUSDT", "mark": "51000"},
    {"do": "close", "user": "trader", "account": "elite", "symbol": "BTCUSDT"},
    {"do": "price", "symbol": "BTCUSDT", "mark": "50000"},
    # lena: a second lead, with a lead order for the copy settings preview to size
    {"do": "user", "name": "lena"}, {"do": "deposit", "user": "lena", "amount": "5000"},
    {"do": "become_elite", "user": "lena", "symbols": ["BTCUSDT", "ETHUSDT"], "nickname": "Lena"},
    {"do": "transfer", "user": "lena", "from": "funding", "to": "elite", "amount": "5000"},
    {"do": "order", "user": "lena", "account": "elite", "symbol": "BTCUSDT", "side": "buy", "qty": "0.01"},
    {"do": "transfer", "user": "trader", "from": "funding", "to": "copy", "amount": "2000"},
]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    home = tmp_path_factory.mktemp("remote-screens")
    prices = home / "prices.csv"
    prices.write_text("time,symbol,mark\n2026-01-05T00:00:00Z,BTCUSDT,50000\n2026-01-05T00:00:00Z,ETHUSDT,2500\n")
    operator = token(home, "--operator")
    tokens = {who: token(home, who) for who in ("trader", "ann")}
    server = Served(home, "--feed", f"replay:{prices}")
    with RemoteDesk(server.url, operator) as admin:
        for line in WORLD + TRADES:
            assert admin.execute(line)["accepted"], line
    yield server, tokens
    server.stop()


def client(served, who: str) -> RemoteDesk:
    server, tokens = served
    return RemoteDesk(server.url, tokens[who])


async def shown(pilot, app, screen_type):
    await until(pilot, lambda: isinstance(app.screen, screen_type) and app.screen.view is not None)
    return app.screen


async def test_the_copy_trading_screens_work_over_connect(served, tmp_path):
    app = Workstation(RemoteLink(client(served, "trader"), "trader"))
    async with app.run_test(size=(220, 60), notifications=True) as pilot:
        await until(pilot, lambda: app.view is not None and len(app.leads) == 2)  # the palette's leads, served
        assert app.leads == [("lena", "Lena"), ("trader", "trader")]

        await pilot.press("l")
        board = await shown(pilot, app, LeaderboardScreen)
        row = next(r for r in board.view if r["lead"] == "trader")
        assert row["lead_pnl"] == Decimal("97.45") and isinstance(row["lead_pnl"], Decimal)
        await pilot.press("escape")

        await palette(pilot, "Trader profile: Lena")
        profile = await shown(pilot, app, ProfileScreen)
        assert profile.view["nickname"] == "Lena" and profile.view["positions"][0]["qty"] == Decimal("0.01")
        await pilot.press("f")
        await until(pilot, lambda: isinstance(app.screen, CopySettingsDialog))
        dialog = app.screen
        await pilot.press(*"100")
        # the preview, computed by the server: 100 USDT × lena's 10x ÷ 50,000 = 0.02 BTC, margin 100.00
        await until(pilot, lambda: "0.02 contracts" in dialog_text(dialog, "#preview"))
        assert "margin 100.00 USDT" in dialog_text(dialog, "#preview")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ProfileScreen))
        await until(pilot, lambda: app.screen.view["following"] is not None)
        assert app.screen.view["following"]["amount"] == Decimal("100")
        await pilot.press("escape")

        await pilot.press("g")
        manager = await shown(pilot, app, CopyManagerScreen)
        await until(pilot, lambda: manager.view["leads"])
        assert [(lead["lead"], lead["status"], lead["settings"]["amount"]) for lead in manager.view["leads"]] == [
            ("lena", "active", Decimal("100"))]
        await pilot.press("escape")

        await pilot.press("h")
        history = await shown(pilot, app, HistoryScreen)
        await pilot.press("2")
        await until(pilot, lambda: history.view["tab"] == "fills")
        assert history.view["rows"][0]["realized_pnl"] == Decimal("100")  # the elite close, newest first
        await pilot.press("6")
        await until(pilot, lambda: history.query_one("#from").value)
        history.query_one("#folder").value = str(tmp_path)
        await pilot.press("x")
        await until(pilot, lambda: "reconciled" in str(history.query_one("#statement-result").render()))
        written = json.loads(next(tmp_path.glob("statement-trader-futures-*.json")).read_text())
        assert Decimal(written["totals"]["closing_balance"]) == Decimal("10000")  # written here, from the server
        await pilot.press("escape")

        await pilot.press("n")
        inbox = await shown(pilot, app, NotificationsScreen)
        assert any(note["text"].startswith("ann started copying you") for note in inbox.view)
        await pilot.press("escape")

        await palette(pilot, "Upgrade account")
        await until(pilot, lambda: isinstance(app.screen, UpgradeDialog))
        await until(pilot, lambda: "three-account structure" in dialog_text(app.screen, "#status"))


def test_a_view_over_http_is_the_token_holders_own(served):
    with client(served, "ann") as ann, client(served, "trader") as trader:
        ann_fills = ann.view("history", {"tab": "fills"})["rows"]
        trader_fills = trader.view("history", {"tab": "fills"})["rows"]
    assert ann_fills and all(row["account"].startswith("ann:") for row in ann_fills)
    assert trader_fills and all(row["account"].startswith("trader:") for row in trader_fills)


@pytest.mark.parametrize("path, status, code", [
    ("/v1/views/positions", 404, "UNKNOWN_VIEW"),
    ("/v1/views/history?tab=fills&user=ann", 400, "BAD_FIELD"),
    ("/v1/views/leaderboard?period=1y", 400, "BAD_FIELD"),
    ("/v1/views/", 404, "UNKNOWN_VIEW"),
])
def test_a_view_asked_wrong_is_refused_with_a_code(served, path, status, code):
    with client(served, "trader") as trader, pytest.raises(RemoteError) as refused:
        trader.get(path)
    assert (refused.value.status, refused.value.code) == (status, code)


def test_a_view_needs_a_token_and_a_get(served):
    server, tokens = served
    with RemoteDesk(server.url, "not-a-token") as stranger, pytest.raises(RemoteError) as refused:
        stranger.view("inbox", {})
    assert (refused.value.status, refused.value.code) == (401, "UNAUTHORIZED")
    with client(served, "trader") as trader, pytest.raises(RemoteError) as refused:
        trader.post("/v1/views/inbox", {})
    assert (refused.value.status, refused.value.code) == (405, "METHOD_NOT_ALLOWED")


def test_a_follow_preview_over_http_checks_the_line_as_the_engine_does(served):
    with client(served, "trader") as trader:
        fine = trader.post("/v1/preview", {"what": "follow", "do": "follow", "lead": "lena", "mode": "ratio",
                                           "ratio": "2"})
        refused = trader.post("/v1/preview", {"what": "follow", "do": "follow", "lead": "lena", "mode": "ratio",
                                              "ratio": "500"})
        not_a_follow = trader.post("/v1/preview", {"what": "follow", "do": "deposit", "amount": "5"})
    assert (fine["qty"], fine["margin"]) == ("0.02", "100")  # 2 × lena's 0.01 at 50,000, 10x
    assert refused["rejected"]["code"] == "BAD_FIELD" and "ratio" in refused["rejected"]["message"]
    assert not_a_follow["rejected"]["code"] == "BAD_FIELD"
