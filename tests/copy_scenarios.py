"""Playing the copy-trading scenario files (tests/scenarios/copy_*.jsonl) in process, with the
invariants every copy scenario keeps checked after every line:

- a line with `expect_error` is rejected with that code and (without `at`) changes nothing;
  any other line is accepted (the `copydesk replay --strict` rule);
- the ledger sums to zero after every line;
- each lead fill reaches every copier that followed the lead before the line, exactly once.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from app.replay import load_scenario
from conftest import run
from engine.errors import Rejected
from engine.exchange import Exchange

SCENARIOS = Path(__file__).parent / "scenarios"
COPY_SCENARIOS = sorted(path.name for path in SCENARIOS.glob("copy_*.jsonl"))


@dataclass
class Played:
    exchange: Exchange
    snapshots: list[dict]          # each snapshot line's result, then the final snapshot
    rejected: list[tuple[int, str]]  # (line number, code) of the lines refused as expected
    lead_orders: list[tuple[str, str, list[str]]]  # (lead, lead order, copiers given an outcome)

    @property
    def final(self) -> dict:
        return self.snapshots[-1]

    def outcomes(self, *, kind: str | None = None, lead_order: str | None = None) -> list[dict]:
        """Every outcome the snapshots reported, in order, optionally of one kind or lead order."""
        found = [o for s in self.snapshots if "copy" in s for o in s["copy"]["outcomes"]]
        return [o for o in found if (kind is None or o["kind"] == kind)
                and (lead_order is None or o["lead_order"] == lead_order)]

    def notifications(self, user: str, kind: str | None = None) -> list[dict]:
        found = [n for s in self.snapshots for n in s.get("notifications", ())]
        return [n for n in found if n["user"] == user and (kind is None or n["kind"] == kind)]


def scenario_lines(name: str) -> list[dict]:
    """The commands of a scenario file, in order."""
    return [line.command for line in load_scenario(SCENARIOS / name)]


def play(name: str) -> Played:
    exchange = Exchange()
    snapshots: list[dict] = []
    rejected: list[tuple[int, str]] = []
    lead_orders: list[tuple[str, str, list[str]]] = []
    for line in load_scenario(SCENARIOS / name):
        command = line.command
        expected = command.get("expect_error")
        followers = {lead: set(profile.copiers) for lead, profile in exchange.leads.items()}
        before = exchange.state_hash()
        try:
            result = run(exchange, command)
        except Rejected as rejection:
            assert rejection.code == expected, f"{name} line {line.number}: {rejection.code}: {rejection.message}"
            if "at" not in command:
                assert exchange.state_hash() == before, f"{name} line {line.number}: a rejection changed the state"
            rejected.append((line.number, rejection.code))
            exchange.take_events()
            continue
        assert expected is None, f"{name} line {line.number}: expected {expected}, but it was accepted"
        if command["do"] == "snapshot":
            snapshots.append(result)
        for event in exchange.take_events():
            if isinstance(event, tuple) and event[0] == "lead_order":
                _, lead, lead_order, _fill, outcomes = event
                copiers = [outcome.copier for outcome in outcomes]
                assert sorted(copiers) == sorted(followers.get(lead, ())), \
                    f"{name} line {line.number}: {lead_order} reached {copiers}, followers {followers.get(lead)}"
                lead_orders.append((lead, lead_order, copiers))
        assert exchange.ledger_sum() == 0, f"{name} line {line.number}: the ledger sums to {exchange.ledger_sum()}"
    snapshots.append(run(exchange, {"do": "snapshot"}))
    played = Played(exchange, snapshots, rejected, lead_orders)
    assert played.final["ledger"]["sum"] == "0"
    per_fill = Counter((o["lead_order"], o["copier"]) for o in played.outcomes() if o["kind"] in ("open", "close"))
    assert set(per_fill.values()) <= {1}, f"{name}: a copier got more than one outcome for a lead fill"
    assert sum(per_fill.values()) == sum(len(copiers) for _, _, copiers in lead_orders)
    return played


def relation(snapshot: dict, copier: str, lead: str) -> dict:
    """The newest relation of copier → lead in a snapshot."""
    found = [r for r in snapshot["copy"]["relations"] if r["copier"] == copier and r["lead"] == lead]
    assert found, f"no relation {copier} → {lead}"
    return found[-1]


def position(snapshot: dict, user: str, account: str, symbol: str, lead: str | None = None) -> dict | None:
    for held in snapshot["users"][user][account]["positions"]:
        if held["symbol"] == symbol and held["lead"] == lead:
            return held
    return None


def lead_and_copier(lead_funds: str, copier: str, copy_funds: str, **follow) -> Exchange:
    """A fresh exchange with no spread or impact and BTCUSDT at 50,000: alice leads BTCUSDT with `lead_funds`
    in Elite, `copier` follows her with `copy_funds` in Copy and the `follow` settings."""
    exchange = Exchange()
    run(exchange, {"do": "config", "slippage_bps": "0", "impact_bps": "0"},
        {"do": "price", "symbol": "BTCUSDT", "mark": "50000"},
        {"do": "user", "name": "alice"}, {"do": "deposit", "user": "alice", "amount": lead_funds},
        {"do": "become_elite", "user": "alice", "symbols": ["BTCUSDT"]},
        {"do": "transfer", "user": "alice", "from": "funding", "to": "elite", "amount": lead_funds},
        {"do": "user", "name": copier}, {"do": "deposit", "user": copier, "amount": copy_funds},
        {"do": "transfer", "user": copier, "from": "funding", "to": "copy", "amount": copy_funds},
        {"do": "follow", "user": copier, "lead": "alice", **follow})
    return exchange
