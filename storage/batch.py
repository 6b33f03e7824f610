"""Large batches: bind only what varies, and write many rows per statement.

A fan-out writes thousands of rows of a table that share most of their values: the time, the lead, the
lead order, the symbol, the kind, the NULLs. Python's sqlite3 binds every parameter of every row — about
0.1 µs each, 0.3 µs for a None (it goes through the adapter lookup) — which is half of what writing the
rows costs. In a batch of at least `MANY_ROWS` rows, a column holding one value in every row is written
into the statement once, as an SQL literal, and only the other columns are bound.

Such a batch is then written `rows_per_statement` rows at a time, in one multi-row `INSERT OR FAIL … VALUES
(…), (…)`: `executemany` steps and resets its statement once per row, and that round trip is about a third
of a fan-out's SQL. `OR FAIL`, because a plain INSERT of several rows must be able to undo itself alone if
row 200 breaks a constraint, so SQLite copies every page the statement touches into a statement journal
first: with it, a fan-out's rows were faster but a liquidation's (scattered over large tables) 30% slower,
and replay 6% slower. Without it the whole table of figures moves one way (in isolation, the 10,000-copier
fan-out's SQL 134 → 93 ms, its close's 213 → 185, a liquidation's 67 → 65). Nothing is lost by it: a failed
statement fails the commit, which rolls the whole transaction back.

Deletes stay one row per step (`WHERE (key) IN (VALUES …)` was 2.5 times slower than probing the primary
key row by row), and smaller batches keep their one cached statement per table.
"""
from __future__ import annotations

from collections.abc import Sequence

MANY_ROWS = 64
# SQLite's smallest limit on parameters in one statement (builds before 3.32); 256 rows is already a
# statement of ~10 KB, and larger ones were no faster.
MAX_PARAMETERS = 999
MAX_ROWS_PER_STATEMENT = 256
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
    if count < MANY_ROWS:
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


def rows_per_statement(width: int) -> int:
    """How many rows of `width` bound columns one multi-row statement takes."""
    return max(1, min(MAX_ROWS_PER_STATEMENT, MAX_PARAMETERS // max(1, width)))
