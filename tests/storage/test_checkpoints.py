"""The WAL is copied into the database by a thread of the store's own, not inside a commit: a commit that
leaves the WAL past the limit wakes it, and the WAL starts over, cut back, once that copy caught up."""
import time
from decimal import Decimal

import storage.checkpoints as checkpoints
from engine.changes import Changes
from engine.ledger import Wallet
from storage.store import Store


def _commit_wallets(store: Store, count: int, balance: str) -> None:
    changes = Changes()
    for n in range(count):
        changes.save(Wallet(f"copier{n:05d}:copy", Decimal(balance)))
    store.commit(changes, {}, None)


def _wait_for(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


def test_a_commit_past_the_limit_is_copied_in_the_background_and_the_wal_starts_over(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoints, "BACKGROUND_BYTES", 256 * 1024)
    path = tmp_path / "desk.db"
    store = Store(path)
    wal = tmp_path / "desk.db-wal"
    database_before = path.stat().st_size
    _commit_wallets(store, 5000, "1")      # a few hundred KiB of pages: past the (lowered) limit
    assert wal.stat().st_size >= checkpoints.BACKGROUND_BYTES
    assert _wait_for(lambda: path.stat().st_size > database_before), "the wallets never reached the database"

    def starts_over() -> bool:             # the first write after the copy caught up: the file is cut back
        _commit_wallets(store, 1, "2")
        return wal.stat().st_size <= checkpoints.KEEP_BYTES
    assert _wait_for(starts_over)
    assert store.conn.execute("SELECT count(*), sum(balance) FROM wallets").fetchone() == (5000, 5001 * 10**8)
    store.close()
    again = Store(path)
    assert again.conn.execute("SELECT count(*), sum(balance) FROM wallets").fetchone() == (5000, 5001 * 10**8)
    again.close()


def test_below_the_limit_the_wal_waits_and_closing_stops_the_thread(tmp_path):
    path = tmp_path / "desk.db"
    store = Store(path)
    database_before = path.stat().st_size
    _commit_wallets(store, 100, "1")
    time.sleep(0.2)
    assert path.stat().st_size == database_before  # nothing copied yet: the WAL holds it
    thread = store._checkpoints._thread
    store.close()
    assert not thread.is_alive()
