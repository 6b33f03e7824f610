import os
import sqlite3
import subprocess
import sys

from storage.schema import LATEST


def copydesk(*args, home, timeout=60):
    env = {**os.environ, "COPYDESK_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "app.cli", *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


def test_run_streams_the_simulated_market_into_the_data_dir(tmp_path):
    done = copydesk("run", "--seconds", "2.5", "--speed", "30", home=tmp_path)
    assert done.returncode == 0, done.stderr
    strips = [line for line in done.stdout.splitlines() if "BTC " in line]
    assert len(strips) >= 2 and "ledger sum 0" in strips[-1]
    db = tmp_path / "copydesk.db"
    marks = dict(sqlite3.connect(db).execute("SELECT symbol, mark FROM markets"))
    assert set(marks) == {"BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "DOGEUSDT"}
    again = copydesk("status", home=tmp_path)
    assert again.returncode == 0 and "Ledger sum: 0" in again.stdout


def test_bad_arguments_get_a_sentence_not_a_traceback(tmp_path):
    for args in (["--speed", "-1"], ["--speed", "abc"], ["replay"], ["run", "--seconds", "nan"], ["frobnicate"],
                 ["demo", "--copiers", "-5"]):
        done = copydesk(*args, home=tmp_path)
        assert done.returncode == 2, args
        assert "Traceback" not in done.stderr and "copydesk" in done.stderr


def test_status_on_an_older_database_says_it_upgrades_it_first(tmp_path):
    made = copydesk("status", home=tmp_path)
    assert made.returncode == 0 and made.stderr == ""
    conn = sqlite3.connect(tmp_path / "copydesk.db")
    conn.execute(f"PRAGMA user_version = {LATEST - 1}")  # the last migration is rerunnable (tests/storage)
    conn.close()
    done = copydesk("status", home=tmp_path)
    assert done.returncode == 0 and "Ledger sum: 0" in done.stdout
    assert done.stderr == (f"copydesk: upgrading the database from schema {LATEST - 1} to {LATEST}, once; a large "
                           "desk takes a minute or so\n")
    assert copydesk("status", home=tmp_path).stderr == ""
