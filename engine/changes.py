"""The unit of work's write set: what one command changed, for storage to commit in one transaction.

Entities are recorded by reference and turned into rows only at commit time, so an entity touched
many times within a command is written once, in its final state. An entity made in this write set
(a position opened, a copy order) is `insert`ed: written as a plain insert, which storage batches many
rows a statement, rather than as an upsert. A save may name the only columns it changed (a copy order
closing, a follow's PnL): storage then updates just those, where rewriting a wide row — binding each of
its columns, its NULLs dearest, and keeping its indexes — cost several times as much. Append-only records
(ledger entries, outcomes, notifications) are kept as ready rows. Tables are written in batches.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar, Protocol

from .money import to_units


class Entity(Protocol):
    TABLE: ClassVar[str]
    COLUMNS: ClassVar[tuple[str, ...]]
    KEY: ClassVar[tuple[str, ...]]

    def key(self) -> Any: ...
    def row(self) -> tuple: ...


class Record(Protocol):
    TABLE: ClassVar[str]
    COLUMNS: ClassVar[tuple[str, ...]]

    def row(self) -> tuple: ...


def cells(entity: Entity, columns: tuple[str, ...]) -> list:
    """The stored values of some of `entity`'s columns, as its `row()` has them: amounts in integer units,
    flags as 0/1. Only for the columns its type lets be saved in part (`SAVED_IN_PART`, which a test holds
    to `row()`)."""
    values = []
    for column in columns:
        value = getattr(entity, column)
        kind = type(value)
        if kind is Decimal:
            value = to_units(value)
        elif kind is bool:
            value = int(value)
        elif value is not None and kind is not int and kind is not str:
            raise TypeError(f"{type(entity).__name__}.{column} ({kind.__name__}) is saved only in a whole row")
        values.append(value)
    return values


class Changes:
    __slots__ = ("saved", "new", "partial", "deleted", "appended", "touched", "writes")

    def __init__(self) -> None:
        self.saved: dict[type, dict[Any, Entity]] = {}
        self.new: dict[type, set[Any]] = {}  # keys of saved entities the database does not hold yet
        # Saved entities of which only these columns changed in this write set (in the order of COLUMNS).
        self.partial: dict[type, dict[Any, tuple[str, ...]]] = {}
        self.deleted: dict[type, set[Any]] = {}
        self.appended: dict[type, list[Record]] = {}
        # Ledger accounts whose wallet, positions or orders changed since the risk index last looked
        # (drained by it, so a batch of commands never rescans what it already priced).
        self.touched: set[str] = set()
        # How many writes were ever recorded: whether a command wrote anything, within a group of commands.
        self.writes = 0

    def save(self, entity: Entity, columns: tuple[str, ...] | None = None) -> None:
        """Write `entity` at commit, in its state then. `columns`: the only ones this change touched, for an
        entity the database already holds (every column its caller assigns, or an assignment is lost)."""
        self._save(type(entity), entity.key(), entity, columns)

    def insert(self, entity: Entity) -> None:
        """Save an entity just made. One made again under a key deleted in this same write set (a position
        closed and reopened) still has its old row until the commit, so that row is updated instead."""
        cls, key = type(entity), entity.key()
        gone = self.deleted.get(cls) if self.deleted else None
        if not gone or key not in gone:
            new = self.new.get(cls)
            if new is None:
                new = self.new[cls] = set()
            new.add(key)
        self._save(cls, key, entity, None)

    def insert_many(self, entities: list) -> None:
        """`insert` each of `entities`, all new and of one type, in order: a fan-out's positions, in one step."""
        self._save_many(entities, True)

    def save_many(self, entities: list) -> None:
        """`save` each of `entities`, all of one type, whole, in order: a fan-out's wallets, in one step."""
        self._save_many(entities, False)

    def _save_many(self, entities: list, new: bool) -> None:
        if not entities:
            return
        cls = type(entities[0])
        if (self.partial and self.partial.get(cls)) or (self.deleted and self.deleted.get(cls)):
            for entity in entities:  # keys with earlier changes in this write set: one by one, as marked
                (self.insert if new else self.save)(entity)
            return
        keys = [entity.key() for entity in entities]
        saved = self.saved.get(cls)
        if saved is None:
            saved = self.saved[cls] = {}
        saved.update(zip(keys, entities))
        if new:
            known = self.new.get(cls)
            if known is None:
                known = self.new[cls] = set()
            known.update(keys)
        if hasattr(cls, "account"):
            self.touched.update([entity.account for entity in entities])
            self.touched.discard(None)
        self.writes += len(entities)

    def _save(self, cls: type, key: Any, entity: Entity, columns: tuple[str, ...] | None) -> None:
        saved = self.saved.get(cls)
        if saved is None:
            saved = self.saved[cls] = {}
        if columns is not None or self.partial or self.deleted:  # else a whole save is all there is to it
            self._mark(cls, key, saved, columns)
        saved[key] = entity
        account = getattr(entity, "account", None)
        if account is not None:
            self.touched.add(account)
        self.writes += 1

    def _mark(self, cls: type, key: Any, saved: dict, columns: tuple[str, ...] | None) -> None:
        """Keep track of which columns of an entity changed, and undo an earlier delete of its key."""
        partial = self.partial.get(cls) if self.partial else None
        if columns is None:
            if partial:
                partial.pop(key, None)
        elif key not in saved:
            gone = self.deleted.get(cls) if self.deleted else None
            if not gone or key not in gone:  # a key deleted in this write set has no row left to update
                if partial is None:
                    partial = self.partial[cls] = {}
                partial[key] = columns
        elif partial and key in partial:  # saved in part before: both parts (else it is saved whole already)
            known = partial[key]
            if known != columns:
                partial[key] = tuple(c for c in cls.COLUMNS if c in known or c in columns)
        if self.deleted:
            gone = self.deleted.get(cls)
            if gone:
                gone.discard(key)

    def delete(self, entity: Entity) -> None:
        cls = type(entity)
        key = entity.key()
        saved = self.saved.get(cls)
        if saved:
            saved.pop(key, None)
        new = self.new.get(cls)
        if new:
            new.discard(key)
        partial = self.partial.get(cls)
        if partial:
            partial.pop(key, None)
        self.deleted.setdefault(cls, set()).add(key)
        account = getattr(entity, "account", None)
        if account is not None:
            self.touched.add(account)
        self.writes += 1

    def append(self, record: Record) -> None:
        records = self.appended.get(type(record))
        if records is None:
            records = self.appended[type(record)] = []
        records.append(record)
        self.writes += 1

    def append_many(self, records: list) -> None:
        """`append` each of `records`, all of one type, in order."""
        if not records:
            return
        cls = type(records[0])
        appended = self.appended.get(cls)
        if appended is None:
            self.appended[cls] = list(records)
        else:
            appended.extend(records)
        self.writes += len(records)

    def clear(self) -> None:
        self.saved.clear()
        self.new.clear()
        self.partial.clear()
        self.deleted.clear()
        self.appended.clear()
        self.touched.clear()

    def __bool__(self) -> bool:
        return bool(self.saved or self.deleted or self.appended)

    def row_count(self) -> int:
        """How many rows the write set holds: saved, deleted and appended (what storage times its checkpoints by)."""
        return (sum(map(len, self.saved.values())) + sum(map(len, self.deleted.values()))
                + sum(map(len, self.appended.values())))
