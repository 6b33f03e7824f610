"""Group commit (`Desk.execute_many`, used by `copydesk replay`): lines applied one by one exactly as
`Desk.execute` applies them, committed together — the same state, journal and outcomes as one
transaction per line."""
import json
from pathlib import Path

import pytest

from app.replay import load_scenario
from engine.exchange import Exchange
from storage.desk import Desk

SCENARIOS = sorted((Path(__file__).parent.parent / "scenarios").glob("*.jsonl"))
IDS = [
    {"do": "user", "name": "alice"},
    {"do": "deposit", "user": "alice", "amount": "5000", "id": "dep-1"},
    {"do": "deposit", "user": "alice", "amount": "5000", "id": "dep-1"},  # the same id again, in the same group
    {"do": "transfer", "user": "alice", "from": "funding", "to": "copy", "amount": "1200.5"},
    {"do": "withdraw", "user": "alice", "amount": "99999", "at": "2026-01-07T00:00:00Z"},  # rejected, time passes
    {"do": "withdraw", "user": "alice", "amount": "99999"},  # rejected, nothing to journal
    {"do": "transfer", "user": "alice", "from": "copy", "to": "nowhere", "amount": "1"},  # a bad field
]


def journal(desk: Desk) -> list[tuple]:
    return desk.store.conn.execute("SELECT seq, idem_id, at_ms, command, status, code FROM journal").fetchall()


def summary(outcomes) -> list[tuple]:
    return [(o.accepted, o.code, o.duplicate, json.dumps(o.result, sort_keys=True, default=str)) for o in outcomes]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda path: path.stem)
def test_a_grouped_run_matches_one_transaction_per_line(tmp_path, scenario):
    lines = [line.command for line in load_scenario(scenario)] + IDS
    with Desk.open(tmp_path / "single.db") as single, Desk.open(tmp_path / "grouped.db") as grouped:
        one_by_one = [single.execute(line) for line in lines]
        in_groups = [o for start in range(0, len(lines), 7) for o in grouped.execute_many(lines[start:start + 7])]
        assert summary(in_groups) == summary(one_by_one)
        assert grouped.state_hash() == single.state_hash()
        assert journal(grouped) == journal(single)
        state = grouped.state_hash()
    with Desk.open(tmp_path / "grouped.db") as reopened:
        assert reopened.state_hash() == state


def test_a_group_that_cannot_be_written_fails_whole(tmp_path):
    with Desk.open(tmp_path / "g.db") as desk:
        desk.execute(IDS[0])
        state, before = desk.state_hash(), journal(desk)
        desk.store.conn.execute("PRAGMA query_only = ON")  # every write now fails
        outcomes = desk.execute_many(IDS[1:4])
        assert [o.code for o in outcomes] == ["STORAGE_READ_ONLY"] * 3
        desk.store.conn.execute("PRAGMA query_only = OFF")
        assert desk.state_hash() == state and journal(desk) == before
        assert desk.execute(IDS[1]).accepted  # the id was not spent by the failed group


def test_an_engine_error_in_a_group_keeps_every_line_before_it(tmp_path, monkeypatch):
    original = Exchange.execute

    def failing(exchange, envelope):
        if envelope.line.get("amount") == "13":
            raise RuntimeError("engine bug")
        return original(exchange, envelope)

    monkeypatch.setattr(Exchange, "execute", failing)
    lines = [IDS[0], IDS[1], {"do": "deposit", "user": "alice", "amount": "13"}, IDS[3]]
    with Desk.open(tmp_path / "e.db") as desk:
        with pytest.raises(RuntimeError, match="engine bug"):
            desk.execute_many(lines)
        assert [row[3] for row in journal(desk)] == [json.dumps(line, sort_keys=True, separators=(",", ":"))
                                                      for line in lines[:2]]
        state = desk.state_hash()
    with Desk.open(tmp_path / "e.db") as reopened:
        assert reopened.state_hash() == state
