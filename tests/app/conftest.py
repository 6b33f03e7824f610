"""Fixtures for screen tests: see station.py for the scripted world."""
from __future__ import annotations

import pytest

from app.desk_link import DeskLink
from app.service import DeskService
from app.workstation import Workstation
from station import WORLD, until


@pytest.fixture
def service(tmp_path):
    desk = DeskService(tmp_path / "station.db").start()
    for line in WORLD:
        assert desk.execute(line).accepted, line
    yield desk
    desk.stop()


@pytest.fixture
async def station(service):
    app = Workstation(DeskLink(service, "trader"))
    async with app.run_test(size=(220, 60)) as pilot:
        await until(pilot, lambda: app.view is not None)
        yield app, pilot
