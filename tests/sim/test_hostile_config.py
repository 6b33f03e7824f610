"""Hostile config files: keymap.json (read by the workstation) and tokens.json (read by the server and
`copydesk token`). Malformed, oversized, wrong-typed or binary files get a sentence — a warning on the
screen, a JSON error from the server, an exit code — never a crash, and a broken token file is never
overwritten."""
from __future__ import annotations

import os
import subprocess
import sys

import httpx
from hostile import encoded, values
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from serving import Served
from station import until

from app import tokens
from app.keymap import load_keymap

SETTINGS = settings(deadline=None, suppress_health_check=list(HealthCheck), database=None)


contents = st.one_of(
    values, st.binary(max_size=300),
    st.dictionaries(st.text(max_size=70), values, max_size=5),
    st.dictionaries(st.sampled_from(["tokens", "order.buy", "@operator", "alice"]),
                    st.one_of(values, st.dictionaries(st.text(max_size=10), values, max_size=3)), max_size=3),
    st.sampled_from([b"", b"[" * 100000, b"{" * 50000, b"\xef\xbb\xbf{}", b"\x00" * 100, b"x" * (70 * 1024),
                     b'{"tokens": {"alice": "\\ud800"}}', b'{"tokens": {"alice": 5}}', b'{"tokens": []}',
                     b'{"order.buy": "\\ud800"}', b'{"order.buy": ""}', b'{"order.buy": "b", "x": null}']),
)


def test_hostile_keymap_files_are_ignored_with_a_sentence(tmp_path):
    tried = {"n": 0}
    path = tmp_path / "keymap.json"

    @settings(SETTINGS, max_examples=300)
    @given(contents)
    def check(item):
        tried["n"] += 1
        path.write_bytes(encoded(item))
        keymap, problem = load_keymap(path)  # never raises
        if problem is None:
            assert all(isinstance(k, str) and isinstance(v, str) for k, v in keymap.items())
        else:
            assert keymap == {} and len(problem) > 10

    check()
    os.mkdir(tmp_path / "dir.json")
    assert load_keymap(tmp_path / "dir.json")[1].startswith("cannot read")
    print(f"\nhostile inputs tried: keymap.json files {tried['n'] + 1}")


async def test_the_workstation_starts_with_a_hostile_keymap(service, tmp_path, monkeypatch):
    from app.desk_link import DeskLink
    from app.workstation import Workstation
    monkeypatch.setenv("COPYDESK_HOME", str(tmp_path))
    for content in (b"[1, 2]", b'{"order.buy": 5}', b"[" * 100000, b"\xff\xfe", b'{"order.buy": "b"}'):
        (tmp_path / "keymap.json").write_bytes(content)
        app = Workstation(DeskLink(service, "trader"))
        async with app.run_test(size=(220, 60)) as pilot:
            await until(pilot, lambda: app.view is not None)
            warned = any("keymap.json ignored" in str(n.message) for n in app._notifications)
            assert warned == (content != b'{"order.buy": "b"}'), content[:40]


def test_hostile_token_files_get_a_sentence_and_are_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("COPYDESK_HOME", str(tmp_path))
    path = tmp_path / "tokens.json"
    tried = {"n": 0}

    @settings(SETTINGS, max_examples=300)
    @given(contents, st.text(max_size=50))
    def check(item, offered):
        tried["n"] += 1
        raw = encoded(item)
        path.write_bytes(raw)
        try:
            holder = tokens.user_for(offered)
            assert holder is None or isinstance(holder, str)
        except tokens.TokenError as error:
            assert "token file" in str(error)
        try:
            tokens.issue_or_show("alice")
        except tokens.TokenError as error:
            assert "token file" in str(error) or "user names" in str(error)
            assert path.read_bytes() == raw  # a file it cannot read is never overwritten

    check()
    print(f"\nhostile inputs tried: tokens.json files {tried['n']}")


def test_a_server_with_a_broken_token_file_answers_with_a_json_error(tmp_path):
    server = Served(tmp_path)
    try:
        for broken in (b"[" * 100000, b'{"tokens": {"alice": 5}}', b"\xff\xfe", b""):
            (tmp_path / "tokens.json").write_bytes(broken)
            answer = httpx.post(f"{server.url}/v1/commands", json={"do": "snapshot"},
                                headers={"Authorization": "Bearer whatever"}, timeout=10)
            assert answer.status_code == 500 and answer.json()["error"]["code"] == "TOKENS_UNREADABLE", answer.text
        done = subprocess.run([sys.executable, "-m", "app.cli", "token", "alice"], capture_output=True, text=True,
                              timeout=60, env={**os.environ, "COPYDESK_HOME": str(tmp_path)})
        assert done.returncode == 2 and "token file" in done.stderr and "Traceback" not in done.stderr
        assert (tmp_path / "tokens.json").read_bytes() == b""
    finally:
        assert server.stop() == 0
    assert "Traceback" not in server.stderr(), server.stderr()
