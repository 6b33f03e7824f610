"""Hostile command-line arguments: every bad invocation gets a sentence and an exit code (2 for a bad
argument, 3 for a file that cannot be used), never a traceback. Generated argument lists run
in-process through `app.cli.main`; a sample runs as real `copydesk` subprocesses.

Every generated list is invalid by construction (a value outside what the option takes), so none of
them starts the workstation, the server or an endless run."""
from __future__ import annotations

import contextlib
import io
import math
import os
import signal
import subprocess
import sys

import pytest
from hostile import NASTY_TEXT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.cli import main
from engine.accounts import check_user_name
from engine.errors import Rejected

COMMANDS = {"replay", "status", "run", "screenshots", "demo", "serve", "token", "soak", "bench"}


def _int_in(text: str, low: int, high: int) -> bool:
    try:
        return low <= int(text) <= high
    except ValueError:
        return False


def _float_ok(text: str, low: float, high: float, *, open_low: bool = False) -> bool:
    try:
        value = float(text)
    except ValueError:
        return False
    return math.isfinite(value) and (low < value if open_low else low <= value) and value <= high


def _is_user_name(text: str) -> bool:
    try:
        check_user_name(text)
        return True
    except Rejected:
        return False


def _bad_paths(tmp) -> list[str]:
    (tmp / "a-dir").mkdir(exist_ok=True)
    (tmp / "not-a-db.db").write_text("hello, not sqlite")
    (tmp / "random.db").write_bytes(os.urandom(3000))
    return [str(tmp / "a-dir"), str(tmp / "not-a-db.db"), str(tmp / "random.db"), str(tmp / "not-a-db.db" / "x.db"),
            str(tmp / ("n" * 300)), "/proc/copydesk.db"]


text = st.one_of(st.sampled_from([t for t in NASTY_TEXT if "\x00" not in t and len(t) < 5000]),
                 st.text(max_size=30).filter(lambda t: "\x00" not in t))


def bad_argv(paths: list[str], scenario: str):
    """Strategies of argument lists that must each be refused."""
    nan_like = text.filter(lambda t: not t.startswith("-") or not _float_ok(t, -1e9, 1e9))
    return st.one_of(
        st.tuples(st.just("soak"), st.just("--steps"), text.filter(lambda t: not _int_in(t, 1, 10_000_000))),
        st.tuples(st.just("soak"), st.just("--seed"), text.filter(lambda t: not _int_in(t, -10**5000, 10**5000))),
        st.tuples(st.just("soak"), st.just("--steps"), st.just("3"), st.just("--db"), st.sampled_from(paths)),
        st.tuples(st.just("run"), st.just("--seconds"), text.filter(lambda t: not _float_ok(t, 0, math.inf))),
        st.tuples(st.just("run"), st.just("--speed"), text.filter(lambda t: not _float_ok(t, 0, 10_000, open_low=True)),
                  st.just("--seconds"), st.just("0")),
        st.tuples(st.just("--db"), st.sampled_from(paths), st.just("run"), st.just("--seconds"), st.just("0")),
        st.tuples(st.just("demo"), st.just("--copiers"), text.filter(lambda t: not _int_in(t, 0, 100_000))),
        st.tuples(st.just("demo"), st.just("--speed"), nan_like.filter(lambda t: not _float_ok(t, 0, 10_000, open_low=True))),
        st.tuples(st.just("serve"), st.just("--port"), text.filter(lambda t: not _int_in(t, 0, 65535))),
        st.tuples(st.just("serve"), st.just("--port"), st.just("0"), st.just("--feed"),
                  text.map(lambda t: "replay:/nonexistent/" + t) | text.filter(lambda t: t not in ("simulated", "live"))
                  .map(lambda t: t if not t.startswith("replay:") else "replay:/nonexistent/x")),
        st.tuples(st.just("--db"), st.sampled_from(paths), st.just("serve"), st.just("--port"), st.just("0")),
        st.tuples(st.just("--db"), st.sampled_from(paths), st.just("status")),
        st.tuples(st.just("token"), text.filter(lambda t: not _is_user_name(t) and not t.startswith("-"))),
        st.tuples(st.just("replay"), st.sampled_from(paths + ["/nonexistent.jsonl"])),
        st.tuples(st.just("replay"), st.just(scenario), st.just("--db"), st.sampled_from(paths[:3])),
        st.tuples(st.just("screenshots"), st.just("--out"), st.sampled_from(paths[1:4])),
        st.tuples(text.filter(lambda t: t not in COMMANDS and not t.startswith("-"))),
        st.tuples(st.sampled_from(sorted(COMMANDS)), st.just("--no-such-option")),
    ).map(list)


@contextlib.contextmanager
def _watchdog(argv, seconds: int = 20):
    """A valid invocation would start something that runs until stopped: fail instead of hanging."""
    def expired(_signum, _frame):
        raise AssertionError(f"copydesk {argv} was not refused: it is still running after {seconds} s")
    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_hostile_cli_arguments_in_process(tmp_path, monkeypatch):
    monkeypatch.setenv("COPYDESK_HOME", str(tmp_path / "home"))
    paths = _bad_paths(tmp_path)
    scenario = tmp_path / "ok.jsonl"
    scenario.write_text('{"do": "user", "name": "a"}\n')
    tried = {"n": 0}

    @settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(bad_argv(paths, str(scenario)))
    def check(argv):
        tried["n"] += 1
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), _watchdog(argv):
            try:
                code = main(argv)
            except SystemExit as stop:  # argparse's own refusals
                code = stop.code
        assert code in (2, 3), (argv, code, err.getvalue())
        assert "copydesk" in err.getvalue() and "Traceback" not in err.getvalue(), (argv, err.getvalue())

    check()
    print(f"\nhostile inputs tried: CLI argument lists in-process {tried['n']}")


@pytest.mark.parametrize("argv", [
    ["--db", "{dir}", "status"], ["--db", "{dir}/not-a-db.db", "status"], ["--db", "{dir}/random.db", "serve"],
    ["--db", "{dir}/not-a-db.db/x.db", "status"], ["--db", "/proc/copydesk.db", "status"],
    ["soak", "--steps", "0"], ["soak", "--steps", "1e3"], ["soak", "--steps", "5", "--db", "{dir}/not-a-db.db"],
    ["run", "--seconds", "inf"], ["run", "--seconds", "nan"], ["serve", "--port", "-1"],
    ["serve", "--port", "0", "--feed", "replay:{dir}/random.db"], ["token", "../etc/passwd"], ["demo", "--copiers", "1e9"],
    ["screenshots", "--out", "{dir}/not-a-db.db"], ["replay", "{dir}"], ["bogus"], ["--speed", "nan"],
])
def test_hostile_cli_arguments_as_subprocesses(tmp_path, argv):
    _bad_paths(tmp_path)
    argv = [arg.replace("{dir}", str(tmp_path)) for arg in argv]
    done = subprocess.run([sys.executable, "-m", "app.cli", *argv], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "COPYDESK_HOME": str(tmp_path / "home")})
    assert done.returncode in (2, 3), (argv, done.returncode, done.stderr)
    assert "Traceback" not in done.stderr and done.stderr.strip().splitlines()[-1].startswith("copydesk"), done.stderr


@pytest.mark.parametrize("value", ["OFF", "fast", "\u00e9"])
def test_a_bad_durability_setting_is_refused_with_a_sentence(tmp_path, value):
    scenario = tmp_path / "ok.jsonl"
    scenario.write_text('{"do": "user", "name": "a"}\n')
    done = subprocess.run([sys.executable, "-m", "app.cli", "--db", str(tmp_path / "d.db"), "replay", str(scenario)],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "COPYDESK_HOME": str(tmp_path / "home"), "COPYDESK_SYNCHRONOUS": value})
    assert done.returncode == 3, done.stderr
    assert done.stderr.startswith("copydesk: COPYDESK_SYNCHRONOUS must be FULL or NORMAL")
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "d.db").exists()
