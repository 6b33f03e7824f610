"""Checkpoints in the background: the WAL is copied into the database by a thread of its own, so no command
waits for it.

SQLite checkpoints inside whichever commit takes the WAL past `wal_autocheckpoint` pages: a fan-out to 10,000
copiers committed in about 210 ms, and in 355–465 ms every third lead order or so, when its commit also
copied 40 MB into the database and fsynced it. Here, a commit that leaves the WAL file past `BACKGROUND_BYTES`
wakes a thread that runs a PASSIVE checkpoint on its own connection: it copies what was committed while the
engine goes on (sqlite3 lets go of the GIL while SQLite works), and never blocks the writer or a reader.

- The WAL starts over from its beginning at the first write after a checkpoint that caught up with it, and
  `journal_size_limit` then cuts the file back, so its size says how much is waiting to be copied.
- A writer that never pauses long enough for a checkpoint to catch up would grow the WAL without end: the
  writer's own `wal_autocheckpoint`, at `SAFETY_PAGES`, still checkpoints inline then (what is left of it).
- A checkpoint that fails (a full disk) loses nothing: the WAL holds every commit until one succeeds, and
  the next commit past the limit asks again.
"""
from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

BACKGROUND_BYTES = 40 * 1024 * 1024   # the WAL copied once this large (the 10,000 pages it was inline, at 4 KiB)
KEEP_BYTES = 4 * 1024 * 1024          # journal_size_limit: what a restarted WAL file is cut back to
SAFETY_PAGES = 40_000                 # the writer's wal_autocheckpoint (160 MB at 4 KiB pages)


class Checkpointer:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._wal = Path(f"{path}-wal")
        self._wake = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name=f"checkpoint {path.name}", daemon=True)
        self._thread.start()

    def after_commit(self) -> None:
        """Wake the thread if the WAL has grown past the limit (one stat call: a microsecond or two)."""
        try:
            size = self._wal.stat().st_size
        except OSError:
            return
        if size >= BACKGROUND_BYTES:
            self._wake.set()

    def close(self) -> None:
        self._stopping = True
        self._wake.set()
        self._thread.join()

    def _run(self) -> None:
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        try:
            while True:
                self._wake.wait()
                self._wake.clear()
                if self._stopping:
                    return
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error:
                    pass  # see above: nothing is lost, and the next commit past the limit asks again
        finally:
            conn.close()
