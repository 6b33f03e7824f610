"""`copydesk bench --quick --json` runs end to end and prints the figures the issue asks for.

Shape only: timings depend on the machine, so no figure is checked against its target here."""
import json
import os
import subprocess
import sys

SHAPE = {
    "fanout": {"copiers", "median_ms", "baseline_ms", "ratio"},
    "fanout_1k": {"copiers", "median_ms", "baseline_ms", "ratio"},
    "tick": {"positions", "idle_median_us", "liquidating_1pct_ms"},
    "replay": {"commands", "per_second"},
    "startup": {"copiers", "first_frame_ms"},
    "memory": {"rss_mb"},
    "ui": {"copiers", "keypress_ms"},
}


def test_quick_bench_prints_every_figure_as_json(tmp_path):
    env = {**os.environ, "COPYDESK_HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "app.cli", "bench", "--quick", "--json"], capture_output=True,
                          text=True, timeout=240, env=env)
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    for figure, keys in SHAPE.items():
        assert keys <= set(results[figure]), figure
        for key in keys:
            value = results[figure][key]
            assert isinstance(value, (int, float)) and value > 0, (figure, key, value)
    assert results["fanout"]["copiers"] > results["fanout_1k"]["copiers"]
    fanout = results["fanout"]  # untimed first rounds, reported apart from the timed ones
    assert len(fanout["warmup_ms"]) == 1 and fanout["lead_orders"] == 2 * (1 + fanout["runs"])
    assert results["tick"]["liquidated"] > 0  # the liquidating tick did liquidate
    assert list(tmp_path.iterdir()) == []  # scratch databases live in a temporary folder, not the data dir
