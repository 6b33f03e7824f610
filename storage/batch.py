"""Large batches bind only what varies.

A fan-out writes thousands of rows of a table that share most of their values: the time, the lead, the
lead order, the symbol, the kind, the NULLs. Python's sqlite3 binds every parameter of every row — about
0.1 µs each, 0.3 µs for a None (it goes through the adapter lookup) — which is half of what writing the
rows costs. In a batch of at least `SHARED_MIN_ROWS` rows, a column holding one value in every row is
written into the statement once, as an SQL literal, and only the other columns are bound. Smaller
batches keep their one cached statement per table.
"""
from __future__ import annotations

from collections.abc import Sequence

SHARED_MIN_ROWS = 64
_INT64 = range(-2**63, 2**63)


def literal(value: object) -> str | None:
    """`value` as an SQL literal that stores exactly what binding it would, or None if it must be bound."""
    if value is None:
        return "NULL"
    kind = type(value)
    if kind is int:  # not bool, and never one that binding would refuse (an integer literal beyond 64 bits is REAL)
        return str(value) if value in _INT64 else None
    if kind is str and "\0" not in value:  # sqlite3 refuses statements with a NUL in them
        return "'" + value.replace("'", "''") + "'"
    return None


def split_shared(rows: Sequence[tuple]) -> tuple[dict[int, str], Sequence[tuple]]:
    """The columns every row agrees on, as {index: literal}, and the rows cut down to the other columns."""
    count = len(rows)
    if count < SHARED_MIN_ROWS:
        return {}, rows
    columns = list(zip(*rows))
    shared = {}
    for index, column in enumerate(columns):
        first = column[0]
        # Two looks reject a varying column at once; `count` then confirms the rest.
        if column[-1] == first and column[count // 2] == first and column.count(first) == count:
            # Equal is not the same for an int: 1 == True == 1.0, and a float binds as a REAL.
            if type(first) is int and set(map(type, column)) != {int}:
                continue
            text = literal(first)
            if text is not None:
                shared[index] = text
    if not shared:
        return {}, rows
    varying = [column for index, column in enumerate(columns) if index not in shared]
    return shared, list(zip(*varying)) if varying else [()] * count


def placeholders(width: int, shared: dict[int, str]) -> list[str]:
    """What stands for each column in the statement: its literal if shared, else a parameter."""
    return [shared.get(index, "?") for index in range(width)]
