"""The engine service: one thread owns the desk (and its SQLite connection); everyone else talks to
it through futures. The workstation, the API server and the demo bots all use it, so the UI's event
loop never runs engine work and commands from many sources are applied one at a time, in order."""
from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from engine.config import EngineConfig
from storage.desk import Desk, Outcome

Listener = Callable[[dict, Outcome], None]
_STOP = object()


class DeskService:
    def __init__(self, path: Path | str, *, start_ms: int | None = None, config: EngineConfig | None = None,
                 lock: bool = True, notice: Callable[[str], None] | None = None) -> None:
        self._path = Path(path)
        self._notice = notice
        self._start_ms = start_ms
        self._config = config
        self._lock = lock
        self._queue: queue.Queue = queue.Queue()
        self._listeners: list[Listener] = []
        self._thread: threading.Thread | None = None
        self._ready: Future = Future()
        self.desk: Desk | None = None

    # --- life cycle ----------------------------------------------------------------------------

    def start(self) -> "DeskService":
        """Open the desk on the engine thread; raises here (DatabaseInUse, StorageError) if it cannot."""
        self._thread = threading.Thread(target=self._run, name="copydesk-engine", daemon=True)
        self._thread.start()
        self._ready.result()
        return self

    def stop(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join(timeout=30)

    def __enter__(self) -> "DeskService":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _run(self) -> None:
        try:
            self.desk = Desk.open(self._path, self._config, lock=self._lock, start_ms=self._start_ms,
                                  notice=self._notice)
        except BaseException as error:  # reported to start()'s caller
            self._ready.set_exception(error)
            return
        self._ready.set_result(True)
        try:
            while True:
                item = self._queue.get()
                if item is _STOP:
                    break
                future, work = item
                if future.set_running_or_notify_cancel():
                    try:
                        future.set_result(work(self.desk))
                    except BaseException as error:
                        future.set_exception(error)
        finally:
            self.desk.close()

    # --- talking to the engine -----------------------------------------------------------------

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """`listener(line, outcome)` runs on the engine thread after every command: keep it quick."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def call(self, work: Callable[[Desk], Any]) -> Future:
        """Run `work(desk)` on the engine thread (a query or a view); its result arrives in the future."""
        future: Future = Future()
        self._queue.put((future, work))
        return future

    def submit(self, line: dict) -> Future:
        """Execute one command line; the future holds its Outcome."""
        return self.call(lambda desk: self._execute(desk, line))

    def execute(self, line: dict, timeout: float | None = 30) -> Outcome:
        return self.submit(line).result(timeout)

    def _execute(self, desk: Desk, line: dict) -> Outcome:
        outcome = desk.execute(line)
        for listener in list(self._listeners):
            listener(line, outcome)
        return outcome
