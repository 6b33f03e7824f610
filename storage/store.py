"""The SQLite store: connection settings, loading state at start, committing one command's changes.

Settings, chosen deliberately:
- WAL, so readers (history screens, exports) never block the engine's writer.
- synchronous=FULL: every commit is fsynced before `commit` returns, so what the desk reported as done
  survives a killed process, an OS crash and a power cut alike. It costs about 0.15 ms a command here
  (the 10,000-copier fan-out 468 → 482 ms, replay 12,900 → 12,700 commands/s).
  COPYDESK_SYNCHRONOUS=NORMAL trades that for speed: then a power cut can lose what was committed since
  the last checkpoint (never the file itself); a killed process still loses nothing.
- wal_autocheckpoint=10000 pages (40 MB), not SQLite's 1,000: a checkpoint copies the WAL into the
  database inside whichever commit crosses the limit. Every ~150 small commands (or every fan-out to
  10,000 copiers) at 1,000, it cost a replay a quarter of its time; ten times rarer, the pages written
  over and over (the meta, the journal's tail, the upper index pages) are copied once per checkpoint.
  After large writes a thread checkpoints in the background first (storage.checkpoints), so a fan-out's
  commit does not copy 40 MB every third lead order.
- temp_store=MEMORY: a multi-row upsert (storage.batch) keeps a statement journal, which SQLite spills to a
  temporary file past 64 KiB — one 32-row statement over scattered rows (a liquidation's wallets) passed it,
  and the file made such upserts 60% slower than one row a step. In memory they are as fast as that there
  and 40% faster on a fan-out's wallets (14.5 → 8.5 ms for 10,000). Set after migrations, whose index
  rebuilds may sort more than memory should hold.
- busy_timeout, so a reader holding the file briefly never surfaces "database is locked".
- Autocommit connection: every write transaction is an explicit `BEGIN IMMEDIATE … COMMIT`.
"""
from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from engine.changes import Changes, cells
from engine.restore import ENTITY_TYPES, HISTORY_TYPES, UNREPORTED_TYPES

from .batch import MANY_ROWS, placeholders, rows_per_statement, split_shared, split_shared_flat
from .checkpoints import Checkpointer
from .schema import migrate

WAL_AUTOCHECKPOINT_PAGES = 10_000  # see the settings above

_STATEMENTS: dict[tuple, str] = {}
_NONE: frozenset = frozenset()
_NO_PARTS: dict = {}


def _statement(kind: str, cls: type, shared: dict[int, str] | None = None, count: int = 1,
               columns: tuple[str, ...] = ()) -> str:
    """The statement that saves, appends or deletes rows of `cls`, or, for "update", sets `columns` of rows found
    by key — `count` rows at once but for a delete; `shared` columns are written in as literals (see
    storage.batch). One-row statements without them are made once per table."""
    if not shared and count == 1:
        statement = _STATEMENTS.get((kind, cls, columns))
        if statement is None:
            statement = _STATEMENTS[(kind, cls, columns)] = _build(kind, cls, {}, 1, columns)
        return statement
    return _build(kind, cls, shared or {}, count, columns)


def _build(kind: str, cls: type, shared: dict[int, str], count: int = 1, changed: tuple[str, ...] = ()) -> str:
    table, columns = cls.TABLE, cls.COLUMNS
    if kind == "delete":
        return f"DELETE FROM {table} WHERE " + " AND ".join(
            f"{key} = {value}" for key, value in zip(cls.KEY, placeholders(len(cls.KEY), shared)))
    if kind == "update":  # rows are the changed columns' values, then the key's (columns checked by _update)
        values = placeholders(len(changed) + len(cls.KEY), shared)
        if count == 1:
            return (f"UPDATE {table} SET {', '.join(f'{c} = {v}' for c, v in zip(changed, values))} WHERE "
                    + " AND ".join(f"{k} = {v}" for k, v in zip(cls.KEY, values[len(changed):])))
        rows = ", ".join([f"({', '.join(values)})"] * count)  # VALUES names its columns column1, column2, …
        return (f"UPDATE OR FAIL {table} SET {', '.join(f'{c} = v.column{i}' for i, c in enumerate(changed, 1))} "
                f"FROM (VALUES {rows}) AS v WHERE "
                + " AND ".join(f"{table}.{k} = v.column{i}" for i, k in enumerate(cls.KEY, len(changed) + 1)))
    values = ", ".join([f"({', '.join(placeholders(len(columns), shared))})"] * count)
    statement = f"INSERT OR FAIL INTO {table} ({', '.join(columns)}) VALUES {values}"  # see storage.batch
    if kind == "append":
        return statement
    # An upsert updates a row in place; INSERT OR REPLACE would delete it and insert it again,
    # rewriting its primary-key index entry too (a fan-out saves 10,000 wallets and accounts).
    updates = ", ".join(f"{column} = excluded.{column}" for column in columns if column not in cls.KEY)
    return f"{statement} ON CONFLICT ({', '.join(cls.KEY)}) DO {f'UPDATE SET {updates}' if updates else 'NOTHING'}"


def _write(conn: sqlite3.Connection, kind: str, cls: type, rows: list[tuple], columns: tuple[str, ...] = ()) -> None:
    if kind == "delete" or len(rows) < MANY_ROWS:  # why deletes go one row a step: storage.batch
        shared, rows = split_shared(rows)
        found = conn.executemany(_statement(kind, cls, shared, 1, columns), rows).rowcount
    else:
        found = _write_many(conn, kind, cls, rows, columns)
    if kind == "update" and found != len(rows):  # an update finding no row would lose it
        raise sqlite3.IntegrityError(f"{found} of {len(rows)} {cls.TABLE} rows to update were found")


def _write_many(conn: sqlite3.Connection, kind: str, cls: type, rows: list[tuple], columns: tuple[str, ...]) -> int:
    """Write a large batch many rows a statement (storage.batch); returns how many rows it changed."""
    shared, flat, width = split_shared_flat(rows)
    if not width:  # every column shared: nothing to bind
        return conn.executemany(_statement(kind, cls, shared, 1, columns), [()] * len(rows)).rowcount
    per = rows_per_statement(width)
    step = per * width
    whole = len(flat) - len(flat) % step
    statement = _statement(kind, cls, shared, per, columns)
    found = 0
    for start in range(0, whole, step):
        found += conn.execute(statement, flat[start:start + step]).rowcount
    if whole < len(flat):  # the rest one row a step: preparing a statement for them would cost more
        found += conn.executemany(_statement(kind, cls, shared, 1, columns),
                                  [flat[start:start + width] for start in range(whole, len(flat), width)]).rowcount
    return found


def _update(conn: sqlite3.Connection, cls: type, entities: Mapping, parts: Mapping) -> None:
    """Set just the changed columns of rows saved in part, one statement per set of columns."""
    by_columns: dict[tuple[str, ...], list] = {}
    for key, columns in parts.items():
        keys = by_columns.get(columns)
        if keys is None:
            keys = by_columns[columns] = []
        keys.append(key)
    allowed = getattr(cls, "SAVED_IN_PART", frozenset())
    for columns, keys in by_columns.items():
        if not columns or not allowed.issuperset(columns):  # before reading them off the entities
            unknown = ", ".join(c for c in columns if c not in allowed) or "no column"
            raise ValueError(f"{cls.TABLE}: {unknown} cannot be saved in part (see {cls.__name__}.SAVED_IN_PART)")
        _write(conn, "update", cls, [(*cells(entities[key], columns), *(key if isinstance(key, tuple) else (key,)))
                                     for key in keys], columns)


class StorageError(Exception):
    """A write could not be made durable. Carries a code and a sentence like a rejection."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def describe_sqlite_error(error: sqlite3.Error) -> StorageError:
    text = str(error).lower()
    if "full" in text:
        return StorageError("STORAGE_FULL", "the database or disk is full; nothing was saved. "
                            "Free some space, then try again.")
    if "readonly" in text or "read-only" in text:
        return StorageError("STORAGE_READ_ONLY", "the database file is read-only; nothing was saved. "
                            "Check the file's permissions or open another one with --db.")
    if "locked" in text or "busy" in text:
        return StorageError("STORAGE_BUSY", "the database is busy in another process; nothing was saved.")
    return StorageError("STORAGE_ERROR", f"the database refused the write ({error}); nothing was saved.")


def synchronous_setting() -> str:
    """FULL unless COPYDESK_SYNCHRONOUS asks for NORMAL (see the settings above); anything else is refused
    before the database is touched, rather than silently guessed."""
    given = os.environ.get("COPYDESK_SYNCHRONOUS", "")
    value = given.strip().upper() or "FULL"
    if value not in ("FULL", "NORMAL"):
        raise StorageError("BAD_SETTING", f"COPYDESK_SYNCHRONOUS must be FULL or NORMAL, not {given[:40]!r}; "
                           "unset it to fsync every commit (FULL)")
    return value


class Store:
    def __init__(self, path: Path | str, notice: Callable[[str], None] | None = None) -> None:
        """`notice`: told, before an existing database's schema is upgraded, that it is (see schema.migrate)."""
        self.path = Path(path)
        synchronous = synchronous_setting()
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout = 5000")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal" and str(path) != ":memory:":
            raise StorageError("STORAGE_ERROR", f"could not switch {self.path} to WAL mode (got {mode})")
        conn.execute(f"PRAGMA synchronous = {synchronous}")
        conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES}")
        self.conn = conn
        migrate(conn, notice)
        conn.execute("PRAGMA temp_store = MEMORY")  # after migrating: an index rebuilt there may sort gigabytes
        self._written_meta: dict[str, str] = {}
        full = WAL_AUTOCHECKPOINT_PAGES * conn.execute("PRAGMA page_size").fetchone()[0]
        self._checkpoints = Checkpointer(self.path, full) if str(path) != ":memory:" else None

    def close(self) -> None:
        if self._checkpoints is not None:
            self._checkpoints.close()
        self.conn.close()

    # --- reading -------------------------------------------------------------------------------

    def is_empty(self) -> bool:
        return self.conn.execute("SELECT count(*) FROM meta").fetchone()[0] == 0

    def load_meta(self) -> dict[str, str]:
        meta = {key: value for key, value in self.conn.execute("SELECT key, value FROM meta")}
        self._written_meta = dict(meta)
        return meta

    def load_rows(self, meta: Mapping[str, str]) -> dict[str, list[tuple]]:
        rows: dict[str, list[tuple]] = {}
        for cls in ENTITY_TYPES + HISTORY_TYPES:
            where = cls.load_where(meta) if hasattr(cls, "load_where") else getattr(cls, "LOAD_WHERE", None)
            query = f"SELECT {', '.join(cls.COLUMNS)} FROM {cls.TABLE}" + (f" WHERE {where}" if where else "")
            rows[cls.TABLE] = self.conn.execute(query).fetchall()
        for kind, cls in UNREPORTED_TYPES.items():
            since = int(meta.get(f"reported_{kind}", 0))
            rows[cls.TABLE] = self.conn.execute(
                f"SELECT {', '.join(cls.COLUMNS)} FROM {cls.TABLE} WHERE seq > ? ORDER BY seq", (since,)).fetchall()
        return rows

    def journal(self) -> Iterable[tuple[int, str | None, str, str]]:
        return self.conn.execute("SELECT seq, idem_id, command, status FROM journal ORDER BY seq")

    def known_ids(self) -> set[str]:
        return {row[0] for row in self.conn.execute("SELECT idem_id FROM journal WHERE idem_id IS NOT NULL")}

    # --- writing -------------------------------------------------------------------------------

    def commit(self, changes: Changes, meta: Mapping[str, str], journal: tuple | list[tuple] | None) -> None:
        """Write one command's changes (or a batch's), the meta and the journal line(s) in one
        IMMEDIATE transaction."""
        conn = self.conn
        meta_rows = [(k, v) for k, v in meta.items() if self._written_meta.get(k) != v]
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                for cls, entities in changes.saved.items():
                    new = changes.new.get(cls, _NONE)  # rows the database does not hold yet: plain inserts
                    parts = changes.partial.get(cls, _NO_PARTS)  # rows of which only some columns changed
                    if new:  # all of them, as often as not (a fan-out's copies): then no key is looked up
                        _write(conn, "append", cls, [e.row() for e in entities.values()] if len(new) == len(entities)
                               else [e.row() for key, e in entities.items() if key in new])
                    if len(new) + len(parts) < len(entities):
                        _write(conn, "save", cls, [e.row() for key, e in entities.items()
                                                   if key not in new and key not in parts])
                    if parts:
                        _update(conn, cls, entities, parts)
                for cls, keys in changes.deleted.items():
                    _write(conn, "delete", cls, [k if isinstance(k, tuple) else (k,) for k in keys])
                for cls, records in changes.appended.items():
                    _write(conn, "append", cls, [r.row() for r in records])
                if meta_rows:
                    conn.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", meta_rows)
                if journal:
                    conn.executemany("INSERT INTO journal (idem_id, at_ms, command, status, code) "
                                     "VALUES (?, ?, ?, ?, ?)", journal if isinstance(journal, list) else [journal])
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as error:
            raise describe_sqlite_error(error) from error
        self._written_meta.update(meta_rows)
        if self._checkpoints is not None:
            self._checkpoints.committed(changes.row_count())
