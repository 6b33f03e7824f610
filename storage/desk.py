"""The desk: an engine bound to its database — the unit of work around every command.

`execute(line)` parses a command line, applies it to the in-memory engine, and commits everything
the command changed, with its journal line, in one `BEGIN IMMEDIATE` transaction. If the commit
fails, or the engine raises unexpectedly, the engine is rebuilt from the database so memory never
holds state the database does not have.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.commands import Envelope, parse_line
from engine.config import EngineConfig
from engine.errors import Rejected
from engine.exchange import Exchange
from engine.restore import restore_exchange

from .lock import DatabaseInUse, ProcessLock
from .schema import SchemaTooNew
from .store import StorageError, Store, describe_sqlite_error

__all__ = ["Desk", "Outcome", "DatabaseInUse", "StorageError"]


@dataclass(slots=True)
class Outcome:
    """What became of one command line."""
    accepted: bool
    result: Any = None
    code: str | None = None
    message: str | None = None
    duplicate: bool = False
    events: list = field(default_factory=list)
    envelope: Envelope | None = None


# One encoder for every journal line: `json.dumps` with options builds a new one per call, a quarter of
# what encoding a command line costs.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical(line: dict) -> str:
    return _CANONICAL.encode(line)


class Desk:
    def __init__(self, store: Store, exchange: Exchange, lock: ProcessLock | None) -> None:
        self.store = store
        self.exchange = exchange
        self._lock = lock
        self._seen_ids = store.known_ids()

    @classmethod
    def open(cls, path: Path | str, config: EngineConfig | None = None, *, lock: bool = True,
             start_ms: int | None = None, notice: Callable[[str], None] | None = None) -> "Desk":
        """Open (creating if needed) the database at `path` and load the engine's state from it.
        A new database starts its engine clock at `start_ms` (default: the scenario epoch); `notice` hears
        of a schema upgrade before it runs."""
        path = Path(path)
        process_lock = ProcessLock(path) if lock else None
        if process_lock:
            try:
                process_lock.acquire()
            except OSError as error:  # no such folder, a name too long, not allowed
                raise StorageError("STORAGE_ERROR", f"cannot open {path}: {error.strerror or error}") from None
        try:
            store = Store(path, notice)
            if store.is_empty():
                exchange = Exchange(config) if start_ms is None else Exchange(config, start_ms)
                store.commit(exchange.changes, exchange.meta(), None)
                exchange.changes.clear()
            else:
                exchange = cls._load(store)
        except BaseException as error:
            if process_lock:
                process_lock.release()
            if isinstance(error, (sqlite3.Error, SchemaTooNew)):
                raise _open_error(path, error) from error
            raise
        return cls(store, exchange, process_lock)

    @staticmethod
    def _load(store: Store) -> Exchange:
        meta = store.load_meta()
        return restore_exchange(meta, store.load_rows(meta))

    def reload(self) -> None:
        self.exchange = self._load(self.store)

    def close(self) -> None:
        self.store.close()
        if self._lock:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> "Desk":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- commands ------------------------------------------------------------------------------

    def execute(self, line: dict) -> Outcome:
        """Run one line in its own transaction."""
        journal: list[tuple] = []
        applied: set[str] = set()
        try:
            outcome = self._apply(line, journal, applied)
            if journal:
                self._commit(journal)
        except StorageError as error:
            self.reload()
            return Outcome(False, code=error.code, message=error.message, envelope=outcome.envelope)
        except BaseException:
            self.reload()
            raise
        self._seen_ids |= applied
        return outcome

    def execute_many(self, lines: list[dict]) -> list[Outcome]:
        """Run lines as one group commit: each line is applied exactly as `execute` would apply it (a rejected
        line changes nothing but the time it carried), and the group commits in one transaction.

        Why: a transaction costs ~40 µs however little it writes, more than most commands; a scenario replay
        or a seeded world commits in groups. A group that cannot be written fails whole (every line gets the
        storage error, memory is rebuilt from the file). If the engine raises unexpectedly, the lines run again
        one transaction each, so every line before the failing one is kept and the error surfaces at its line."""
        journal: list[tuple] = []
        applied: set[str] = set()
        try:
            outcomes = [self._apply(line, journal, applied) for line in lines]
            if journal:
                self._commit(journal)
        except StorageError as error:
            self.reload()
            return [Outcome(False, code=error.code, message=error.message) for _ in lines]
        except BaseException:
            self.reload()
            return [self.execute(line) for line in lines]
        self._seen_ids |= applied
        return outcomes

    def _apply(self, line: dict, journal: list[tuple], applied: set[str]) -> Outcome:
        """Apply one line to the engine, adding its journal row (if it leaves a trace) to `journal` and its
        idempotency id to `applied` (ids count as seen once committed)."""
        try:
            envelope = parse_line(line)
        except Rejected as rejection:
            return Outcome(False, code=rejection.code, message=rejection.message)
        idem = envelope.idem_id
        if idem is not None and (idem in self._seen_ids or idem in applied):
            return Outcome(True, duplicate=True, envelope=envelope,
                           message=f"id {idem!r} was applied before; nothing done again")
        exchange = self.exchange
        before_ms, before_writes = exchange.now_ms, exchange.changes.writes
        try:
            result = exchange.execute(envelope)
        except Rejected as rejection:
            # Time that passed before the rejection (the line's `at`) stays passed.
            if exchange.now_ms != before_ms or exchange.changes.writes != before_writes:
                journal.append((None, exchange.now_ms, canonical(envelope.line), "rejected", rejection.code))
            exchange.take_events()
            return Outcome(False, code=rejection.code, message=rejection.message, envelope=envelope)
        journal.append((idem, exchange.now_ms, canonical(envelope.line), "accepted", None))
        if idem is not None:
            applied.add(idem)
        return Outcome(True, result=result, events=exchange.take_events(), envelope=envelope)

    def _commit(self, journal: list[tuple]) -> None:
        exchange = self.exchange
        self.store.commit(exchange.changes, exchange.meta(), journal)
        exchange.changes.clear()

    def state_hash(self) -> str:
        return self.exchange.state_hash()


def _open_error(path: Path, error: Exception) -> StorageError:
    """Why a database file could not be opened, as a sentence (a directory, not a database, too new)."""
    if isinstance(error, SchemaTooNew):
        return StorageError("STORAGE_ERROR", str(error))
    described = describe_sqlite_error(error)
    if described.code != "STORAGE_ERROR":
        return described
    if "not a database" in str(error):
        return StorageError("STORAGE_ERROR", f"{path} is not a Copydesk database ({error}); pick another file "
                                             "with --db")
    return StorageError("STORAGE_ERROR", f"cannot open {path} ({error}); check the path, or pick another file "
                                         "with --db")


def replay_journal(source: Store, target_path: Path | str, config: EngineConfig | None = None) -> Desk:
    """Re-run every journaled line into a fresh database: the same lines must give the same state."""
    desk = Desk.open(target_path, config, lock=False)
    for _seq, _idem, command, _status in list(source.journal()):
        desk.execute(json.loads(command))
    return desk
