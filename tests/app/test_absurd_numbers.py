"""A number no Decimal context can hold ("1e9999999") typed into any dialog is refused with a message; the
workstation never crashes on what a trader types."""
from __future__ import annotations

from decimal import Decimal

import pytest

from station import until
from test_screens import dialog_text
from test_workstation import positions, submit_ticket, type_text

ABSURD = ["1e9999999", "1e-9999999"]
REFUSED = {"1e9999999": "is beyond the allowed maximum of 1000000000000000",
           "1e-9999999": "has more than 8 decimal places"}


@pytest.mark.parametrize("typed", ABSURD)
async def test_an_absurd_size_in_the_ticket_is_refused(station, typed):
    app, pilot = station
    await submit_ticket(app, pilot, "1", typed)
    ticket = app.screen
    await until(pilot, lambda: REFUSED[typed] in dialog_text(ticket, ".error"))
    assert app.is_running and app.screen is ticket
    assert positions(app, "futures") == []


@pytest.mark.parametrize("typed", ABSURD)
async def test_an_absurd_transfer_is_refused(station, typed):
    app, pilot = station
    await pilot.press("t")
    await until(pilot, lambda: app.screen.__class__.__name__ == "TransferDialog")
    await type_text(pilot, typed)
    await pilot.press("enter")
    await until(pilot, lambda: REFUSED[typed] in dialog_text(app.screen, ".error"))
    assert app.is_running and app.view["accounts"]["futures"]["wallet"] == Decimal("10000")


@pytest.mark.parametrize("typed", ABSURD)
async def test_an_absurd_margin_is_refused_before_its_preview(station, typed):
    app, pilot = station
    await submit_ticket(app, pilot, "1", "0.1")
    await until(pilot, lambda: positions(app, "futures"))
    await pilot.press("m")
    await until(pilot, lambda: app.screen.__class__.__name__ == "MarginDialog")
    await type_text(pilot, typed)
    await pilot.pause()
    await pilot.press("enter")
    await until(pilot, lambda: REFUSED[typed] in dialog_text(app.screen, ".error"))
    assert app.is_running and positions(app, "futures")[0]["margin"] == Decimal("500")
