"""A live table of records by key: unchanged rows stay put, changed cells are updated in place, and a
different set or order of rows is rebuilt — so a screen can show a fresh view every poll and pay only
for what changed (the cursor stays on its record across a rebuild)."""
from __future__ import annotations

from collections.abc import Sequence

from textual.widgets import DataTable


class RecordTable(DataTable):
    DEFAULT_CSS = """
    RecordTable { height: 1fr; }
    """

    def __init__(self, columns: Sequence[str], *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=True)
        for label in columns:
            self.add_column(label, key=label)
        self.records: dict[str, dict] = {}
        self._cells: dict[str, tuple] = {}
        self._order: list[str] = []

    def selected_key(self) -> str | None:
        if not self.row_count or self.cursor_row >= self.row_count:
            return None
        return self.coordinate_to_cell_key((self.cursor_row, 0)).row_key.value

    def selected(self) -> dict | None:
        """The record under the cursor."""
        key = self.selected_key()
        return None if key is None else self.records.get(key)

    def show(self, rows: Sequence[tuple[str, dict, tuple]]) -> None:
        """`rows`: (key, record, cells) in display order."""
        keys = [key for key, _, _ in rows]
        if keys != self._order:
            current_key = self.selected_key()
            self.clear()
            for key, _, cells in rows:
                self.add_row(*cells, key=key)
            if current_key in keys:
                self.move_cursor(row=keys.index(current_key), animate=False)
        else:
            columns = self.ordered_columns
            for key, _, cells in rows:
                for index, (before, after) in enumerate(zip(self._cells[key], cells)):
                    if str(before) != str(after):
                        self.update_cell(key, columns[index].key, after)
        self._order = keys
        self._cells = {key: cells for key, _, cells in rows}
        self.records = {key: record for key, record, _ in rows}
