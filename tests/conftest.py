"""Shared helpers: run command lines against an in-memory exchange or a real on-disk desk, and a
workstation on a scripted world (see app/station.py)."""
from __future__ import annotations

from decimal import Decimal

import pytest

import engine  # noqa: F401  (registers handlers)
from engine.commands import parse_line
from engine.errors import Rejected
from engine.exchange import Exchange
from storage.desk import Desk


def run(exchange: Exchange, *lines: dict):
    """Apply lines in order; returns the last result. Rejections propagate."""
    result = None
    for line in lines:
        result = exchange.execute(parse_line(line))
    return result


def rejects(exchange: Exchange, line: dict, code: str) -> Rejected:
    """Assert the line is refused with `code` and that the state did not change."""
    before = exchange.state_hash()
    with pytest.raises(Rejected) as caught:
        exchange.execute(parse_line(line))
    assert caught.value.code == code, caught.value.message
    assert exchange.state_hash() == before
    return caught.value


def balance(exchange: Exchange, user: str, wallet: str) -> Decimal:
    return exchange.ledger.balance(f"{user}:{wallet}")


@pytest.fixture
def exchange() -> Exchange:
    return Exchange()


@pytest.fixture
def desk(tmp_path):
    with Desk.open(tmp_path / "desk.db") as opened:
        yield opened


# --- screens -------------------------------------------------------------------------------------


@pytest.fixture
def service(tmp_path):
    from app.service import DeskService
    from station import WORLD
    desk = DeskService(tmp_path / "station.db").start()
    for line in WORLD:
        assert desk.execute(line).accepted, line
    yield desk
    desk.stop()


@pytest.fixture
async def station(service):
    from app.desk_link import DeskLink
    from app.workstation import Workstation
    from station import until
    app = Workstation(DeskLink(service, "trader"))
    async with app.run_test(size=(220, 60)) as pilot:
        await until(pilot, lambda: app.view is not None)
        yield app, pilot
