"""Run `copydesk serve` as a subprocess for tests: tokens first, then the server on a free port."""
from __future__ import annotations

import os
import select
import subprocess
import sys
from pathlib import Path


def copydesk(*args: str, home: Path, timeout: float = 30) -> subprocess.CompletedProcess:
    env = {**os.environ, "COPYDESK_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "app.cli", *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


def token(home: Path, *who: str) -> str:
    done = copydesk("token", *who, home=home)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


class Served:
    """`copydesk serve --port 0` in a subprocess; `url` comes from its first stdout line."""

    def __init__(self, home: Path, *args: str, env: dict | None = None):
        self.home = home
        self.log = home / "serve-stderr.txt"
        with open(self.log, "w") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "app.cli", "serve", "--port", "0", "--db", str(home / "desk.db"), *args],
                stdout=subprocess.PIPE, stderr=stderr, text=True,
                env={**os.environ, "COPYDESK_HOME": str(home), **(env or {})})
        ready, _, _ = select.select([self.process.stdout], [], [], 20)
        first = self.process.stdout.readline() if ready else ""
        if not first.startswith("Copydesk API listening on http://127.0.0.1:"):
            self.stop()
            raise AssertionError(f"server did not start: {first!r} {self.stderr()}")
        self.url = first.split()[-1]

    def stderr(self) -> str:
        return self.log.read_text()

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process.stdout.close()
        return self.process.returncode
