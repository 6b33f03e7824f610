"""Price-level triggers: liquidation prices, resting limits, stops and TP/SL, kept sorted per symbol.

A tick asks only "did the price cross the nearest level?" — O(1) when nothing fires, O(log n) per
level that does — so a price update never scans every position or order.
"""
from __future__ import annotations

from collections.abc import Hashable, Iterable
from decimal import Decimal
from operator import itemgetter

from sortedcontainers import SortedList

UP = 1     # fires when price >= level
DOWN = -1  # fires when price <= level
# Discarded levels are taken out of the sorted lists when those are next read; this many or more at once,
# and a side's list is rebuilt without them in one pass when they are a large share of it (a lead's close
# forgets every copy: one removal each, a binary search and a shift apiece, was 4% of the close).
MANY_GONE = 64


class TriggerBook:
    """Keys at one level fire in an order fixed by the keys (order seqs, position keys), never by when they were
    placed: a restart rebuilds the books in another order, and must fire them the same way."""
    __slots__ = ("_up", "_down", "_where", "_gone")

    def __init__(self) -> None:
        self._up: SortedList = SortedList()     # (level, key), lowest first
        self._down: SortedList = SortedList()   # (level, key), highest fires first
        self._where: dict[Hashable, tuple] = {}
        self._gone: list[tuple] = []            # (direction, entry) discarded, still in the sorted lists

    def __len__(self) -> int:
        return len(self._where)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._where

    def put(self, key: Hashable, level: Decimal | None, direction: int) -> None:
        """Place (or move) `key` at `level`; a level of None removes it."""
        self.discard(key)
        if self._gone:
            self._purge()
        if level is not None:
            entry = (level, key)
            (self._up if direction == UP else self._down).add(entry)
            self._where[key] = (direction, entry)

    def put_many(self, placements: Iterable[tuple[Hashable, Decimal, int]]) -> None:
        """Place many (key, level, direction) at once, a key given twice where its last placement says. A large
        batch (a fan-out's new copies, a book rebuilt at start) is merged into the sorted levels in one sort
        instead of one binary insertion per key."""
        where = self._where
        latest = {key: (level, direction) for key, level, direction in placements}  # as put after put: last wins
        for key in where.keys() & latest.keys():
            self.discard(key)
        if self._gone:
            self._purge()
        # Copies alike share one level object: grouped by it, the batch comes to the sorted lists already in
        # order but for a few groups, so their sort compares a few Decimals instead of n log n of them.
        groups: dict[tuple[int, int], tuple[Decimal, int, list]] = {}
        for key, (level, direction) in latest.items():
            if level is None:
                continue
            group = groups.get((id(level), direction))
            if group is None:
                group = groups[(id(level), direction)] = (level, direction, [])
            group[2].append(key)
        up, down = [], []
        for level, direction, keys in sorted(groups.values(), key=itemgetter(0)):
            keys.sort()
            entries = [(level, key) for key in keys]
            (up if direction == UP else down).extend(entries)
            where.update(zip(keys, [(direction, entry) for entry in entries]))
        self._up.update(up)
        self._down.update(down)

    def discard(self, key: Hashable) -> None:
        found = self._where.pop(key, None)
        if found is not None:
            self._gone.append(found)

    def _purge(self) -> None:
        """Take the discarded entries out of the sorted lists (see MANY_GONE)."""
        gone, self._gone = self._gone, []
        for direction in (UP, DOWN):
            entries = [entry for side, entry in gone if side == direction]
            levels = self._up if direction == UP else self._down
            if len(entries) < MANY_GONE or len(entries) * 4 < len(levels):
                for entry in entries:
                    levels.remove(entry)
            elif entries:
                kept = SortedList()
                if len(entries) < len(levels):  # else every entry went (each is discarded once): a lead's close
                    # The very tuples the lists hold, so found by identity: hashing their Decimal levels is dear.
                    drop = {id(entry) for entry in entries}
                    kept.update(entry for entry in levels if id(entry) not in drop)  # already in order: one pass
                if direction == UP:
                    self._up = kept
                else:
                    self._down = kept

    def level(self, key: Hashable) -> Decimal | None:
        found = self._where.get(key)
        return None if found is None else found[1][0]

    def fired(self, price: Decimal) -> list[Hashable]:
        """Remove and return every key whose level the price has reached, in firing order."""
        if self._gone:
            self._purge()
        keys = []
        up, down = self._up, self._down
        while up and up[0][0] <= price:
            entry = up.pop(0)
            del self._where[entry[1]]
            keys.append(entry[1])
        while down and down[-1][0] >= price:
            entry = down.pop()
            del self._where[entry[1]]
            keys.append(entry[1])
        return keys
