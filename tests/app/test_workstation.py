"""Headless pilot tests of the workstation: real screens, a real engine thread, a real database."""
from __future__ import annotations

from decimal import Decimal

from textual.widgets import Static

from app.screens.order_ticket import OrderTicket
from engine.clock import HOUR, format_time
from engine.money import fmt
from tests_support import screen_text

from station import until


def positions(app, kind):
    return app.view["accounts"][kind]["positions"]


async def type_text(pilot, text: str) -> None:
    await pilot.press(*text)


async def submit_ticket(app, pilot, account_key: str, size: str) -> None:
    """Focus an account (1/2/3), open the order ticket with `o`, type a size and submit it."""
    await pilot.press(account_key, "o")
    await until(pilot, lambda: isinstance(app.screen, OrderTicket))
    await type_text(pilot, size)
    await pilot.press("enter")


async def test_open_a_position_from_the_ticket_by_keys(station):
    app, pilot = station
    await submit_ticket(app, pilot, "1", "0.1")
    await until(pilot, lambda: positions(app, "futures"))
    position = positions(app, "futures")[0]
    # 0.1 BTC at 50,000, 10x isolated: margin 500, LP = (500 − 5,000)/(0.1 × 0.004 − 0.1) = 45,180.72…
    assert (position["side"], position["qty"], position["margin"]) == ("long", Decimal("0.1"), Decimal("500"))
    assert fmt(position["liquidation_price"]).startswith("45180.72")
    await until(pilot, lambda: "45,180.7" in screen_text(app))  # shown to the BTCUSDT tick of 0.1


async def test_add_isolated_margin_through_the_dialog_moves_the_liquidation_price(station):
    app, pilot = station
    await submit_ticket(app, pilot, "1", "0.1")
    await until(pilot, lambda: positions(app, "futures"))
    before = positions(app, "futures")[0]["liquidation_price"]
    await pilot.press("m")
    await until(pilot, lambda: app.screen.__class__.__name__ == "MarginDialog")
    await type_text(pilot, "250")
    # margin 750: LP = (750 − 5,000)/(0.1 × 0.004 − 0.1) = 42,670.68…, previewed before confirming
    await until(pilot, lambda: "42,670.7" in str(app.screen.query_one("#preview", Static).render()))
    await pilot.press("enter")
    await until(pilot, lambda: positions(app, "futures")[0]["margin"] == Decimal("750"))
    after = positions(app, "futures")[0]["liquidation_price"]
    assert after < before
    assert fmt(after).startswith("42670.68")


async def test_trading_as_lead_streams_copier_outcomes_into_the_mirror_panel(station):
    app, pilot = station
    await submit_ticket(app, pilot, "3", "0.02")
    await until(pilot, lambda: app.view["mirror"]["lead_orders"])
    order = app.view["mirror"]["lead_orders"][0]
    # ann copies 0.5 × 0.02 = 0.01; ben 100 × 10 / 50,000 = 0.02; cy has 3 USDT: INSUFFICIENT_BALANCE
    assert (order["filled"], order["failed"]) == (2, 1)
    assert order["reasons"] == [("INSUFFICIENT_BALANCE", 1)]
    await until(pilot, lambda: "INSUFFICIENT_BALANCE" in screen_text(app))
    text = screen_text(app)
    assert "✓ ann: open 0.01" in text and "✗ cy: INSUFFICIENT_BALANCE" in text
    await until(pilot, lambda: app.view["mirror"]["aggregate"])
    assert app.view["mirror"]["aggregate"][0]["qty"] == Decimal("0.03")


async def test_transfer_between_wallets(station):
    app, pilot = station
    await pilot.press("t")
    await until(pilot, lambda: app.screen.__class__.__name__ == "TransferDialog")
    await type_text(pilot, "1234.5")
    await pilot.press("enter")
    await until(pilot, lambda: app.view["accounts"]["futures"]["wallet"] == Decimal("11234.5"))
    assert app.view["funding"] == Decimal("8765.5")


async def test_a_rejected_order_gets_a_clear_message(station):
    app, pilot = station
    await submit_ticket(app, pilot, "1", "5")  # 250,000 notional at 10x needs 25,000 + fee; 10,000 available
    ticket = app.screen
    await until(pilot, lambda: "INSUFFICIENT_BALANCE" in str(ticket.query_one(".error", Static).render()))
    assert "available in Futures" in str(ticket.query_one(".error", Static).render())
    assert isinstance(app.screen, OrderTicket)  # still open to fix the size
    assert positions(app, "futures") == []


async def test_the_header_shows_the_exchange_time_and_no_wall_clock(station):
    app, pilot = station
    start = app.view["now_ms"]
    outcome = await app.link.execute({"do": "advance", "by": "3h"})
    assert outcome.accepted, outcome.message
    await until(pilot, lambda: app.view["now_ms"] >= start + 3 * HOUR)
    await until(pilot, lambda: f"· {format_time(app.view['now_ms'])[11:19]} UTC ·" in app.sub_title)
    assert not app.screen.query("HeaderClock")  # a wall clock would disagree with a demo's or a replay's time
