"""The seeded soak (app/soak.py): random but valid-looking lines over many users through a real desk,
with the invariants checked after every step. Four seeds × 5,000 steps run in the normal suite;
`pytest -m slow tests/sim/test_soak.py` runs ten seeds × 20,000 more. A failing seed is reproduced by
the command line the failure prints: `copydesk soak --steps N --seed S`."""
from __future__ import annotations

import io
import subprocess
import sys

import pytest

import app.soak as soak
from app.soak import Generator, run_soak

CI_SEEDS = (1, 2, 3, 4)
CI_STEPS = 5_000


def _check(steps: int, seed: int) -> soak.SoakReport:
    report = run_soak(steps, seed)
    assert report.failure is None, (f"{report.failure} at step {report.failed_step}: {report.failed_line}\n"
                                    f"reproduce: {soak.command_line(report.failed_step, seed)}")
    assert report.steps == steps
    return report


@pytest.mark.parametrize("seed", CI_SEEDS)
def test_soak_keeps_every_invariant(seed):
    report = _check(CI_STEPS, seed)
    # The mix really exercises the desk: trades, fan-outs, liquidations, rejections, reopen and replay.
    assert report.fills > 500 and report.lead_orders > 30 and report.outcomes > 100
    assert report.liquidations > 10 and sum(report.rejected.values()) > 500
    assert set(report.accepted) >= {"order", "close", "reverse", "cancel", "margin", "leverage", "transfer",
                                    "deposit", "withdraw", "follow", "update_follow", "unfollow", "become_elite",
                                    "advance", "price", "funding_rate", "tp_sl"}
    assert report.reopens == CI_STEPS // 500 and report.replays > CI_STEPS // 250
    print(f"\nsoak seed {seed}: {report.steps} steps in {report.seconds:.1f} s, {report.fills} fills, "
          f"{report.lead_orders} lead orders, {report.outcomes} copier outcomes, {report.liquidations} liquidations")


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(100, 110))
def test_long_soak(seed):
    _check(20_000, seed)


def test_the_generator_is_deterministic():
    from storage.desk import Desk

    def lines(tmp) -> list[dict]:
        generator, out = Generator(11), []
        with Desk.open(tmp) as desk:
            for _ in range(400):
                line = generator.next_line(desk.exchange)
                out.append(line)
                desk.execute(dict(line))
        return out

    import tempfile
    from pathlib import Path
    with tempfile.TemporaryDirectory() as scratch:
        assert lines(Path(scratch) / "a.db") == lines(Path(scratch) / "b.db")


def test_a_broken_invariant_names_the_step_and_the_command_to_reproduce_it(monkeypatch):
    real = soak.Checker.after
    calls = {"n": 0}

    def after(self, line, outcome, before):
        calls["n"] += 1
        if calls["n"] == 137:
            raise soak.InvariantBroken("ledger_zero", "the ledger sums to 0.00000001 (injected)")
        return real(self, line, outcome, before)

    monkeypatch.setattr(soak.Checker, "after", after)
    out, err = io.StringIO(), io.StringIO()
    assert soak.main(500, 9, None, out, err) == 1
    text = err.getvalue()
    assert "INVARIANT BROKEN at step 137: ledger_zero" in text
    assert "reproduce: copydesk soak --steps 137 --seed 9" in text
    assert "line: {" in text


def test_the_soak_command_line():
    done = subprocess.run([sys.executable, "-m", "app.cli", "soak", "--steps", "600", "--seed", "5"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("soak: 600 steps, seed 5") and "ok: 600 steps" in done.stdout
