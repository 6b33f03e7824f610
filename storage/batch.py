"""Large batches: bind only what varies, and write many rows per statement.

A fan-out writes thousands of rows of a table that share most of their values: the time, the lead, the
lead order, the symbol, the kind, the NULLs. Python's sqlite3 binds every parameter of every row — about
0.1 µs each, 0.3 µs for a None (it goes through the adapter lookup) — which is half of what writing the
rows costs. In a batch of at least `MANY_ROWS` rows, a column holding one value in every row is written
into the statement once, as an SQL literal, and only the other columns are bound.

Appended rows (ledger entries, fills, outcomes: new rows at the end of their tables), saved ones (upserts:
wallets, positions) and updated ones (a copy order closing, a follow's PnL) are then written
`rows_per_statement` at a time — in one `INSERT OR FAIL … VALUES (…), (…)`, or `UPDATE OR FAIL … FROM (VALUES
(…), (…))` joined on the key — the rest one row a step: `executemany` steps and resets its statement once
per row, a third of what an appended row costs.
- `OR FAIL`: a plain multi-row INSERT or UPDATE must be able to undo itself alone should its 20th row break
  a constraint, so SQLite copies every page it touches into a statement journal first, which made it slower
  than `executemany` for rows scattered over large tables (a liquidation's). `OR FAIL` keeps no such
  journal, and loses nothing here: a failed statement fails the commit, which rolls the whole
  transaction back. (An update that finds fewer rows than it was given fails the commit too: storage.store.)
- 32 rows: a statement is prepared once per commit (its literals change), at about 2.5 µs a row of it,
  so a short one pays off within a batch of 64.
- An upsert's `DO UPDATE` keeps the statement journal whatever the INSERT says: with it spilled to a file, a
  liquidation's scattered upserts were 40–70% slower many rows at a time, so the store keeps temporary files
  in memory (storage.store). Then they cost what one row a step did, and a fan-out's 10,000 wallets 40% less.
- Updates many a statement: a lead's close sets 10,000 copy orders 22.8 → 14.5 ms and follows 17.1 → 12.3;
  a liquidation's 1,043 scattered ones 8.6–9.8 → 8.0 ms and 6.9–9.7 → 7.8.
- Deletes stay one row a step: `WHERE (key) IN (VALUES …)` scans the table.

Measured in isolation on the bench's rows: the SQL of a 10,000-copier fan-out 134 → 115 ms, of its close
213 → 188 ms, of a 1,000-copier fan-out 9.9 → 8.2 ms and of a 1% liquidation 67 → 63 ms.
"""
from __future__ import annotations

from collections.abc import Sequence

MANY_ROWS = 64
MAX_PARAMETERS = 999  # SQLite's smallest limit on parameters in one statement (builds before 3.32)
MAX_ROWS_PER_STATEMENT = 32  # see above
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
    if len(rows) < MANY_ROWS:
        return {}, rows
    columns = list(zip(*rows))
    shared = _shared(columns, len(rows))
    if not shared:
        return {}, rows
    varying = [column for index, column in enumerate(columns) if index not in shared]
    return shared, list(zip(*varying)) if varying else [()] * len(rows)


def split_shared_flat(rows: Sequence[tuple]) -> tuple[dict[int, str], list, int]:
    """`split_shared` for a multi-row statement: the other columns' values row after row in one list, and how
    many a row has. Laid out column by column, not zipped back into rows and chained again per statement:
    that took as long as finding the shared columns (a 10,000-copier fan-out's appends 26 → 16 ms)."""
    count = len(rows)
    columns = list(zip(*rows))
    shared = _shared(columns, count) if count >= MANY_ROWS else {}
    varying = [column for index, column in enumerate(columns) if index not in shared]
    width = len(varying)
    flat: list = [None] * (count * width)
    for offset, column in enumerate(varying):
        flat[offset::width] = column
    return shared, flat, width


def _shared(columns: list[tuple], count: int) -> dict[int, str]:
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
    return shared


def placeholders(width: int, shared: dict[int, str]) -> list[str]:
    """What stands for each column in the statement: its literal if shared, else a parameter."""
    return [shared.get(index, "?") for index in range(width)]


def rows_per_statement(width: int) -> int:
    """How many rows of `width` bound columns one multi-row statement takes."""
    return max(1, min(MAX_ROWS_PER_STATEMENT, MAX_PARAMETERS // max(1, width)))
