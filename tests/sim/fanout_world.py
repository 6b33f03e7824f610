"""A lead with thousands of copiers, for the crash-safety test (tests/sim/test_crash.py).

`python tests/sim/fanout_world.py seed DB COPIERS` builds the world in one transaction.
`python tests/sim/fanout_world.py run DB SEED` then trades on it forever: lead orders that fan out to
every copier, margin changes and prices. After each command commits it prints the journal seq of that
command and flushes, so a parent that kills this process with SIGKILL knows what was committed.
"""
from __future__ import annotations

import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from storage.desk import Desk  # noqa: E402

LEAD = "whale"


def world(copiers: int) -> list[dict]:
    lines: list[dict] = [
        {"do": "config", "slippage_bps": "0", "impact_bps": "0"},
        {"do": "price", "symbol": "BTCUSDT", "mark": "50000"},
        {"do": "user", "name": LEAD},
        {"do": "deposit", "user": LEAD, "amount": "10000000"},
        {"do": "become_elite", "user": LEAD, "symbols": ["BTCUSDT"], "capacity": 100000},
        {"do": "transfer", "user": LEAD, "from": "funding", "to": "elite", "amount": "10000000"},
    ]
    for index in range(copiers):
        name = f"c{index:05d}"
        lines += [{"do": "user", "name": name},
                  {"do": "deposit", "user": name, "amount": "1000"},
                  {"do": "transfer", "user": name, "from": "funding", "to": "copy", "amount": "1000"},
                  {"do": "follow", "user": name, "lead": LEAD, "mode": "fixed", "amount": "20", "leverage": 5,
                   "margin_mode": "isolated"}]
    return lines


def seed(path: Path, copiers: int) -> None:
    with Desk.open(path) as desk:
        outcomes = desk.execute_many(world(copiers))
        refused = [o for o in outcomes if not o.accepted]
        assert not refused, refused[0].message


def run(path: Path, seed_value: int) -> None:
    rng = random.Random(seed_value)
    with Desk.open(path) as desk:
        print("ready", flush=True)
        price = 50000
        while True:
            roll = rng.random()
            if roll < 0.6:
                line = {"do": "order", "user": LEAD, "account": "elite", "symbol": "BTCUSDT",
                        "side": rng.choice(("buy", "sell")), "qty": rng.choice(("0.1", "0.2", "0.5")), "leverage": 5}
            elif roll < 0.75:
                price = max(40000, min(60000, price + rng.randint(-300, 300)))
                line = {"do": "price", "symbol": "BTCUSDT", "mark": str(price)}
            elif roll < 0.9:
                line = {"do": "margin", "user": LEAD, "account": "elite", "symbol": "BTCUSDT",
                        "delta": rng.choice(("50", "100", "-20"))}
            else:
                line = {"do": "advance", "by": rng.choice(("1s", "3s"))}
            if desk.execute(line).accepted:  # committed: its journal line is the newest
                seq = desk.store.conn.execute("SELECT max(seq) FROM journal").fetchone()[0]
                print(f"committed {seq}", flush=True)


if __name__ == "__main__":
    command, db = sys.argv[1], Path(sys.argv[2])
    if command == "seed":
        seed(db, int(sys.argv[3]))
    else:
        run(db, int(sys.argv[3]))
