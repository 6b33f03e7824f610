"""Many API clients at once on loopback: no command is lost, no money appears or vanishes, nobody sees
"database is locked" — while a reader scans the file the whole time — and a second process on the
same database file is told which process holds it.

The normal suite runs 50 clients × 200 commands; `pytest -m slow tests/sim/test_load.py` runs 50 × 1,000.
"""
from __future__ import annotations

import random
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from decimal import Decimal

import httpx
import pytest
from serving import Served

from app import tokens
from app.soak import audit_database

CLIENTS = 50


def _client_work(url: str, name: str, key: str, commands: int, seed: int, results: dict, errors: list) -> None:
    """One client: its own user, then `commands` lines — money moves, orders, and retried ids."""
    rng = random.Random(seed)
    accepted: list[dict] = []
    answers: Counter = Counter()
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
        def send(line: dict) -> dict | None:
            try:
                response = client.post("/v1/commands", json=line)
            except httpx.HTTPError as error:
                errors.append(f"{name}: {error!r}")
                return None
            if "locked" in response.text or response.status_code >= 500:
                errors.append(f"{name}: {response.status_code} {response.text[:200]}")
                return None
            body = response.json()
            answers["accepted" if body.get("accepted") else body.get("code", "?")] += 1
            if body.get("accepted") and not body.get("duplicate"):
                accepted.append(line)
            return body

        for line in ({"do": "user", "name": name}, {"do": "deposit", "user": name, "amount": "1000", "id": "seed"},
                     {"do": "transfer", "user": name, "from": "funding", "to": "futures", "amount": "300",
                      "id": "seed-t"}):
            send(line)
        for number in range(commands):
            roll = rng.random()
            if roll < 0.3:
                line = {"do": "deposit", "user": name, "amount": str(rng.randint(1, 50))}
            elif roll < 0.45:
                line = {"do": "withdraw", "user": name, "amount": str(rng.randint(1, 80))}
            elif roll < 0.7:
                source, target = rng.choice((("funding", "futures"), ("futures", "funding")))
                line = {"do": "transfer", "user": name, "from": source, "to": target, "amount": str(rng.randint(1, 60))}
            else:
                line = {"do": "order", "user": name, "account": "futures", "symbol": "BTCUSDT",
                        "side": rng.choice(("buy", "sell")), "qty": rng.choice(("0.001", "0.002"))}
            line["id"] = f"n{number}"
            send(line)
            if rng.random() < 0.05:
                again = send(line)  # a retry with the same id is applied at most once
                if again is not None and again.get("accepted") and not again.get("duplicate"):
                    errors.append(f"{name}: id {line['id']} was applied twice")
    results[name] = {"accepted": accepted, "answers": answers}


def _run_load(tmp_path, monkeypatch, commands: int) -> dict:
    home = tmp_path
    prices = home / "prices.csv"
    prices.write_text("time,symbol,mark\n2026-01-05T00:00:00Z,BTCUSDT,50000\n")
    names = [f"client{index:02d}" for index in range(CLIENTS)]
    monkeypatch.setenv("COPYDESK_HOME", str(home))
    keys = {name: tokens.issue_or_show(name) for name in names}  # the token file the server reads
    server = Served(home, "--feed", f"replay:{prices}")
    db = home / "desk.db"
    results: dict = {}
    errors: list[str] = []
    stop_reading = threading.Event()
    reads = Counter()

    def reader() -> None:
        """Scans the file the whole time, as history screens and exports do."""
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            while not stop_reading.is_set():
                try:
                    conn.execute("SELECT count(*), coalesce(sum(amount), 0) FROM ledger").fetchone()
                    conn.execute("SELECT account, sum(balance) FROM wallets GROUP BY account").fetchall()
                    reads["ok"] += 1
                except sqlite3.OperationalError as error:
                    errors.append(f"reader: {error}")
                time.sleep(0.01)
        finally:
            conn.close()

    try:
        started = time.perf_counter()
        threads = [threading.Thread(target=_client_work, args=(server.url, name, keys[name], commands, index,
                                                               results, errors)) for index, name in enumerate(names)]
        scan = threading.Thread(target=reader)
        scan.start()
        for thread in threads:
            thread.start()
        # Meanwhile a second process tries to open the same database file.
        second = subprocess.run([sys.executable, "-m", "app.cli", "--db", str(db), "status"], capture_output=True,
                                text=True, timeout=60)
        for thread in threads:
            thread.join(600)
        elapsed = time.perf_counter() - started
        stop_reading.set()
        scan.join(30)
    finally:
        assert server.stop() == 0
    assert second.returncode == 3 and "already open in another Copydesk process" in second.stderr, second.stderr
    assert "Traceback" not in second.stderr
    assert not errors, errors[:10]
    assert "locked" not in server.stderr() and "Traceback" not in server.stderr(), server.stderr()
    assert len(results) == CLIENTS and reads["ok"] > 0

    conn = sqlite3.connect(db)
    try:
        audit_database(conn)
        journal = {row[0] for row in conn.execute("SELECT idem_id FROM journal WHERE idem_id IS NOT NULL")}
        balances = dict(conn.execute("SELECT account, balance FROM wallets"))
    finally:
        conn.close()
    # Every accepted command is in the journal, and the funding wallets add up to exactly what was accepted.
    expected = defaultdict(Decimal)
    total = 0
    for name, result in results.items():
        for line in result["accepted"]:
            if "id" in line:
                assert f"{name}/{line['id']}" in journal, (name, line)
            total += 1
            amount = Decimal(line.get("amount", "0"))
            if line["do"] == "deposit":
                expected[name] += amount
            elif line["do"] == "withdraw":
                expected[name] -= amount
            elif line["do"] == "transfer":
                expected[name] += amount if line["to"] == "funding" else -amount
        assert Decimal(balances[f"{name}:funding"]) / 10**8 == expected[name], name
    answers = sum((r["answers"] for r in results.values()), Counter())
    return {"clients": CLIENTS, "commands": sum(answers.values()), "accepted": total, "seconds": elapsed,
            "answers": dict(answers.most_common(6)), "reads": reads["ok"]}


def test_fifty_clients_at_once_lose_nothing(tmp_path, monkeypatch):
    figures = _run_load(tmp_path, monkeypatch, 200)
    print(f"\nload held: {figures}")


@pytest.mark.slow
def test_fifty_clients_times_a_thousand(tmp_path, monkeypatch):
    figures = _run_load(tmp_path, monkeypatch, 1000)
    print(f"\nload held: {figures}")
