"""Checkpoints in the background after large writes: a thread of the store's own copies the WAL into the
database while the engine goes on, so a fan-out's commit does not wait for it.

SQLite checkpoints inside whichever commit takes the WAL past `wal_autocheckpoint` pages: a fan-out to 10,000
copiers committed in about 210 ms, and in 355–465 ms every third lead order or so, when its commit also
copied 40 MB into the database and fsynced it. Here, once the commits since the last checkpoint wrote
`BACKGROUND_ROWS` rows, a thread runs a PASSIVE checkpoint on its own connection (sqlite3 lets go of the GIL
while SQLite works, and a PASSIVE checkpoint blocks neither the writer nor a reader). When it has caught up,
the next write starts the WAL over from its beginning, so the inline limit is not reached.

- Rows say when, not the WAL's size: a commit knows what it wrote, and the WAL file keeps its largest size
  when it starts over, so its size says nothing then. Small commands are left to the inline checkpoint: a
  checkpoint that never catches up between commits (a replay commits every few milliseconds) would only
  copy pages that are written again and again.
- Not before the WAL file has once been as large as the inline limit (a new desk's first 40 MB): started
  over early, a shorter file would grow again under small commits, and a commit that lengthens the file
  fsyncs its size too — that doubled a price tick's commit (235 → 500 µs) after a large world was built.
- A checkpoint that fails (a full disk) loses nothing: the WAL holds every commit until one succeeds.
"""
from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

BACKGROUND_ROWS = 50_000  # about 11 MB of WAL in a fan-out's tables: a 10,000-copier lead order writes 60,000 rows


class Checkpointer:
    def __init__(self, path: Path, full_bytes: int) -> None:
        """`full_bytes`: the WAL's size at the inline checkpoint's limit (see above)."""
        self._path = path
        self._wal = Path(f"{path}-wal")
        self._full_bytes = full_bytes
        self._grown = False
        self._rows = 0
        self._wake = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name=f"checkpoint {path.name}", daemon=True)
        self._thread.start()

    def committed(self, rows: int) -> None:
        """Count a commit's rows; wake the thread once they add up to `BACKGROUND_ROWS`."""
        self._rows += rows
        if self._rows >= BACKGROUND_ROWS:
            self._rows = 0
            if not self._grown:
                try:
                    self._grown = self._wal.stat().st_size >= self._full_bytes
                except OSError:
                    return
            if self._grown:
                self._wake.set()

    def close(self) -> None:
        self._stopping = True
        self._wake.set()
        self._thread.join()

    def _run(self) -> None:
        try:
            conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error:
            return  # the inline checkpoint remains
        try:
            while True:
                self._wake.wait()
                self._wake.clear()
                if self._stopping:
                    return
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error:
                    pass  # see above: nothing is lost, and the inline checkpoint remains
        finally:
            conn.close()
