"""Opening the workstation: the embedded engine, the market feed, optionally the demo world."""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from .demo import YOU, DemoWorld
from .desk_link import DeskLink
from .service import DeskService
from .tokens import issue_or_show
from .upgrade_notice import tell_upgrade
from .workstation import Workstation

WELCOME_FUNDS = "10000"


def wall_ms() -> int:
    return int(time.time() * 1000)


def ensure_trader(service: DeskService, user: str) -> None:
    """A first start creates your user with 10,000 USDT of paper money in Funding."""
    known = service.call(lambda desk: user in desk.exchange.users).result()
    if not known:
        for line in ({"do": "user", "name": user}, {"do": "deposit", "user": user, "amount": WELCOME_FUNDS}):
            outcome = service.execute(line)
            if not outcome.accepted:
                raise SystemExit(f"copydesk: cannot create {user}: {outcome.message}")


def build(db: Path, *, user: str, demo: bool, seed: int, copiers: int, speed: float) -> tuple[Workstation, DemoWorld, DeskService]:
    db.parent.mkdir(parents=True, exist_ok=True)
    service = DeskService(db, start_ms=wall_ms(), notice=tell_upgrade).start()
    world = DemoWorld(service, seed=seed, copiers=copiers, speed=speed, world=demo)
    world.start()
    if demo:
        user = YOU
    else:
        ensure_trader(service, user)
    link = DeskLink(service, user)
    subtitle = (f"demo · seed {seed} · {copiers:,} copiers" if demo else f"{user}") + " · simulated market"
    return Workstation(link, subtitle=subtitle), world, service


def run_workstation(db: Path, *, user: str, demo: bool, seed: int, copiers: int, speed: float) -> int:
    app, world, service = build(db, user=user, demo=demo, seed=seed, copiers=copiers, speed=speed)
    try:
        app.run()
    finally:
        world.stop()
        service.stop()
    return 0


def run_remote_workstation(url: str, *, user: str, token: str | None) -> int:
    from .client import RemoteDesk, RemoteError  # the network stack loads only for --connect
    from .remote_link import RemoteLink
    token = token or os.environ.get("COPYDESK_TOKEN") or issue_or_show(user)
    with RemoteDesk(url, token) as remote:
        try:
            remote.health()
        except RemoteError as error:
            print(f"copydesk: {error.message}", file=sys.stderr)
            return 3
        Workstation(RemoteLink(remote, user), subtitle=f"{user} · {url}").run()
    return 0
