"""Large writes are copied from the WAL into the database by a thread of the store's own, not inside a later
commit: once commits wrote enough rows (and the WAL file has been as large as the inline limit) it is woken,
and when it caught up the next write starts the WAL over."""
import sqlite3
import time
from pathlib import Path

import pytest

import storage.checkpoints as checkpoints
from storage.checkpoints import Checkpointer
from storage.store import Store


class Writer:
    """A WAL database that never checkpoints itself, so only the checkpointer under test copies anything."""

    def __init__(self, path: Path, full_bytes: int) -> None:
        self.path = path
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("PRAGMA wal_autocheckpoint = 0")
        self.conn.execute("CREATE TABLE fills (seq INTEGER PRIMARY KEY, account TEXT NOT NULL)")
        self.checkpoints = Checkpointer(path, full_bytes)
        self.written = 0

    def commit(self, rows: int) -> None:
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.executemany("INSERT INTO fills (account) VALUES (?)", [(f"c{n:05d}:copy",) for n in range(rows)])
        self.conn.execute("COMMIT")
        self.written += rows
        self.checkpoints.committed(rows)

    def database_size(self) -> int:
        return self.path.stat().st_size

    def close(self) -> None:
        self.checkpoints.close()
        self.conn.close()


@pytest.fixture
def rows_limit(monkeypatch):
    monkeypatch.setattr(checkpoints, "BACKGROUND_ROWS", 5000)


def _wait_for(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


def test_large_writes_are_copied_in_the_background_and_the_wal_starts_over(tmp_path, rows_limit):
    writer = Writer(tmp_path / "desk.db", full_bytes=64 * 1024)
    before = writer.database_size()
    writer.commit(3000)                    # 3,000 rows: not yet
    time.sleep(0.2)
    assert writer.database_size() == before
    writer.commit(3000)                    # 6,000: the thread copies them
    assert _wait_for(lambda: writer.database_size() > before), "the rows never reached the database"
    probe = sqlite3.connect(writer.path)

    def starts_over() -> bool:             # the first write after the copy caught up begins the WAL anew
        writer.commit(1)
        return probe.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1] < 5  # frames in the WAL
    assert _wait_for(starts_over)
    assert probe.execute("SELECT count(*) FROM fills").fetchone() == (writer.written,)
    probe.close()
    writer.close()


def test_nothing_is_copied_before_the_wal_file_was_once_full(tmp_path, rows_limit):
    writer = Writer(tmp_path / "desk.db", full_bytes=1 << 30)
    before = writer.database_size()
    writer.commit(6000)
    time.sleep(0.2)
    assert writer.database_size() == before  # a new desk: the inline checkpoint copies its first 40 MB
    writer.close()


def test_closing_the_store_stops_its_thread(tmp_path):
    store = Store(tmp_path / "desk.db")
    thread = store._checkpoints._thread
    assert thread.is_alive()
    store.close()
    assert not thread.is_alive()
