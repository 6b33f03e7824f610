"""Price-level triggers: liquidation prices, resting limits, stops and TP/SL, kept sorted per symbol.

A tick asks only "did the price cross the nearest level?" — O(1) when nothing fires, O(log n) per
level that does — so a price update never scans every position or order.

The sorted lists hold distinct levels, each with the set of keys placed there: a fan-out's copies share a
few levels, so placing 10,000 of them adds a few levels and fills a few sets, and a lead's close empties
those sets, rather than sorting and removing 10,000 (level, key) entries.
"""
from __future__ import annotations

from collections.abc import Hashable, Iterable
from decimal import Decimal

from sortedcontainers import SortedList

UP = 1     # fires when price >= level
DOWN = -1  # fires when price <= level


class Level:
    """The keys placed at one price, firing in one direction."""
    __slots__ = ("price", "direction", "keys")

    def __init__(self, price: Decimal, direction: int) -> None:
        self.price, self.direction = price, direction
        self.keys: set[Hashable] = set()


class TriggerBook:
    """Keys at one level fire in an order fixed by the keys (order seqs, position keys), never by when they were
    placed: a restart rebuilds the books in another order, and must fire them the same way. Up levels fire
    lowest first, keys ascending; down levels highest first, keys descending."""
    __slots__ = ("_up", "_down", "_levels", "_where")

    def __init__(self) -> None:
        self._up: SortedList = SortedList()     # prices of the up levels, lowest first
        self._down: SortedList = SortedList()   # prices of the down levels, the highest (first to fire) last
        self._levels: dict[tuple[int, Decimal], Level] = {}
        self._where: dict[Hashable, Level] = {}

    def __len__(self) -> int:
        return len(self._where)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._where

    def put(self, key: Hashable, level: Decimal | None, direction: int) -> None:
        """Place (or move) `key` at `level`; a level of None removes it."""
        self.discard(key)
        if level is not None:
            found = self._level(level, direction)
            found.keys.add(key)
            self._where[key] = found

    def put_many(self, placements: Iterable[tuple[Hashable, Decimal | None, int]]) -> None:
        """Place many (key, level, direction) at once, a key given twice where its last placement says."""
        where = self._where
        latest = {key: (level, direction) for key, level, direction in placements}  # as put after put: last wins
        for key in where.keys() & latest.keys():
            self.discard(key)
        # Copies alike share one level object: grouped by its identity, a level's value is hashed once a group.
        groups: dict[tuple[int, int], tuple[Decimal, int, list]] = {}
        for key, (level, direction) in latest.items():
            if level is None:
                continue
            group = groups.get((id(level), direction))
            if group is None:
                group = groups[(id(level), direction)] = (level, direction, [])
            group[2].append(key)
        made: dict[int, list[Decimal]] = {UP: [], DOWN: []}
        for level, direction, keys in groups.values():
            found = self._level(level, direction, made)
            found.keys.update(keys)
            where.update(dict.fromkeys(keys, found))
        for direction, prices in made.items():
            self._prices(direction).update(prices)

    def discard(self, key: Hashable) -> None:
        found = self._where.pop(key, None)
        if found is not None:
            keys = found.keys
            keys.discard(key)
            if not keys:
                del self._levels[(found.direction, found.price)]
                self._prices(found.direction).remove(found.price)

    def _level(self, price: Decimal, direction: int, made: dict[int, list[Decimal]] | None = None) -> Level:
        """The level at `price`, made if there is none: added to its sorted list, or with `made`, to
        `made[direction]` for the caller to merge into the list in one step (a start places every position)."""
        found = self._levels.get((direction, price))
        if found is None:
            found = self._levels[(direction, price)] = Level(price, direction)
            if made is None:
                self._prices(direction).add(price)
            else:
                made[direction].append(price)
        return found

    def _prices(self, direction: int) -> SortedList:
        return self._up if direction == UP else self._down

    def level(self, key: Hashable) -> Decimal | None:
        found = self._where.get(key)
        return None if found is None else found.price

    def fired(self, price: Decimal) -> list[Hashable]:
        """Remove and return every key whose level the price has reached, in firing order."""
        keys: list[Hashable] = []
        up, down = self._up, self._down
        while up and up[0] <= price:
            keys += self._take(UP, up.pop(0))
        while down and down[-1] >= price:
            keys += self._take(DOWN, down.pop())
        return keys

    def _take(self, direction: int, price: Decimal) -> list[Hashable]:
        """A level's keys in firing order, out of the book."""
        keys = self._levels.pop((direction, price)).keys
        where = self._where
        for key in keys:
            del where[key]
        return sorted(keys, reverse=direction == DOWN)
