"""The workstation in --connect mode passes the same pilot tests as the embedded one: a real
`copydesk serve` subprocess on loopback, HTTP for commands, a websocket for events."""
from __future__ import annotations

from decimal import Decimal

import pytest

from app.client import RemoteDesk
from app.desk_link import DeskLink
from app.remote_link import RemoteLink
from app.screens.order_ticket import OrderTicket
from app.workstation import Workstation
from engine.money import fmt
from serving import Served, token
from station import WORLD, until


@pytest.fixture
def served(tmp_path):
    prices = tmp_path / "prices.csv"
    prices.write_text("time,symbol,mark\n2026-01-05T00:00:00Z,BTCUSDT,50000\n2026-01-05T00:00:00Z,ETHUSDT,2500\n")
    home = tmp_path / "home"
    home.mkdir()
    operator, trader = token(home, "--operator"), token(home, "trader")
    server = Served(home, "--feed", f"replay:{prices}")
    with RemoteDesk(server.url, operator) as admin:
        for line in WORLD:
            assert admin.execute(line)["accepted"], line
    yield server, trader
    server.stop()


@pytest.fixture(params=["embedded", "remote"])
async def any_station(request, service, served):
    if request.param == "embedded":
        app = Workstation(DeskLink(service, "trader"))
    else:
        server, trader = served
        app = Workstation(RemoteLink(RemoteDesk(server.url, trader), "trader"))
    async with app.run_test(size=(220, 60)) as pilot:
        await until(pilot, lambda: app.view is not None and app.view["markets"])
        yield app, pilot


def futures_positions(app):
    return app.view["accounts"]["futures"]["positions"]


async def test_open_a_position_and_adjust_its_margin(any_station):
    app, pilot = any_station
    await pilot.press("1", "o")
    await until(pilot, lambda: isinstance(app.screen, OrderTicket))
    await pilot.press(*"0.1")
    await pilot.press("enter")
    await until(pilot, lambda: futures_positions(app))
    # 0.1 BTC at 50,000, 10x isolated: margin 500, LP = (500 − 5,000)/(0.1 × 0.004 − 0.1) = 45,180.72…
    assert futures_positions(app)[0]["margin"] == Decimal("500")
    assert fmt(futures_positions(app)[0]["liquidation_price"]).startswith("45180.72")
    await pilot.press("m")
    await until(pilot, lambda: app.screen.__class__.__name__ == "MarginDialog")
    await pilot.press(*"250")
    await pilot.press("enter")
    # margin 750: LP = (750 − 5,000)/(0.1 × 0.004 − 0.1) = 42,670.68…
    await until(pilot, lambda: futures_positions(app)[0]["margin"] == Decimal("750"))
    assert fmt(futures_positions(app)[0]["liquidation_price"]).startswith("42670.68")


async def test_a_server_gone_while_a_dialog_previews_leaves_the_dialog_saying_so(served):
    server, trader = served
    app = Workstation(RemoteLink(RemoteDesk(server.url, trader), "trader"))
    async with app.run_test(size=(220, 60)) as pilot:
        await until(pilot, lambda: app.view is not None and app.view["markets"])
        await pilot.press("1", "o")
        await until(pilot, lambda: isinstance(app.screen, OrderTicket))
        await pilot.press(*"0.1", "enter")
        await until(pilot, lambda: futures_positions(app))
        await pilot.press("m")
        await until(pilot, lambda: app.screen.__class__.__name__ == "MarginDialog")
        dialog = app.screen
        server.stop()
        await pilot.press(*"25")  # each keystroke asks the server for a preview it can no longer give
        await until(pilot, lambda: "cannot reach the Copydesk server" in str(dialog.query_one("#preview").render()))
        assert app.is_running and app.screen is dialog
