"""One process owns a database file. A second one gets a clear message, not a stack trace."""
from __future__ import annotations

import os
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows has no flock; the lock is then advisory only
    fcntl = None


class DatabaseInUse(Exception):
    pass


class ProcessLock:
    """An exclusive, non-blocking flock on `<db>.lock`, released when the process exits (even by SIGKILL)."""

    def __init__(self, db_path: Path) -> None:
        self.path = Path(str(db_path) + ".lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                owner = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
                os.close(fd)
                raise DatabaseInUse(
                    f"{self.path.with_suffix('')} is already open in another Copydesk process (pid {owner}). "
                    "Close that one, or run `copydesk serve` there and connect with `copydesk --connect URL`."
                ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
