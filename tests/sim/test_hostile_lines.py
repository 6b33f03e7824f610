"""Hostile command lines through Desk.execute and through `copydesk replay` files: every one gets a
code and a sentence (or an exit code and a message), never a traceback, and leaves the state as it was."""
from __future__ import annotations

import io
import json
import subprocess
import sys

from hostile import CODES, spoiled_lines, values
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.replay import replay
from storage.desk import Desk

WORLD = [
    {"do": "price", "symbol": "BTCUSDT", "mark": "50000"},
    {"do": "price", "symbol": "ETHUSDT", "mark": "3000"},
    {"do": "user", "name": "alice"},
    {"do": "deposit", "user": "alice", "amount": "20000"},
    {"do": "become_elite", "user": "alice", "symbols": ["BTCUSDT"]},
    {"do": "transfer", "user": "alice", "from": "funding", "to": "elite", "amount": "5000"},
    {"do": "user", "name": "bob"},
    {"do": "deposit", "user": "bob", "amount": "5000"},
    {"do": "transfer", "user": "bob", "from": "funding", "to": "futures", "amount": "3000"},
    {"do": "transfer", "user": "bob", "from": "funding", "to": "copy", "amount": "1000"},
    {"do": "order", "user": "bob", "account": "futures", "symbol": "BTCUSDT", "side": "buy", "qty": "0.01"},
    {"do": "order", "user": "bob", "account": "futures", "symbol": "BTCUSDT", "side": "buy", "type": "limit",
     "qty": "0.01", "price": "40000", "client_id": "x1"},
]
COUNTS: dict[str, int] = {}


def _journal_rows(desk: Desk) -> int:
    return desk.store.conn.execute("SELECT count(*) FROM journal").fetchone()[0]


def test_hostile_command_lines_get_a_code_and_change_nothing(tmp_path):
    tried = {"lines": 0, "rejected": 0}
    with Desk.open(tmp_path / "hostile.db") as desk:
        for line in WORLD:
            assert desk.execute(line).accepted, line

        @settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(spoiled_lines())
        def check(line):
            tried["lines"] += 1
            state, rows = desk.state_hash(), _journal_rows(desk)
            outcome = desk.execute(line)  # must not raise
            if outcome.accepted:
                return  # a spoiled optional field can still make a valid line
            tried["rejected"] += 1
            assert outcome.code in CODES, (line, outcome.code, outcome.message)
            assert isinstance(outcome.message, str) and len(outcome.message) > 5
            if not isinstance(line, dict) or "at" not in line:
                assert desk.state_hash() == state, (line, outcome.code)
                assert _journal_rows(desk) == rows, (line, outcome.code)

        check()
        # The desk still loads from its file as the same state after all that.
        state = desk.state_hash()
    with Desk.open(tmp_path / "hostile.db") as desk:
        assert desk.state_hash() == state
    COUNTS["Desk.execute lines"] = tried["lines"]
    print(f"\nhostile inputs tried: Desk.execute command lines {tried['lines']} ({tried['rejected']} rejected)")


def _scenario_text(draw_lines: list) -> str:
    out = []
    for item in draw_lines:
        if isinstance(item, str):
            out.append(item)
        else:
            try:
                out.append(json.dumps(item, allow_nan=True))
            except (ValueError, TypeError, RecursionError):
                out.append(repr(item))
    return "\n".join(out)


raw_lines = st.one_of(
    spoiled_lines(),
    values,
    st.text(max_size=200),
    st.sampled_from(["{", "}", "[" * 50000 + "]" * 50000, "{\"do\": " * 30000, "\"\\ud800\"", "1" * 5000,
                     "{\"do\": \"user\", \"name\": \"x\", \"name\": \"y\"}", "// comment", "   ", "\x00",
                     "{\"do\": \"price\", \"symbol\": \"BTCUSDT\", \"mark\": NaN}", "\ufeff{\"do\": \"snapshot\"}"]),
)


def test_hostile_scenario_files_exit_cleanly(tmp_path):
    tried = {"files": 0}

    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(st.lists(raw_lines, min_size=1, max_size=6), st.booleans(), st.sampled_from(["utf-8", "latin-1", "bytes"]))
    def check(lines, strict, encoding):
        tried["files"] += 1
        path = tmp_path / "hostile.jsonl"
        text = _scenario_text(lines)
        if encoding == "bytes":
            path.write_bytes(b"\xff\xfe" + text.encode("utf-8", "surrogatepass"))
        else:
            path.write_bytes(text.encode(encoding, "surrogatepass" if encoding == "utf-8" else "replace"))
        out, err = io.StringIO(), io.StringIO()
        code = replay(path, None, strict, out, err)  # must not raise
        assert code in (0, 1, 2)
        if code == 2:
            assert err.getvalue().startswith("copydesk replay: ") and len(err.getvalue()) > 20
        else:
            for emitted in out.getvalue().splitlines():
                record = json.loads(emitted)
                if "rejected" in record:
                    assert record["rejected"]["code"] in CODES, record

    check()
    # A few through the real command line.
    bad = {"deep.jsonl": "[" * 100000, "binary.jsonl": "\udcff\udcfe\x00", "huge-int.jsonl": "1" * 5000,
           "nan.jsonl": '{"do": "price", "symbol": "BTCUSDT", "mark": NaN}',
           "mixed.jsonl": '{"do": "user", "name": "a"}\n{"do": "deposit", "user": "a", "amount": "1e400"}\n'}
    for name, text in bad.items():
        path = tmp_path / name
        path.write_bytes(text.encode("utf-8", "surrogateescape"))
        done = subprocess.run([sys.executable, "-m", "app.cli", "replay", str(path), "--strict"], capture_output=True,
                              text=True, timeout=60)
        assert done.returncode in (1, 2), (name, done.returncode, done.stderr)
        assert "Traceback" not in done.stderr, (name, done.stderr)
        # Exit 2 says why on stderr; exit 1 (--strict) lists the rejected lines, each with code and sentence.
        assert done.stderr.strip() if done.returncode == 2 else '"rejected"' in done.stdout, (name, done.stdout)
        tried["files"] += 1
    COUNTS["replay files"] = tried["files"]
    print(f"\nhostile inputs tried: copydesk replay files {tried['files']}")
